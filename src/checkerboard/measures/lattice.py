"""The lattice of artifact frequencies k/P and the spectrum helpers both measures share."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

# Edge scale of the weight w: a pixel whose pattern-free surroundings change by 10 % of the image
# range per pixel counts half. A ramp across a whole 32 px image (3 %/px) keeps 0.9; on an
# anti-aliased step of the full range the weight falls to 0.07 (P = 2) or 0.14 (P = 4). Smaller
# scales weigh textures down with the edges, larger ones let edges pass for patterns (the property
# tests in tests/test_metrics.py hold at 0.1).
EDGE = 0.1


def check_lattice_size(h: int, w: int, period: int) -> None:
    if period < 2:
        raise ValueError(f"period must be >= 2 (the total stride of the decoder), got {period}")
    if h < 3 * period or w < 3 * period:
        raise ValueError(
            f"period={period} needs images of at least {3 * period} x {3 * period} px (3 bins between "
            f"lattice frequencies keep each one's neighbourhood free of the others), got {h} x {w}"
        )


def lattice_bins(h: int, w: int, period: int) -> torch.Tensor:
    """(P**2 - 1, 2) (row, col) DFT bins of the non-zero lattice frequencies, nearest bin if not whole."""
    check_lattice_size(h, w, period)
    a = torch.arange(period)
    rows, cols = (a * h / period).round().long(), (a * w / period).round().long()
    return torch.stack(torch.meshgrid(rows, cols, indexing="ij"), dim=-1).reshape(-1, 2)[1:]  # drop (0, 0)


def lattice_frequencies(size_h: int, size_w: int, period: int) -> torch.Tensor:
    """(P**2 - 1, 2) (row, col) pixel positions of the lattice bins in a ``log_power_spectrum`` picture."""
    size = torch.tensor([size_h, size_w])
    return (lattice_bins(size_h, size_w, period) + size // 2) % size


def periodic_spectrum(x: torch.Tensor) -> torch.Tensor:
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
    return torch.fft.fftshift(periodic_spectrum(x.float()), dim=(-2, -1)).clamp_min(1e-20).log()


def lattice_free(x: torch.Tensor, period: int, mode: str = "circular") -> torch.Tensor:
    """Separable filter [1/2, 1, ..., 1, 1/2] / P (circular): zero response at every k / P but k = 0."""
    c = x.shape[1]
    k = torch.ones(period + 1, device=x.device)
    k[0] = k[-1] = 0.5
    k = k / period
    before, after = period // 2, period - period // 2
    x = F.pad(x, (before, after, before, after), mode=mode)
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def edge_weight(x: torch.Tensor, smooth: torch.Tensor) -> torch.Tensor:
    """(N, 1, H, W) edge weight w of step 2, from the image ``x`` and its pattern-free part ``smooth``."""
    grad2 = ((smooth.roll(-1, -1) - smooth.roll(1, -1)) / 2).square()
    grad2 = grad2 + ((smooth.roll(-1, -2) - smooth.roll(1, -2)) / 2).square()
    value_range = x.amax(dim=(1, 2, 3), keepdim=True) - x.amin(dim=(1, 2, 3), keepdim=True)
    return 1 / (1 + grad2.mean(dim=1, keepdim=True) / (EDGE * value_range).square().clamp_min(1e-30))
