"""Detectability that discriminates: ROC AUC of a spectral classifier, on and off the lattice, with controls.

The held-out accuracy the project reported before 2026-12 (the same logistic regression on log
spectra) saturates: real against 3x3-blurred real scores 0.999-1.000, real against real plus a +-1
grey-level checkerboard 0.99 on CIFAR-10. An accuracy of 1 says nothing about how easily; nor does it
say whether the checkerboard is what gives the samples away.

- ``roc_auc(pos, neg)``: the Mann-Whitney form, ``P(s_pos > s_neg) + P(s_pos = s_neg) / 2`` over
  all pairs, from mid-ranks: ``(R_pos - n_pos (n_pos + 1) / 2) / (n_pos n_neg)``. 0.5: no better than
  chance; 1: every real image scored above every generated one.
- ``detectability_auc(real, fake, period)``: a logistic
  regression on standardised log power spectra, half-plane, L-BFGS, half of each set trains, half is
  held out), scored by held-out AUC, three times: on every
  frequency, on the P**2 - 1 lattice frequencies k/P only (``lattice.lattice_frequencies``; the
  checkerboard of a stride-P decoder lives there), and on every frequency but those. Lattice AUC
  high and the rest near 0.5: the checkerboard is what gives the samples away. Each AUC has a 95 %
  percentile-bootstrap interval over the held-out images (1,000 resamples within each class, the
  classifier kept fixed: it says how much the held-out draw moves the number, not the training draw).
  An AUC can saturate too (at 1, when no held-out image is misranked); ``d_prime``, the held-out
  logits' separation in standard deviations, goes on telling easy from very easy there.
  The spectra are plain DFTs, not of Moisan's periodic component as the earlier accuracy used:
  Moisan's smooth component answers the border "jumps" of a checkerboard (which a periodic
  pattern has like any other neighbour step) and spreads it along its frequency's row and column.
  With it, real against real plus a +-6 checkerboard (period 2, shapes, 500 + 500) scored 0.97
  off the lattice; with the plain DFT, 0.54. The border's own discontinuity, which Moisan removes,
  is the same for both sets.
- ``control_ladder(real, period)``: the same on known differences, to read a sample's AUC against:
  one half of ``real`` against the other half, as it is (about 0.5), blurred (3x3 box), resampled
  (down x2 by 2x2 mean, up x2 bilinear), and plus a +-1 grey-level checkerboard of period P.

Images: (N, C, H, W), uint8 or float in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from checkerboard.measures.lattice import lattice_bins


@dataclass
class AUC:
    auc: float
    lo: float  # 95 % percentile-bootstrap interval over the held-out images
    hi: float
    d_prime: float  # held-out logits' separation, still growing where the AUC has reached 1

    def __str__(self) -> str:
        return f"{self.auc:.3f} [{self.lo:.3f}, {self.hi:.3f}], d' {self.d_prime:.1f}"


@dataclass
class Detection:
    all: AUC  # every frequency
    lattice: AUC  # the P**2 - 1 lattice frequencies k/P only
    without_lattice: AUC  # every frequency but those
    n: int  # images of each kind used; n - n // 2 of each are held out


def roc_auc(pos, neg) -> float:
    """ROC AUC of scores ``pos`` (should be higher) against ``neg``, ties counted half (module docstring)."""
    pos, neg = np.asarray(pos, dtype=float).ravel(), np.asarray(neg, dtype=float).ravel()
    scores = np.concatenate([pos, neg])
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    midrank = np.cumsum(counts) - (counts - 1) / 2  # 1-based rank, tied values sharing their mean rank
    r_pos = midrank[inverse[: len(pos)]].sum()
    return float((r_pos - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def bootstrap_auc(pos, neg, resamples: int = 1000, seed: int = 0) -> tuple[float, float]:
    """2.5th and 97.5th percentiles of the AUC over ``resamples`` resamples drawn within each class."""
    pos, neg = np.asarray(pos, dtype=float), np.asarray(neg, dtype=float)
    rng = np.random.default_rng(seed)
    aucs = [roc_auc(pos[rng.integers(0, len(pos), len(pos))], neg[rng.integers(0, len(neg), len(neg))])
            for _ in range(resamples)]
    return float(np.percentile(aucs, 2.5)), float(np.percentile(aucs, 97.5))


def d_prime(pos, neg) -> float:
    """``(mean(pos) - mean(neg)) / sqrt((var(pos) + var(neg)) / 2)``; for two normal score distributions of
    equal variance, ``AUC = Phi(d' / sqrt(2))``, so d' = 4.7 is AUC 0.9996 and d' = 10 is 1 to 12 digits."""
    pos, neg = np.asarray(pos, dtype=float), np.asarray(neg, dtype=float)
    return float((pos.mean() - neg.mean()) / np.sqrt((pos.var(ddof=1) + neg.var(ddof=1)) / 2))


def _as_float(x: torch.Tensor) -> torch.Tensor:
    return x.float() / 255 if x.dtype == torch.uint8 else x.float()


def lattice_mask(h: int, w: int, period: int) -> torch.Tensor:
    """(H, W // 2 + 1) bool: the lattice frequencies in the half-plane of non-negative column frequencies."""
    mask = torch.zeros(h, w, dtype=torch.bool)
    rows, cols = lattice_bins(h, w, period).T
    mask[rows, cols] = True  # the lattice holds each bin's mirror too, so the half-plane misses none
    return mask[:, : w // 2 + 1]


def _features(x: torch.Tensor) -> torch.Tensor:
    """(N, H, W // 2 + 1) log power spectra, channel mean of ``|rfft2|**2`` of the mean-removed images."""
    x = _as_float(x)
    power = torch.fft.rfft2(x - x.mean(dim=(-2, -1), keepdim=True)).abs().square().mean(dim=1)
    return power.clamp_min(1e-20).log().cpu()


def _held_out_scores(real: torch.Tensor, fake: torch.Tensor, steps: int, weight_decay: float):
    """Fit on the first half of each (N, D) set, return the held-out logits of the second halves."""
    half = len(real) // 2
    train_x = torch.cat([real[:half], fake[:half]])
    train_y = torch.cat([torch.ones(half), torch.zeros(half)])
    mean, std = train_x.mean(0), train_x.std(0).clamp_min(1e-6)
    train_x = (train_x - mean) / std
    weight = torch.zeros(train_x.shape[1], requires_grad=True)
    bias = torch.zeros(1, requires_grad=True)
    # L-BFGS (Adam lets noise features move as fast as the one that separates).
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=steps, line_search_fn="strong_wolfe")

    def objective():
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(train_x @ weight + bias, train_y)
        loss = loss + weight_decay / 2 * weight.square().sum()
        loss.backward()
        return loss

    optimizer.step(objective)
    with torch.no_grad():
        return [(((x[half:] - mean) / std) @ weight + bias).numpy() for x in (real, fake)]


def detectability_auc(real: torch.Tensor, fake: torch.Tensor, period: int = 2, steps: int = 300,
                      weight_decay: float = 1e-2, resamples: int = 1000, seed: int = 0) -> Detection:
    """Held-out ROC AUC of real against fake by log spectra: every frequency, the lattice only, the rest."""
    n = min(len(real), len(fake))
    if n < 4:
        raise ValueError(f"detectability needs at least 4 images of each kind, got {len(real)} real, {len(fake)} fake")
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"real {tuple(real.shape[1:])} and fake {tuple(fake.shape[1:])} differ in shape")
    g = torch.Generator().manual_seed(seed)
    with torch.inference_mode(False), torch.no_grad():  # Lightning's test loop runs in inference mode
        feats = [_features(x[torch.randperm(len(x), generator=g)[:n]]) for x in (real, fake)]
    mask = lattice_mask(*real.shape[-2:], period)
    out = {}
    with torch.inference_mode(False), torch.enable_grad():
        for name, keep in (("all", torch.ones_like(mask)), ("lattice", mask), ("without_lattice", ~mask)):
            pos, neg = _held_out_scores(*[f[:, keep].clone() for f in feats], steps, weight_decay)
            out[name] = AUC(roc_auc(pos, neg), *bootstrap_auc(pos, neg, resamples, seed), d_prime(pos, neg))
    return Detection(n=n, **out)


def checkerboard(h: int, w: int, period: int) -> torch.Tensor:
    """(H, W) +-1 pattern of period P: blocks of P/2 pixels, (-1)**(i + j) for P = 2; on the lattice only."""
    i, j = torch.arange(h) * 2 // period, torch.arange(w) * 2 // period
    return 1 - 2 * ((i[:, None] + j[None, :]) % 2).float()


def control_ladder(real: torch.Tensor, period: int = 2, amplitude: float = 1.0, **kwargs) -> dict[str, Detection]:
    """``detectability_auc`` of one half of ``real`` against the other half: as is, blurred, resampled,
    plus a +-``amplitude`` grey-level checkerboard of period P (module docstring). Outputs are rounded
    to grey levels, as generated images are saved."""
    x = _as_float(real)
    a, b = x[: len(x) // 2], x[len(x) // 2:]
    c = b.shape[1]
    box = torch.full((c, 1, 3, 3), 1 / 9)
    rungs = {
        "real": b,
        "blurred": F.conv2d(F.pad(b, (1, 1, 1, 1), mode="reflect"), box, groups=c),
        "resampled": F.interpolate(F.avg_pool2d(b, 2), scale_factor=2, mode="bilinear", align_corners=False),
        f"checkerboard +-{amplitude:g}": b + amplitude / 255 * checkerboard(*b.shape[-2:], period),
    }
    quantise = lambda y: (y * 255).round().clamp(0, 255) / 255  # noqa: E731
    return {name: detectability_auc(quantise(a), quantise(y), period, **kwargs) for name, y in rungs.items()}
