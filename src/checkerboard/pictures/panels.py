"""Pictures of artifacts as (3, H, W) float tensors in [0, 1], for TensorBoard and the figures."""

from __future__ import annotations

import matplotlib
import torch
import torch.nn.functional as F
from torchvision.utils import make_grid

from checkerboard.measures.lattice import lattice_frequencies, log_power_spectrum


def colormap(values: torch.Tensor, name: str = "magma") -> torch.Tensor:
    """(N, H, W) values in [0, 1] -> (N, 3, H, W) colours from a matplotlib colormap."""
    lut = torch.tensor(matplotlib.colormaps[name](torch.linspace(0, 1, 256).numpy())[:, :3], dtype=torch.float32)
    return lut[(values.clamp(0, 1) * 255).round().long().cpu()].permute(0, 3, 1, 2)


def grid(images: torch.Tensor, nrow: int, scale: int = 1) -> torch.Tensor:
    """A white-lined grid; ``scale`` enlarges small images with nearest resize (pixels stay square)."""
    images = images.float().cpu().clamp(0, 1)
    if scale > 1:
        images = F.interpolate(images, scale_factor=scale, mode="nearest")
    return make_grid(images, nrow=nrow, padding=1, pad_value=1.0)


def reconstructions(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Inputs in the top row, reconstructions below."""
    return grid(torch.cat([x, y]), nrow=len(x), scale=2)


def error_map(x: torch.Tensor, y: torch.Tensor, gain: float = 4.0) -> torch.Tensor:
    """|output - target| averaged over channels, amplified ``gain`` times (a periodic grid stands out)."""
    err = ((y - x).abs().mean(dim=1) * gain).clamp(0, 1)
    return grid(colormap(err, "inferno"), nrow=len(x), scale=2)


def flattest_patch(x: torch.Tensor, size: int) -> tuple[int, int]:
    """Top-left corner of the ``size`` x ``size`` window with the least variance, summed over the batch.

    Flat regions are where a checkerboard is easiest to see: nothing else varies there.
    """
    mean = F.avg_pool2d(x, size, stride=1)
    var = (F.avg_pool2d(x * x, size, stride=1) - mean**2).sum(dim=(0, 1))
    r, c = divmod(int(var.argmin()), var.shape[-1])
    return r, c


def zoom(x: torch.Tensor, y: torch.Tensor, size: int = 8, scale: int = 8, max_gain: float = 16.0) -> torch.Tensor:
    """The flattest region of the targets, cropped from inputs (top) and outputs (bottom), enlarged.

    Nearest resize keeps pixels square, so a period-2 or period-4 grid is visible at a glance.
    Each crop keeps its mean colour while its deviations from that mean are amplified (up to
    ``max_gain`` times, to span a quarter of the range): a flat crop stays its own flat colour, a
    faint grid on it becomes plain to see.
    """
    r, c = flattest_patch(x, size)
    return _enlarged(torch.cat([x, y])[..., r:r + size, c:c + size], scale, max_gain, nrow=len(x))


def _enlarged(crops: torch.Tensor, scale: int, max_gain: float, nrow: int) -> torch.Tensor:
    """Crops enlarged (nearest), each keeping its mean colour with its deviations amplified (see ``zoom``)."""
    mean = crops.mean(dim=(2, 3), keepdim=True)
    dev = crops - mean
    reach = dev.abs().amax(dim=(1, 2, 3), keepdim=True)
    gain = 0.25 / reach.clamp_min(0.25 / max_gain)
    return grid(F.interpolate((mean + gain * dev).clamp(0, 1), scale_factor=scale, mode="nearest"), nrow=nrow)


def sample_zoom(y: torch.Tensor, size: int = 8, scale: int = 8, max_gain: float = 16.0) -> torch.Tensor:
    """Each image's own flattest ``size`` x ``size`` region, enlarged and amplified as in ``zoom``.

    Generated images share no layout, so each gets its own region: the window of least variance
    among those whose mean lies in [0.1, 0.9], where clamping to black or white hides no pattern;
    in an image without one (an MNIST sample is black and white strokes), the window whose mean is
    nearest mid-grey.
    """
    mean = F.avg_pool2d(y, size, stride=1)
    var = (F.avg_pool2d(y * y, size, stride=1) - mean**2).sum(dim=1)  # (N, H', W')
    level = mean.mean(dim=1)
    visible = (level >= 0.1) & (level <= 0.9)
    var = torch.where(visible, var, torch.inf)
    var = torch.where(visible.flatten(1).any(1)[:, None, None], var, (level - 0.5).abs())
    corners = [divmod(int(i), var.shape[-1]) for i in var.flatten(1).argmin(dim=1)]
    crops = torch.stack([img[:, r:r + size, c:c + size] for img, (r, c) in zip(y, corners)])
    return _enlarged(crops, scale, max_gain, nrow=len(y))


def spectrum(err: torch.Tensor, period: int, scale: int = 3, margin: int = 4) -> torch.Tensor:
    """Log power spectrum of each image of ``err``, centred; cyan ticks in a dark margin above and
    to the left point at the rows and columns of the lattice bins k/period, leaving the bins bare.

    The colour range is shared by all images of the grid so that they compare.
    """
    spec = log_power_spectrum(err.float())  # (N, H, W)
    lo, hi = spec.quantile(0.01), spec.max()
    img = F.interpolate(colormap((spec - lo) / (hi - lo).clamp_min(1e-6), "viridis"),
                        scale_factor=scale, mode="nearest")
    img = F.pad(img, (margin, 0, margin, 0), value=0.15)
    cyan = torch.tensor([0.0, 1.0, 1.0])[:, None]
    centre = lambda k: margin + k * scale + scale // 2  # pixel at the middle of bin k
    for r, c in lattice_frequencies(*spec.shape[-2:], period).tolist():
        img[:, :, :margin - 1, centre(c) - 1:centre(c) + 1] = cyan[..., None]  # above: the column
        img[:, :, centre(r) - 1:centre(r) + 1, :margin - 1] = cyan[..., None]  # left: the row
    return grid(img, nrow=len(err))


#: Grey levels at which `amplitude_map` saturates: a pattern of 8 grey levels RMS is plain to see.
MAP_MAX = 8.0


def amplitude_map(maps: torch.Tensor, size: int) -> torch.Tensor:
    """(N, rows, cols) per-tile checkerboard amplitudes -> one grid of ``size`` px maps (0 black,
    ``MAP_MAX`` grey levels or more white), tiles spread over the image they cover."""
    images = colormap((maps / MAP_MAX).clamp(0, 1), "magma")
    return grid(F.interpolate(images, size=(size, size), mode="nearest"), nrow=len(maps), scale=2)


def signed(values: torch.Tensor) -> torch.Tensor:
    """Signed values per image to [0, 1] around grey 0.5, each image scaled by its own largest |value|."""
    m = values.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-12)
    return 0.5 + 0.5 * values / m


def gradient_picture(grad: torch.Tensor) -> torch.Tensor:
    """Input gradients, channel mean, grey = 0, each image scaled by its own largest value."""
    return grid(signed(grad.mean(dim=1, keepdim=True)).expand(-1, 3, -1, -1), nrow=len(grad), scale=2)
