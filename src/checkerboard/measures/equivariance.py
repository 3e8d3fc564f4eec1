"""Shift equivariance of an image-to-image model: StyleGAN3's EQ-T (Karras et al., 2021), for an autoencoder.

A fixed period-2 pattern is fixed to the pixel grid: shifting the input by one pixel moves the image
but not the pattern, so ``model(shift(x))`` and ``shift(model(x))`` differ by the pattern and its
shifted copy. For a +-a checkerboard (``(-1)**(i + j)``) a one-pixel shift flips every sign: the two
differ by 2a everywhere, MSE 4 a**2, and the PSNR is ``10 log10(1 / (4 a**2))`` (a = 1 grey level:
42.1 dB). A same-padded convolution stack is exactly equivariant away from the border.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

# PSNR reported where the two outputs agree to float rounding (MSE <= 1e-10): an exactly equivariant model
# reads this cap instead of inf, so that means over runs stay finite.
EQUIVARIANCE_CAP_DB = 100.0


def shift_equivariance(model_fn: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, margin: int = 8,
                       cap: float = EQUIVARIANCE_CAP_DB) -> torch.Tensor:
    """(N,) PSNR in dB (data range 1) between ``model_fn(shift(x))`` and ``shift(model_fn(x))``, per image.

    ``shift`` moves the image by one pixel (circularly, ``torch.roll``), down and then across; the
    MSE over channels and the interior (``margin`` px off every side, where the wrapped row or column
    and the model's padding reach: take ``margin`` above the model's receptive-field radius + 1) is
    averaged over the two shifts, then ``psnr = 10 log10(1 / mse)``, capped at ``cap`` (100 dB).
    Odd shifts: a layer that treats the output phases of a x2 upsampling differently breaks it.
    Higher is better; ``model_fn`` maps (N, C, H, W) to (N, C', H, W) images in about [0, 1].
    """
    if x.ndim != 4:
        raise ValueError(f"expected images of shape (N, C, H, W), got {tuple(x.shape)}")
    if min(x.shape[-2:]) <= 2 * margin:
        raise ValueError(f"margin={margin} leaves no interior in {tuple(x.shape[-2:])} images")
    with torch.no_grad():
        base = model_fn(x)
        mse = torch.zeros(len(x), device=x.device)
        for dim in (-2, -1):
            moved, expected = model_fn(x.roll(1, dim)), base.roll(1, dim)
            diff = (moved - expected)[..., margin:-margin, margin:-margin].float()
            mse += diff.square().mean(dim=(1, 2, 3)) / 2
    return (10 * torch.log10(1 / mse.clamp_min(1e-10))).clamp_max(cap)
