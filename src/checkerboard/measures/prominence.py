"""The checkerboard score (how far an image's spectrum stands out at the artifact frequencies) and amplitude.

A decoder of total stride ``P`` (``P = 2**depth`` for ``depth`` x2 stages) leaves its artifacts at
the frequencies ``k / P`` cycles per pixel: in an ``H x W`` DFT, the lattice bins
``l = (a H / P, b W / P)`` for ``a, b = 0 .. P - 1`` other than ``(0, 0)``. A natural image has a
smooth spectrum there; a periodic pattern puts a spike on it. The score compares each lattice bin
with its own neighbourhood, so it reads "spike", not "how much high frequency".

Per image ``x`` (``C x H x W``; sides that are not multiples of ``P`` are first cropped to the
largest multiple, so that every lattice frequency is a whole bin):

1. ``s = g * x``, with ``g`` the separable circular filter ``[1/2, 1, ..., 1, 1/2] / P``
   (``P + 1`` taps). Its response is 0 at every lattice frequency but 0, so ``s`` holds none of a
   period-``P`` pattern, and the residual ``r = x - s`` holds all of it.
2. ``w = 1 / (1 + (|grad s| / (0.1 range(x)))**2)``, with ``|grad s|`` the RMS over channels of the
   central-difference gradient. It is about 1 on flat ground and smooth gradients and falls
   towards 0 at edges: an edge has energy at every frequency, the lattice ones included, and is
   where the eye sees a checkerboard least. Since ``s`` is free of the pattern, so is ``w``.
3. ``S(u, v) = mean_c |DFT(per(w r))(u, v)|**2``, with ``per`` the periodic component of
   Moisan's periodic + smooth decomposition (J. Math. Imaging Vis., 2011). The DFT reads the image
   as periodic, and the jumps between opposite borders put a cross of energy along both frequency
   axes, through lattice bins; the decomposition takes it off.
4. Prominence ``R(l) = S(l) / B(l)`` with baseline ``B(l) = max(median of S over the 24 bins
   within Chebyshev distance 2 of l, mean of S over the 4 bins at distance 1 and 2 along l's row,
   the same along l's column)``. The row and column terms keep a ridge of energy through ``l``
   (an axis-aligned edge, a blurred border) from counting as a spike. With ``H, W >= 3 P`` no
   other lattice bin lies in these neighbourhoods, and a pattern that is periodic on the image
   puts its energy on the lattice bins alone.
5. Without target: ``score = mean_l R(l)`` over the ``P**2 - 1`` lattice bins, about 1 for a clean
   image. With target: ``score = mean_l R_output(l) - mean_l R_target(l)``: the output's lattice
   prominence beyond the target's own, exactly 0 for ``output == target``, negative when the
   output is smoother at the lattice than the target. Not the prominence of the error
   ``output - target``: early in training the error is mostly the output's mismatch, whose
   broadband spectrum hides the lattice spikes the output itself shows.

Every term is a ratio of powers of one image, so a contrast scaling cancels; ``r`` ignores a
brightness offset. The score measures a pattern of fixed sign across the image; a tconv whose
input is zero-mean noise leaves a checkerboard in the variance of each phase (1:2:2:4 for k=3,
s=2), which no power spectrum shows as a spike.

:func:`checkerboard_amplitude` measures the same artifacts in grey levels instead: the RMS
amplitude of the fixed period-``P`` pattern the output adds beyond the target, estimated per tile,
which does not grow with image size, counts a pattern confined to part of the image, and reports
the output's lack of lattice content (the dip resize decoders leave) apart, as ``deficit``. Its
docstring gives the formula.
"""

from __future__ import annotations

import torch
from torchmetrics import Metric

from checkerboard.measures.lattice import (
    check_lattice_size,
    edge_weight,
    lattice_bins,
    lattice_free,
    periodic_spectrum,
)


def lattice_prominence(x: torch.Tensor, period: int) -> torch.Tensor:
    """(N, C, H, W) float, sides multiples of P -> (N,) mean over the lattice bins of S(l) / B(l)."""
    smooth = lattice_free(x, period)
    spec = periodic_spectrum(edge_weight(x, smooth) * (x - smooth))

    h, w = spec.shape[-2:]
    bins = lattice_bins(h, w, period).to(spec.device)
    size = torch.tensor([h, w], device=spec.device)

    def around(offsets: list[tuple[int, int]]) -> torch.Tensor:  # (N, L, len(offsets))
        idx = (bins[:, None, :] + torch.tensor(offsets, device=spec.device)) % size  # the DFT is periodic
        return spec[:, idx[..., 0], idx[..., 1]]

    steps = (-2, -1, 1, 2)
    ring = around([(a, b) for a in range(-2, 3) for b in range(-2, 3) if (a, b) != (0, 0)]).median(dim=-1).values
    ridge = torch.maximum(around([(0, d) for d in steps]).mean(dim=-1), around([(d, 0) for d in steps]).mean(dim=-1))
    baseline = torch.maximum(ring, ridge).clamp_min(torch.finfo(spec.dtype).tiny)
    return (spec[:, bins[:, 0], bins[:, 1]] / baseline).mean(dim=-1)


def checkerboard_score(output: torch.Tensor, target: torch.Tensor | None = None, period: int = 2) -> torch.Tensor:
    """(N,) scores of ``output`` (N, C, H, W); higher means more checkerboard. Formula: module docstring.

    Without ``target``: the mean lattice prominence, about 1 for a clean image (0.3 to 4 on the
    shapes data at period 2), in the tens and more for a visible checkerboard. With ``target``: the
    output's mean lattice prominence minus the target's, 0 when they are equal. Any float dtype
    and device; computed in float32.
    """
    if output.ndim != 4:
        raise ValueError(f"expected images of shape (N, C, H, W), got {tuple(output.shape)}")
    if target is not None and target.shape != output.shape:
        raise ValueError(f"output {tuple(output.shape)} and target {tuple(target.shape)} differ in shape")
    h, w = output.shape[-2:]
    check_lattice_size(h, w, period)
    h, w = h - h % period, w - w % period  # whole periods only: the lattice then falls on whole bins

    def prominence(x: torch.Tensor) -> torch.Tensor:
        return lattice_prominence(x[..., :h, :w].float(), period)

    score = prominence(output)
    return score if target is None else score - prominence(target)


class CheckerboardScore(Metric):
    """Mean of :func:`checkerboard_score` over every image seen since the last reset."""

    higher_is_better = False
    full_state_update = False

    def __init__(self, period: int = 2, **kwargs) -> None:
        super().__init__(**kwargs)
        self.period = period
        self.add_state("total", default=torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("count", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, target: torch.Tensor | None = None) -> None:
        scores = checkerboard_score(preds, target, self.period)
        self.total += scores.sum()
        self.count += scores.numel()

    def compute(self) -> torch.Tensor:
        return self.total / self.count
