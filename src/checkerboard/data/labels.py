"""Labelled images for the sample-quality classifier (`measures.quality`): the datamodules keep images only."""

from __future__ import annotations

import torch

from checkerboard.data.shapes import make_shapes


def labelled_shapes(n: int, size: int = 32, channels: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` shapes images (uint8) and their labels: the number of shapes drawn on each, 0 to 3, equally often."""
    per = [n // 4 + (k < n % 4) for k in range(4)]
    images = torch.cat([make_shapes(m, size, channels, seed * 4 + k, shapes_per_image=k) for k, m in enumerate(per)])
    labels = torch.cat([torch.full((m,), k) for k, m in enumerate(per)])
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return images[order], labels[order]


def torchvision_labelled(name: str, root: str, train: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """(N, C, H, W) uint8 images and (N,) labels of torchvision's MNIST, FashionMNIST or CIFAR10, no download."""
    import torchvision.datasets as tvd

    ds = getattr(tvd, name)(root, train=train, download=False)
    images = torch.as_tensor(ds.data)
    images = images[:, None] if images.ndim == 3 else images.permute(0, 3, 1, 2)
    return images.contiguous(), torch.as_tensor(ds.targets)
