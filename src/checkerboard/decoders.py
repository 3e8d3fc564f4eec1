"""The x2 upsampling layers the project compares, and the encoder/decoder built around them.

Every decoder shares the same encoder, widths, depth, activation and normalization; only the x2
upsampling operation differs, so any difference in artifacts comes from that operation alone.

Why some of them make checkerboards: a stride-2 transposed convolution pastes a scaled copy of
its kernel around every input pixel, two pixels apart. With a 3x3 kernel the copies overlap on
every other output row and column, so even outputs receive 2 taps per dimension and odd ones 1
(4:2:2:1 in 2D): a period-2 pattern is built into the layer before any training. A 4x4 kernel
overlaps evenly (2 taps everywhere) but nothing forces the taps of each phase to sum alike, so a
milder pattern can still be learned. Resizing first (nearest or bilinear) and then applying a
"same" convolution gives every output pixel the same number of taps: no built-in pattern.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from checkerboard import arithmetic as ar
from checkerboard.errors import check_choice


class TConv(nn.ConvTranspose2d):
    """Transposed convolution, stride 2: kernel 3 overlaps unevenly, kernel 4 evenly."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int = 3):
        # padding/output_padding chosen so that the output is exactly twice the input.
        super().__init__(c_in, c_out, kernel_size, stride=2, padding=1, output_padding=kernel_size % 2)

    def output_size(self, i: int) -> int:
        return ar.transposed_conv_output_size(i, self.kernel_size[0], 2, 1, self.output_padding[0])


class ResizeConv(nn.Module):
    """Resize x2 (nearest or bilinear), then a 3x3 "same" convolution: resize-convolution."""

    def __init__(self, c_in: int, c_out: int, mode: str = "nearest"):
        super().__init__()
        self.mode = mode
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=ar.padding_for("same", 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        align = False if self.mode == "bilinear" else None
        return self.conv(F.interpolate(x, scale_factor=2, mode=self.mode, align_corners=align))

    def output_size(self, i: int) -> int:
        return ar.conv_output_size(2 * i, 3, 1, ar.padding_for("same", 3))


class PixelShuffleUp(nn.Module):
    """3x3 convolution to 4C channels, then PixelShuffle(2) (sub-pixel convolution).

    ICNR initialisation (Aitken et al. 2017): PixelShuffle builds output channel c from input
    channels 4c..4c+3, so giving those four the same kernel (``repeat_interleave``, not
    ``repeat``) makes the layer, at initialisation, exactly a convolution followed by a nearest
    x2 resize, which has no checkerboard.
    """

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv = nn.Conv2d(c_in, 4 * c_out, 3, padding=1)
        self.shuffle = nn.PixelShuffle(2)
        base = nn.Conv2d(c_in, c_out, 3, padding=1)  # default init, then shared by each group of 4
        with torch.no_grad():
            self.conv.weight.copy_(base.weight.repeat_interleave(4, dim=0))
            self.conv.bias.copy_(base.bias.repeat_interleave(4, dim=0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.conv(x))

    def output_size(self, i: int) -> int:
        return 2 * ar.conv_output_size(i, 3, 1, 1)


class TConvHold(nn.Module):
    """The ``tconv`` layer followed by a fixed 2x2 box filter: the zero-order hold.

    Sugawara et al. (2019): a stride-2 transposed convolution is zero insertion followed by a
    convolution; convolving that with a 2x2 box of ones turns the zero insertion into a nearest
    x2 resize, so the layer becomes resize-convolution and every phase gets the same taps. The
    box is a buffer, not a parameter: it is never learned.
    """

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.tconv = TConv(c_in, c_out, 3)
        self.register_buffer("box", torch.ones(c_out, 1, 2, 2), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.pad(self.tconv(x), (1, 0, 1, 0))  # one row/column in front keeps the size at 2x
        return F.conv2d(y, self.box.to(y.dtype), groups=y.shape[1])

    def output_size(self, i: int) -> int:
        return self.tconv.output_size(i)


#: name -> constructor(c_in, c_out) of an x2 upsampling layer. `configs/decoder/<name>.yaml` picks one.
UPSAMPLERS = {
    "tconv": lambda ci, co: TConv(ci, co, 3),
    "tconv4": lambda ci, co: TConv(ci, co, 4),
    "upsample": lambda ci, co: ResizeConv(ci, co, "nearest"),
    "bilinear": lambda ci, co: ResizeConv(ci, co, "bilinear"),
    "pixelshuffle": PixelShuffleUp,
    "tconv_hold": TConvHold,
}
DOWNSAMPLES = ("stride", "maxpool")


def widths(width: int, depth: int) -> list[int]:
    """Channels after each encoder stage: width, 2*width, 4*width, ..."""
    return [width * 2**i for i in range(depth)]


def build_encoder(channels: int, width: int, depth: int, downsample: str = "stride") -> nn.Sequential:
    """``depth`` stages, each halving the size: a stride-2 3x3 conv, or a 3x3 conv then 2x2 max pool."""
    check_choice("model.downsample", downsample, DOWNSAMPLES)
    layers, c_in = [], channels
    for c in widths(width, depth):
        if downsample == "stride":
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
        else:
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        c_in = c
    return nn.Sequential(*layers)


def build_decoder(name: str, channels: int, width: int, depth: int) -> nn.Sequential:
    """``depth`` x2 upsampling layers, mirroring the encoder; the last one outputs the image.

    The last layer is the upsampling itself (no convolution after it, no output activation), as in
    the Distill article's generators, so whatever pattern it makes reaches the image unfiltered.
    A linear output also avoids the collapse to a constant image that a saturating sigmoid output
    invites in small autoencoders.
    """
    check_choice("decoder.name", name, UPSAMPLERS)
    make = UPSAMPLERS[name]
    ws = widths(width, depth)[::-1]
    layers = []
    for i, c_in in enumerate(ws):
        if i + 1 < len(ws):
            layers += [make(c_in, ws[i + 1]), nn.BatchNorm2d(ws[i + 1]), nn.ReLU(inplace=True)]
        else:
            layers.append(make(c_in, channels))
    return nn.Sequential(*layers)


def encoder_sizes(size: int, depth: int, downsample: str = "stride") -> list[int]:
    """Spatial size after each encoder stage, from the arithmetic module's formulas."""
    sizes = [size]
    for _ in range(depth):
        i = sizes[-1]
        sizes.append(ar.conv_output_size(i, 3, 2, 1) if downsample == "stride"
                     else ar.pool_output_size(ar.conv_output_size(i, 3, 1, 1), 2))
    return sizes


def decoder_sizes(decoder: nn.Sequential, latent_size: int) -> list[int]:
    sizes = [latent_size]
    for layer in decoder:
        if hasattr(layer, "output_size"):
            sizes.append(layer.output_size(sizes[-1]))
    return sizes


def output_stride(depth: int) -> int:
    """Total upsampling factor P = 2^depth; a decoder's artifacts sit at frequencies k/P."""
    return 2**depth
