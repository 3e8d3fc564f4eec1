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

import math

import torch
import torch.nn.functional as F
from torchmetrics import Metric

__all__ = [
    "CheckerboardAmplitude",
    "CheckerboardScore",
    "checkerboard_amplitude",
    "checkerboard_amplitude_map",
    "checkerboard_score",
    "gradient_checkerboard",
    "lattice_frequencies",
    "log_power_spectrum",
    "min_image_size",
]

# Edge scale of the weight w: a pixel whose pattern-free surroundings change by 10 % of the image
# range per pixel counts half. A ramp across a whole 32 px image (3 %/px) keeps 0.9; on an
# anti-aliased step of the full range the weight falls to 0.07 (P = 2) or 0.14 (P = 4). Smaller
# scales weigh textures down with the edges, larger ones let edges pass for patterns (the property
# tests in tests/test_metrics.py hold at 0.1).
EDGE = 0.1


def _check(h: int, w: int, period: int) -> None:
    if period < 2:
        raise ValueError(f"period must be >= 2 (the total stride of the decoder), got {period}")
    if h < 3 * period or w < 3 * period:
        raise ValueError(
            f"period={period} needs images of at least {3 * period} x {3 * period} px (3 bins between "
            f"lattice frequencies keep each one's neighbourhood free of the others), got {h} x {w}"
        )


def _lattice_bins(h: int, w: int, period: int) -> torch.Tensor:
    """(P**2 - 1, 2) (row, col) DFT bins of the non-zero lattice frequencies, nearest bin if not whole."""
    _check(h, w, period)
    a = torch.arange(period)
    rows, cols = (a * h / period).round().long(), (a * w / period).round().long()
    return torch.stack(torch.meshgrid(rows, cols, indexing="ij"), dim=-1).reshape(-1, 2)[1:]  # drop (0, 0)


def lattice_frequencies(size_h: int, size_w: int, period: int) -> torch.Tensor:
    """(P**2 - 1, 2) (row, col) pixel positions of the lattice bins in a ``log_power_spectrum`` picture."""
    size = torch.tensor([size_h, size_w])
    return (_lattice_bins(size_h, size_w, period) + size // 2) % size


def _periodic_spectrum(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) float -> (N, H, W) channel-mean power spectrum of Moisan's periodic component."""
    h, w = x.shape[-2:]
    x = x - x.mean(dim=(-2, -1), keepdim=True)
    # The smooth component solves laplacian(s) = v, v holding the jumps across the border.
    jump_h, jump_w = x[..., -1, :] - x[..., 0, :], x[..., :, -1] - x[..., :, 0]
    v = torch.zeros_like(x)
    v[..., 0, :] += jump_h
    v[..., -1, :] -= jump_h
    v[..., :, 0] += jump_w
    v[..., :, -1] -= jump_w
    cos_h = torch.cos(2 * math.pi * torch.arange(h, device=x.device) / h)
    cos_w = torch.cos(2 * math.pi * torch.arange(w, device=x.device) / w)
    laplacian = 2 * cos_h[:, None] + 2 * cos_w[None, :] - 4
    laplacian[0, 0] = 1  # both spectra are 0 there: the mean is removed and the jumps sum to 0
    return (torch.fft.fft2(x) - torch.fft.fft2(v) / laplacian).abs().square().mean(dim=1)


def log_power_spectrum(x: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, H, W) log power spectrum of the images (Moisan's periodic component,
    channel mean, mean removed), zero frequency at the centre. Mark it with ``lattice_frequencies``."""
    return torch.fft.fftshift(_periodic_spectrum(x.float()), dim=(-2, -1)).clamp_min(1e-20).log()


def _lattice_free(x: torch.Tensor, period: int) -> torch.Tensor:
    """Circular separable filter [1/2, 1, ..., 1, 1/2] / P: zero response at every k / P but k = 0."""
    c = x.shape[1]
    k = torch.ones(period + 1, device=x.device)
    k[0] = k[-1] = 0.5
    k = k / period
    before, after = period // 2, period - period // 2
    x = F.pad(x, (before, after, before, after), mode="circular")
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def _edge_weight(x: torch.Tensor, smooth: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) edge weight w of step 2, from the image ``x`` and its pattern-free part ``smooth``."""
    grad2 = ((smooth.roll(-1, -1) - smooth.roll(1, -1)) / 2).square()
    grad2 = grad2 + ((smooth.roll(-1, -2) - smooth.roll(1, -2)) / 2).square()
    value_range = x.amax(dim=(1, 2, 3), keepdim=True) - x.amin(dim=(1, 2, 3), keepdim=True)
    return 1 / (1 + grad2.mean(dim=1, keepdim=True) / (EDGE * value_range).square().clamp_min(1e-30))


def _prominence(x: torch.Tensor, period: int) -> torch.Tensor:
    """(N, C, H, W) float, sides multiples of P -> (N,) mean over the lattice bins of S(l) / B(l)."""
    smooth = _lattice_free(x, period)
    spec = _periodic_spectrum(_edge_weight(x, smooth) * (x - smooth))

    h, w = spec.shape[-2:]
    bins = _lattice_bins(h, w, period).to(spec.device)
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
    _check(h, w, period)
    h, w = h - h % period, w - w % period  # whole periods only: the lattice then falls on whole bins

    def prominence(x: torch.Tensor) -> torch.Tensor:
        return _prominence(x[..., :h, :w].float(), period)

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
    smooth = _lattice_free(ref, p)
    inside = torch.zeros(h, w, device=y.device)
    inside[p // 2 : h - p // 2, p // 2 : w - p // 2] = 1  # the circular filter mixes opposite sides there
    weight = _edge_weight(ref, smooth) * inside
    ry = y - (smooth if x is None else _lattice_free(y, p))
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
