"""The checkerboard amplitude in grey levels: the fixed period-P pattern an output adds beyond its target.

Estimated per tile (so it does not grow with image size and counts a pattern confined to part of
the image), split into period 2 and finer, with the output's lack of lattice content apart
(``deficit``), the floor that the same residual power reads with no fixed pattern and the excess
over it, and the staircase that resizing leaves on a slope apart from the checkerboard.
`checkerboard_amplitude`'s docstring gives the formula.
"""

from __future__ import annotations

import torch
from torchmetrics import Metric

from checkerboard.measures.lattice import edge_weight, lattice_free

# Tile side of checkerboard_amplitude, in pixels (at least 3 periods): a quarter of a 32 px image
# fills a whole tile, and a tile holds enough pixels of each phase at P = 2 and 4 for the noise floor
# of the strongest tiles to stay under a fifth of white noise's standard deviation (tests).
AMPLITUDE_TILE = 16
AMPLITUDE_PARTS = ("amplitude", "period2", "finer", "deficit", "floor", "excess", "staircase", "checkerboard",
                   "checkerboard_floor", "checkerboard_excess")


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


# Draws of the phase scramble that give checkerboard_amplitude's floors (mean of squares over draws): each
# draw reads the same residual with its fixed pattern destroyed. One draw an image: the floor is read as a mean
# over the validation images, whose count, not the draws, sets its precision (and each draw costs a measure).

FLOOR_DRAWS = 1
FLOOR_SEED = 0


def _cell_scramble(h: int, w: int, p: int, draws: int, device: torch.device) -> torch.Tensor:
    """(draws, H * W) pixel indices: each P x P cell's pixels permuted at random (fixed seed), the cells kept.
    A pattern fixed on the phase grid lands on a random phase in every cell: noise of the same power."""
    gen = torch.Generator().manual_seed(FLOOR_SEED)
    order = torch.rand(draws, h // p, w // p, p * p, generator=gen).argsort(dim=-1)  # (D, rows, cols, P*P)
    rows, cols = torch.arange(h // p)[:, None, None] * p, torch.arange(w // p)[None, :, None] * p
    flat = (rows + order // p) * w + cols + order % p  # source pixel of each cell slot
    # Slot s of cell (i, j) is pixel (i P + s // P, j P + s % P): put the cell axes back in image order.
    return flat.view(draws, h // p, w // p, p, p).permute(0, 1, 3, 2, 4).reshape(draws, h * w).to(device)


def _amplitude(output: torch.Tensor, target: torch.Tensor | None, period: int,
               floors: bool = True) -> tuple[dict, torch.Tensor]:
    """checkerboard_amplitude's dict and the (N, rows, cols) per-tile amplitudes; ``floors=False`` skips the
    scrambled draws (and the keys that need them)."""
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

    offset = torch.arange(p, device=y.device, dtype=torch.float32) - (p - 1) / 2

    def residuals(y: torch.Tensor, x: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
        """Edge weight, residuals r_y and r_x, and the staircases a P-tap hold leaves on the local slope."""
        ref = y if x is None else x
        smooth = lattice_free(ref, p)
        inside = torch.zeros(h, w, device=y.device)
        inside[p // 2 : h - p // 2, p // 2 : w - p // 2] = 1  # the circular filter mixes opposite sides there
        weight = edge_weight(ref, smooth) * inside
        ry = y - (smooth if x is None else lattice_free(y, p))
        rx = None if x is None else x - smooth
        # The hold's staircase: -slope . (offset of the pixel from its cell's centre), the slope that of ref's
        # pattern-free part, padded by replication (not circularly) so that tiles at the border see their own.
        slope_rows, slope_cols = torch.gradient(lattice_free(ref, p, "replicate")[..., :h, :w], dim=(-2, -1))
        stair_rows = -slope_rows * offset.repeat(h // p)[:, None]
        stair_cols = -slope_cols * offset.repeat(w // p)
        return weight, ry, rx, torch.cat([weight * stair_rows, weight * stair_cols], dim=1)

    rows, cols = _tile_cover(h // p, size, y.device), _tile_cover(w // p, size, y.device)

    def tile_sums(q: torch.Tensor) -> torch.Tensor:  # (N, Q, H, W) -> (N, Q, tiles, P, P): per tile and phase
        q = torch.einsum("ti,nqiajb,uj->nqtuab", rows, q.reshape(n, -1, h // p, p, w // p, p), cols)
        return q.flatten(2, 3)

    white = 1 - 2 / p**2 + ((p - 0.5) / p**2) ** 2  # mean |1 - G|**2: the share of white noise's power r keeps
    coarse = torch.zeros(p, p, dtype=torch.bool, device=y.device)
    coarse[:: p // 2, :: p // 2] = True  # frequencies 0 and 1/2 in each direction
    coarse_bins = coarse.clone()
    coarse_bins[0, 0] = False  # the mean over phases, removed

    def strongest(excess: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(N, C, K, P, P) debiased power per frequency -> period2, finer over the strongest quarter, and the map."""
        finer = excess[..., ~coarse].sum(-1).mean(dim=1)  # (N, K), RMS over channels, still squared
        period2 = excess[..., coarse_bins].sum(-1).mean(dim=1)
        top = (period2 + finer).topk(-(-period2.shape[1] // 4), dim=1).indices
        return (period2.gather(1, top).mean(dim=1).clamp_min(0).sqrt(),
                finer.gather(1, top).mean(dim=1).clamp_min(0).sqrt(),
                (period2.clamp_min(0) + finer.clamp_min(0)).sqrt())

    def measure(y: torch.Tensor, x: torch.Tensor | None) -> tuple[dict, torch.Tensor]:
        weight, ry, rx, stairs = residuals(y, x)
        w2 = weight.square()
        sw, sw2, sw3 = tile_sums(torch.cat([weight, w2, w2 * weight], dim=1)).clamp_min(1e-30).split(1, dim=1)
        # Var of a weighted phase mean from the weighted scatter, unbiased, at the lattice's full power.
        scale = sw2 / (sw2 - 2 * sw3 / sw + (sw2 / sw).square()).clamp_min(1e-30) / sw.square() / white

        def scatter(sa, ta, sb, tb, qab):  # (N, C, K, 1, 1) sum over phases of Cov(mean a, mean b)
            ma, mb = sa / sw, sb / sw
            return ((qab - ma * tb - mb * ta + ma * mb * sw2) * scale).sum(dim=(-2, -1), keepdim=True)

        def spectrum(s):  # (N, C, K, P, P) DFT over the phase grid of the phase means, their mean removed
            f = torch.fft.fft2(s / sw)
            f[..., 0, 0] = 0
            return f

        if rx is None:
            sy, ty, qyy = tile_sums(torch.cat([weight * ry, w2 * ry, w2 * ry.square()], dim=1)).split(c, dim=1)
            added = spectrum(sy)
            bias = scatter(sy, ty, sy, ty, qyy)
            lacking = torch.zeros_like(added.real)
        else:
            quantities = [weight * ry, weight * rx, w2 * ry, w2 * rx, w2 * ry.square(), w2 * rx.square(), w2 * ry * rx]
            sy, sx, ty, tx, qyy, qxx, qxy = tile_sums(torch.cat(quantities, dim=1)).split(c, dim=1)
            fy, fx = spectrum(sy), spectrum(sx)
            beta = _fit_beta(fy, fx)
            added = fy - beta * fx
            # Var(A(f)) for A = Y - beta X: the scatter of r_y - beta r_x, the same at every f.
            var_y, var_x, cov = scatter(sy, ty, sy, ty, qyy), scatter(sx, tx, sx, tx, qxx), scatter(sy, ty, sx, tx, qxy)
            bias = (var_y - 2 * beta * cov + beta.square() * var_x).clamp_min(0)  # rounding: below 0 where r_y = r_x
            lacking = ((1 - beta) * fx).abs().square()

        # The staircase: A_t = k_rows T_rows,t + k_cols T_cols,t + rest, per image and channel, least squares
        # over tiles and frequencies (T: the hold's staircase on the local slope, through the same phase means).
        templates = spectrum(tile_sums(stairs))
        templates = torch.stack(templates.split(c, dim=1), dim=-1)  # (N, C, K, P, P, 2)

        def dot(a, b):  # real inner product over tiles and frequencies
            return (a.real * b.real + a.imag * b.imag).sum(dim=(2, 3, 4))

        gram = dot(templates[..., :, None], templates[..., None, :])  # (N, C, 2, 2)
        k = (torch.linalg.pinv(gram, rtol=1e-6) @ dot(templates, added[..., None])[..., None])[..., 0]  # (N, C, 2)
        stairs = (templates * k[:, :, None, None, None, :]).sum(-1)
        period2, finer, amplitude_map = strongest((added.abs().square() - bias) / p**4)
        board2, board_finer, _ = strongest(((added - stairs).abs().square() - bias) / p**4)
        parts = {
            "amplitude": torch.hypot(period2, finer), "period2": period2, "finer": finer,
            "deficit": (lacking.sum(dim=(-2, -1)) / p**4).mean(dim=(1, 2)).sqrt(),
            "staircase": (stairs.abs().square().sum(dim=(-2, -1)) / p**4).mean(dim=(1, 2)).sqrt(),
            "checkerboard": torch.hypot(board2, board_finer),
        }
        return parts, amplitude_map.view(n, len(rows), len(cols))

    parts, amplitude_map = measure(y, x)
    if not floors:
        return parts, amplitude_map
    floors = torch.zeros(2, n, device=y.device)
    for index in _cell_scramble(h, w, p, FLOOR_DRAWS, y.device):
        def scrambled(q):
            return q.flatten(-2)[..., index].view(q.shape)

        if x is None:  # no error to scramble: the residual, at the power white noise would have had in it
            smooth = lattice_free(y, p)
            null = measure(smooth + scrambled(y - smooth) / white**0.5, None)
        else:
            null = measure(x + scrambled(y - x), x)
        floors += torch.stack([null[0]["amplitude"], null[0]["checkerboard"]]).square() / FLOOR_DRAWS
    parts["floor"], parts["checkerboard_floor"] = floors.sqrt()
    excess = torch.stack([parts["amplitude"], parts["checkerboard"]]).square() - floors
    parts["excess"], parts["checkerboard_excess"] = excess.sign() * excess.abs().sqrt()  # signed: see docstring
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
    non-periodic error read positive, the more the larger it is (white noise of 12 grey levels RMS
    reads about 0.9 at P = 2, 1.3 at P = 4). Hence the floor and the excess, the numbers to read:

    6. ``floor``: the RMS over ``FLOOR_DRAWS`` draws (one; fixed seed) of ``amplitude`` recomputed, steps 1-5, with the
       error's pixels permuted at random within each P x P cell: ``x + S(output - x)`` against ``x``.
       The permutation keeps every error value and its place to within a cell, so the error's power
       and where it lies are unchanged, but a pattern fixed on the phase grid lands on a random phase
       in each cell and becomes noise; white error keeps its distribution exactly, so the floor is
       what this error reads with no fixed pattern (a Monte Carlo null, not a formula: the strongest
       quarter of overlapping tiles has no closed form). Without target there is no error to permute:
       the residual ``r`` is permuted and divided by ``sqrt(mean |1 - G|**2)`` (the share of white
       noise's power ``r`` keeps; permuting whitens it), ``g * x + S(r) / sqrt(...)``; this null also
       turns the image's own edge residual into noise and reads high (by about a third on shapes).
    7. ``excess = sign(d) sqrt(|d|)``, ``d = amplitude**2 - floor**2``: a fixed pattern and
       independent error add in power, in each tile and so in the strongest quarter, so d estimates
       the pattern's power (the cross term's share of the selection aside: under heavy noise it adds
       a little). Signed, so that the mean over images of a pattern-free error is about 0 (a single
       image scatters by about the floor); a mean over many images is the figure to report.
    8. ``staircase``: nearest upsampling by P turns a slope into a staircase, a period-P pattern
       ``T = -slope . (i mod P - (P-1)/2, j mod P - (P-1)/2)`` (half the slope per pixel at P = 2),
       that a resize decoder leaves on every gradient and a DC-gain checkerboard does not need. Per
       image and channel, ``A_t(f) = k_rows T_rows,t(f) + k_cols T_cols,t(f) + rest`` by least squares
       over tiles and f, ``T_t(f)`` the template's phase means (step 2, same weights) with the slope
       of the target's pattern-free part (``g * x``, replicate-padded). ``staircase = sqrt(mean over
       tiles and channels of sum_f |k . T_t(f)|**2 / P**4)``, not debiased (2 fitted numbers take
       their share of any noise: white noise of 12 grey levels reads about 0.5 at P = 2).
       ``checkerboard``: steps 4-5 on ``A_t - k . T_t``, the pattern the slope does not explain; with
       its ``checkerboard_floor`` and ``checkerboard_excess`` as in steps 6-7. On a pure ramp the
       staircase and a pattern at frequencies (1/2, 0), (0, 1/2) are the same thing; the fit gives it
       to the staircase. The (1/2, 1/2) checkerboard is never staircase.

    Returned keys: ``AMPLITUDE_PARTS``. Measure the unclamped output: clamping to [0, 1] cuts a pattern
    where the image is black or white (a +-1 grey-level checkerboard on black reads 0.5 clamped).
    """
    return _amplitude(output, target, period)[0]


def checkerboard_amplitude_map(
    output: torch.Tensor, target: torch.Tensor | None = None, period: int = 2
) -> torch.Tensor:
    """(N, rows, cols) amplitude of each tile of :func:`checkerboard_amplitude` (``sqrt(period2_t**2 +
    finer_t**2)``, each part clipped at 0), in grey levels; rows and columns of overlapping tiles."""
    return _amplitude(output, target, period, floors=False)[1]


def gradient_checkerboard(grad: torch.Tensor, period: int = 2) -> torch.Tensor:
    """(N,) RMS amplitude of the fixed period-``P`` pattern in each image of ``grad`` (no target), as a
    fraction of that image's RMS: 0 for none, 1 if the whole gradient were the pattern."""
    g = grad.float()
    g = g / g.square().mean(dim=(1, 2, 3), keepdim=True).sqrt().clamp_min(1e-30)
    return _amplitude(g, None, period, floors=False)[0]["amplitude"] / 255  # the amplitude counts 0..1 as 255


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
