"""Data: the datamodules (each dataset decoded once into a uint8 tensor), the `Batches` slicer, the shapes.

May import: the root modules (errors). Imports no model, measure or run code.
"""
