"""The built-in dataset: generated images, no download.

Each image is a smooth two-colour gradient with a few flat, anti-aliased discs and rotated
rectangles on top. Flat regions and smooth gradients are where a periodic artifact is easiest to
see (and to measure); anti-aliased edges keep the images free of aliasing of their own, so the
data itself has no energy at the checkerboard frequencies beyond what natural edges carry.
"""

from __future__ import annotations

import math

import torch


def make_shapes(
    n: int, size: int = 32, channels: int = 3, seed: int = 0, shapes_per_image: int = 3
) -> torch.Tensor:
    """Return ``n`` images as a uint8 tensor of shape (n, channels, size, size).

    Same arguments, same images (a private ``torch.Generator`` draws everything). Vectorised over
    the batch: 10,000 images of 32x32 take well under a second on a laptop CPU.
    """
    if n < 0 or size < 4 or channels < 1:
        raise ValueError(f"make_shapes needs n >= 0, size >= 4 and channels >= 1, got n={n}, size={size}, "
                         f"channels={channels}")
    g = torch.Generator().manual_seed(seed)
    # Pixel centres in [0, 1]; one pixel is 1/size wide.
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size
    yy, xx = torch.meshgrid(coords, coords, indexing="ij")  # (H, W)

    def rand(*shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=g)

    # Background: a linear gradient between two colours along a random direction.
    angle = rand(n) * 2 * math.pi
    ramp = torch.cos(angle)[:, None, None] * (xx - 0.5) + torch.sin(angle)[:, None, None] * (yy - 0.5)
    ramp = (ramp / math.sqrt(0.5) + 1) / 2  # in [0, 1]
    c0, c1 = rand(n, channels), rand(n, channels)
    img = c0[:, :, None, None] + (c1 - c0)[:, :, None, None] * ramp[:, None]

    for _ in range(shapes_per_image):
        cx, cy = rand(n, 1, 1) * 0.8 + 0.1, rand(n, 1, 1) * 0.8 + 0.1
        r = rand(n, 1, 1) * 0.2 + 0.08
        dx, dy = xx - cx, yy - cy
        # Signed distance (in pixels) to a disc or to a rotated rectangle.
        disc = (torch.sqrt(dx**2 + dy**2) - r) * size
        theta = rand(n, 1, 1) * math.pi
        u = (dx * torch.cos(theta) + dy * torch.sin(theta)).abs() - r
        v = (-dx * torch.sin(theta) + dy * torch.cos(theta)).abs() - r * (rand(n, 1, 1) * 0.6 + 0.4)
        outside = torch.sqrt(u.clamp(min=0) ** 2 + v.clamp(min=0) ** 2)
        rect = (outside + torch.maximum(u, v).clamp(max=0)) * size
        is_disc = rand(n, 1, 1) < 0.5
        dist = torch.where(is_disc, disc, rect)
        # Coverage of each pixel by the shape, a one-pixel linear ramp across the edge: anti-aliasing.
        alpha = (0.5 - dist).clamp(0, 1)[:, None]
        colour = rand(n, channels, 1, 1)
        img = img * (1 - alpha) + colour * alpha

    return (img * 255).round().clamp(0, 255).to(torch.uint8)
