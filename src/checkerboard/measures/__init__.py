"""Measures: what is measured, as functions of image tensors and torchmetrics `Metric`s.

`keys` names every tag once (heading, unit, summary, chart); `lattice` holds the artifact frequencies
and spectrum helpers; `prominence` and `amplitude` read the checkerboard; `spectra` compares spectra
with real images. May import: the root modules. Imports no model, data or run code.
"""
