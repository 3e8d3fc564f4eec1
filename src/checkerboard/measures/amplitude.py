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

from checkerboard.measures.lattice import edge_weight, lattice_free

# Tile side of checkerboard_amplitude, in pixels (at least 3 periods): a quarter of a 32 px image
# fills a whole tile, and a tile holds enough pixels of each phase at P = 2 and 4 for the noise floor
# of the strongest tiles to stay under a fifth of white noise's standard deviation (tests).
AMPLITUDE_TILE = 16


AMPLITUDE_PARTS = ("amplitude", "period2", "finer", "deficit")


def min_image_size(period: int) -> int:
    """The smallest side, in pixels, on which both measures work at ``period``: the score needs 3 P
    (free neighbourhoods around each lattice bin), the amplitude two overlapping tiles."""
    return max(3 * period, (max(-(-AMPLITUDE_TILE // period), 3) + 1) * period)


def _tile_cover(n: int, size: int, device: torch.device) -> torch.Tensor:
    """(tiles, n) 0/1: which of ``n`` periods each tile of ``size`` periods covers; stride ``size // 2``,
    the last tile flush with the far side so that every period is covered."""
    count = -(-(n - size) // max(size // 2, 1)) + 1
    starts = torch.linspace(0, n - size, count, device=device).round()[:, None]
    index = torch.arange(n, device=device)
    return ((index >= starts) & (index < starts + size)).float()


def _fit_beta(fy: torch.Tensor, fx: torch.Tensor) -> torch.Tensor:
    """(N, C, 1, P, P) beta of Y_t = beta X_t + gamma over the tiles t (dim 2), trimmed to the best-fitting half."""
    keep = torch.ones_like(fx[..., :1, :1].real)  # (N, C, K, 1, 1)
    kept = max(2, -(-fx.shape[2] // 2))
    for step in range(4):  # a fit on all tiles, then three fits on the half that the last fit explains best
        count = keep.sum(dim=2, keepdim=True)
        dy = fy - (keep * fy).sum(dim=2, keepdim=True) / count  # gamma is free: fit the departures from the mean
        dx = fx - (keep * fx).sum(dim=2, keepdim=True) / count
        # Real and imaginary parts written out, so that beta is exactly 1 where Y = X.
        num = (keep * (dy.real * dx.real + dy.imag * dx.imag)).sum(dim=2, keepdim=True)
        den = (keep * (dx.real.square() + dx.imag.square())).sum(dim=2, keepdim=True)
        beta = (num / den.clamp_min(1e-30)).clamp(0, 1)
        if step < 3:
            misfit = (dy - beta * dx).abs().square().sum(dim=(-2, -1), keepdim=True)
            keep = (misfit <= misfit.kthvalue(kept, dim=2, keepdim=True).values).float()
    return beta


def _amplitude(output: torch.Tensor, target: torch.Tensor | None, period: int) -> tuple[dict, torch.Tensor]:
    """checkerboard_amplitude's dict and the (N, rows, cols) per-tile amplitudes."""
    if output.ndim != 4:
        raise ValueError(f"expected images of shape (N, C, H, W), got {tuple(output.shape)}")
    if target is not None and target.shape != output.shape:
        raise ValueError(f"output {tuple(output.shape)} and target {tuple(target.shape)} differ in shape")
    if period < 2 or period % 2:
        raise ValueError(f"period must be even and >= 2 (the total stride of the x2 stages), got {period}")
    p = period
    size = max(-(-AMPLITUDE_TILE // p), 3)  # tile side in periods
    h, w = output.shape[-2:]
    if min(h, w) < (size + 1) * p:
        raise ValueError(
            f"checkerboard_amplitude at period={p} needs images of at least {(size + 1) * p} x {(size + 1) * p} px "
            f"(two overlapping tiles of {size * p} px per side: tiles tell the target's own lattice content from "
            f"an added pattern), got {h} x {w}"
        )
    h, w = h - h % p, w - w % p
    y = output[..., :h, :w].float() * 255
    x = None if target is None else target[..., :h, :w].float() * 255
    n, c = y.shape[:2]

    ref = y if x is None else x
    smooth = lattice_free(ref, p)
    inside = torch.zeros(h, w, device=y.device)
    inside[p // 2 : h - p // 2, p // 2 : w - p // 2] = 1  # the circular filter mixes opposite sides there
    weight = edge_weight(ref, smooth) * inside
    ry = y - (smooth if x is None else lattice_free(y, p))
    rows, cols = _tile_cover(h // p, size, y.device), _tile_cover(w // p, size, y.device)

    def tile_sums(q: torch.Tensor) -> torch.Tensor:  # (N, Q, H, W) -> (N, Q, tiles, P, P): per tile and phase
        q = torch.einsum("ti,nqiajb,uj->nqtuab", rows, q.reshape(n, -1, h // p, p, w // p, p), cols)
        return q.flatten(2, 3)

    w2 = weight.square()
    sw, sw2, sw3 = tile_sums(torch.cat([weight, w2, w2 * weight], dim=1)).clamp_min(1e-30).split(1, dim=1)
    white = 1 - 2 / p**2 + ((p - 0.5) / p**2) ** 2  # mean |1 - G|**2: the share of white noise's power r keeps
    # Var of a weighted phase mean from the weighted scatter, unbiased, at the lattice's full power.
    scale = sw2 / (sw2 - 2 * sw3 / sw + (sw2 / sw).square()).clamp_min(1e-30) / sw.square() / white

    def scatter(sa, ta, sb, tb, qab):  # (N, C, K, 1, 1) sum over phases of Cov(mean a, mean b)
        ma, mb = sa / sw, sb / sw
        return ((qab - ma * tb - mb * ta + ma * mb * sw2) * scale).sum(dim=(-2, -1), keepdim=True)

    def spectrum(s):  # (N, C, K, P, P) DFT over the phase grid of the phase means, their mean removed
        f = torch.fft.fft2(s / sw)
        f[..., 0, 0] = 0
        return f

    if x is None:
        sy, ty, qyy = tile_sums(torch.cat([weight * ry, w2 * ry, w2 * ry.square()], dim=1)).split(c, dim=1)
        added = spectrum(sy)
        bias = scatter(sy, ty, sy, ty, qyy)
        lacking = torch.zeros_like(added.real)
    else:
        rx = x - smooth
        quantities = [weight * ry, weight * rx, w2 * ry, w2 * rx, w2 * ry.square(), w2 * rx.square(), w2 * ry * rx]
        sy, sx, ty, tx, qyy, qxx, qxy = tile_sums(torch.cat(quantities, dim=1)).split(c, dim=1)
        fy, fx = spectrum(sy), spectrum(sx)
        beta = _fit_beta(fy, fx)
        added = fy - beta * fx
        # Var(A(f)) for A = Y - beta X: the scatter of r_y - beta r_x, the same at every f.
        var_y, var_x, cov = scatter(sy, ty, sy, ty, qyy), scatter(sx, tx, sx, tx, qxx), scatter(sy, ty, sx, tx, qxy)
        bias = (var_y - 2 * beta * cov + beta.square() * var_x).clamp_min(0)  # rounding: below 0 where r_y = r_x
        lacking = ((1 - beta) * fx).abs().square()

    excess = (added.abs().square() - bias) / p**4  # per lattice frequency, debiased, in grey levels^2
    coarse = torch.zeros(p, p, dtype=torch.bool, device=y.device)
    coarse[:: p // 2, :: p // 2] = True  # frequencies 0 and 1/2 in each direction
    finer = excess[..., ~coarse].sum(-1)  # (N, C, K)
    coarse[0, 0] = False  # the mean over phases, removed
    period2 = excess[..., coarse].sum(-1)
    period2, finer = period2.mean(dim=1), finer.mean(dim=1)  # RMS over channels, still squared
    strongest = (period2 + finer).topk(-(-period2.shape[1] // 4), dim=1).indices
    parts = {
        "period2": period2.gather(1, strongest).mean(dim=1).clamp_min(0).sqrt(),
        "finer": finer.gather(1, strongest).mean(dim=1).clamp_min(0).sqrt(),
        "deficit": (lacking.sum(dim=(-2, -1)) / p**4).mean(dim=(1, 2)).sqrt(),
    }
    parts["amplitude"] = torch.hypot(parts["period2"], parts["finer"])
    amplitude_map = (period2.clamp_min(0) + finer.clamp_min(0)).sqrt().view(n, len(rows), len(cols))
    return {key: parts[key] for key in AMPLITUDE_PARTS}, amplitude_map


def checkerboard_amplitude(
    output: torch.Tensor, target: torch.Tensor | None = None, period: int = 2
) -> dict[str, torch.Tensor]:
    """Per image, the RMS amplitude in grey levels (of 0-255) of the period-``P`` pattern ``output`` adds.

    Returns a dict of (N,) float32 tensors: ``amplitude`` (>= 0) and its orthogonal parts
    ``period2`` (the pattern's average over the period-2 sub-lattice: frequencies 0 and 1/2) and
    ``finer`` (the rest; 0 at P = 2), ``amplitude**2 = period2**2 + finer**2``; and ``deficit``, the
    RMS of the target's lattice content that the output lacks (0 without target). Images (N, C, H, W)
    in [0, 1], any float dtype and device, computed in float32; sides cropped to whole periods. A
    pattern is fixed on the P x P phase grid: pixel (i, j) has phase (i mod P, j mod P). Without
    target, the output's own pattern. Per image, in grey levels:

    1. ``r = x - g * x`` and the edge weight ``w`` of the score (module docstring, steps 1-2), ``w``
       from the target (from the output without one) and 0 within P/2 px of the border, where the
       circular filter mixes opposite sides.
    2. Tiles of 16 px (at least 3 periods), stride half a tile, the last flush with the far side.
       Per tile t, channel and phase p, the weighted mean ``M_t(p) = sum w r / sum w`` over the
       tile's pixels of phase p; ``Y_t(f)`` and ``X_t(f)``: its DFT over the phase grid, of output
       and target, for f != 0 (the mean over phases, and with it any brightness offset, drops out).
    3. Per channel and f, ``Y_t = beta_f X_t + gamma_f`` fitted by least squares over the tiles, then
       refitted three times on the half of the tiles the last fit explains best; ``beta_f`` clipped to
       [0, 1]. The added pattern is ``A_t = Y_t - beta_f X_t`` (``Y_t`` without target). The free
       ``gamma`` keeps a pattern shared by all tiles out of beta; the trimming, one in a few tiles.
    4. ``E_t(f) = (|A_t(f)|**2 - V_t) / P**4``, where ``V_t = sum_p Var M_t(p)`` is what
       non-periodic residual adds, estimated from the weighted within-phase scatter of
       ``r_y - beta_f r_x`` (unbiased for independent pixels) divided by the mean of ``|1 - G|**2``:
       r keeps that share of white noise's power, the lattice bins all of it.
       ``period2_t**2`` = sum of E over the 3 period-2 bins, ``finer_t**2`` over the other
       ``P**2 - 4``; each averaged over channels (RMS over channels).
    5. Over the quarter of the tiles (at least one) with the largest ``period2_t**2 + finer_t**2``:
       ``period2 = sqrt(max(0, mean period2_t**2))``, the same for ``finer``.
       ``deficit = sqrt(mean over tiles and channels of sum_f |(1 - beta_f) X_t(f)|**2 / P**4)``,
       not debiased: the lattice-frequency content, periodic or not, that the output lacks.

    Without the statistic of step 5 the estimate is unbiased for a pattern that fills the tiles;
    taking the strongest quarter lets a pattern confined to a quarter of the image count, and makes
    pure noise read slightly positive. Nearest upsampling turns a gradient into a staircase, which is
    a period-2 pattern of half the slope per pixel.
    """
    return _amplitude(output, target, period)[0]


def checkerboard_amplitude_map(
    output: torch.Tensor, target: torch.Tensor | None = None, period: int = 2
) -> torch.Tensor:
    """(N, rows, cols) amplitude of each tile of :func:`checkerboard_amplitude` (``sqrt(period2_t**2 +
    finer_t**2)``, each part clipped at 0), in grey levels; rows and columns of overlapping tiles."""
    return _amplitude(output, target, period)[1]


def gradient_checkerboard(grad: torch.Tensor, period: int = 2) -> torch.Tensor:
    """(N,) RMS amplitude of the fixed period-``P`` pattern in each image of ``grad`` (no target), as a
    fraction of that image's RMS: 0 for none, 1 if the whole gradient were the pattern."""
    g = grad.float()
    g = g / g.square().mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp_min(1e-30)
    return checkerboard_amplitude(g, period=period)["amplitude"] / 255  # the amplitude counts 0..1 as 255


class CheckerboardAmplitude(Metric):
    """Means of :func:`checkerboard_amplitude`'s parts over every image seen since the last reset."""

    higher_is_better = False
    full_state_update = False

    def __init__(self, period: int = 2, **kwargs) -> None:
        super().__init__(**kwargs)
        self.period = period
        for key in AMPLITUDE_PARTS:
            self.add_state(key, default=torch.tensor(0.0), dist_reduce_fx="sum")
        self.add_state("count", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, preds: torch.Tensor, target: torch.Tensor | None = None) -> None:
        parts = checkerboard_amplitude(preds, target, self.period)
        for key in AMPLITUDE_PARTS:
            setattr(self, key, getattr(self, key) + parts[key].sum())
        self.count += len(preds)

    def compute(self) -> dict[str, torch.Tensor]:
        return {key: getattr(self, key) / self.count for key in AMPLITUDE_PARTS}
