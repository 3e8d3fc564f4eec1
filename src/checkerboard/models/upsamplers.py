"""The x2 upsampling layers the project compares, and the encoder/decoder built around them.

Every decoder shares the same encoder, widths, depth, activation and normalization; only the x2
upsampling operation differs, so any difference in artifacts comes from that operation alone.

Why some of them make checkerboards. A stride-2 transposed convolution is zero insertion (the
input's pixels on every other row and column, zeros between) followed by a convolution. Each of
the four output phases (even/odd row x even/odd column) is then a convolution of the input with
its own subset of the kernel's taps. With ``ConvTranspose2d(k=3, s=2, padding=1,
output_padding=1)`` the odd outputs of each dimension receive 2 taps and the even ones 1, so the
phases have 1, 2, 2 and 4 taps. Feed the layer a flat region and each phase returns the input's
level times the sum of its own taps, its DC gain: unless the four sums are equal, a flat input
comes out as a fixed period-2 pattern. Random weights make unequal sums, so an untrained layer
paints a checkerboard whatever its overlap; ``tconv4`` (4x4 kernel, 2 taps per dimension in
every phase) has unequal sums too, only its tap counts are even. Equal sums are what keeps a flat
input flat (Sugawara et al. derive a checkerboard-free condition for CNNs from this multirate view;
we read only their abstracts). Resizing first and then convolving satisfies
it by construction: every phase sees all the taps, so every phase has the same DC gain. The
``1:2:2:4`` tap count is the all-ones special case of the DC gains; over random initialisations
it shows as the per-phase output variance (``visuals.phase_variance``).

Initialisation. Every x2 layer draws its weights from ``U(-1/sqrt(n), 1/sqrt(n))``, PyTorch's
rule for ``Conv2d``, with ``n`` the number of input values (channels x taps) that reach one
output pixel, averaged over the output pixels: ``c_in k^2`` for a convolution,
``c_in k^2 / s^2`` for a stride-``s`` transposed convolution, and ``c_in k^2`` again for the
transposed convolution under a hold, whose box adds up the ``s^2`` phases; biases start at 0.
Every layer then starts at the same output scale, so that decoders are compared from equal
starts, and every 3x3 layer from the same random kernel for the same seed (``base_kernel``).
PyTorch's own ``ConvTranspose2d`` default takes its fan-in from the OUTPUT channels
(``c_out k^2``); ``init=torch`` keeps it, to show the confound.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from checkerboard import arithmetic as ar

INITS = ("fan_in", "torch")


def uniform(shape, n: float, generator: torch.Generator | None) -> torch.Tensor:
    """``U(-1/sqrt(n), 1/sqrt(n))``: PyTorch's Conv2d rule for ``n`` inputs per output."""
    return torch.empty(shape).uniform_(-1 / math.sqrt(n), 1 / math.sqrt(n), generator=generator)


def base_kernel(c_in: int, c_out: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """(c_out, c_in, 3, 3), ``n = c_in 9``: the one random draw every 3x3 x2 layer starts from, so that
    with the same seed ``upsample``, ``bilinear``, ``pixelshuffle`` (ICNR), ``tconv`` and
    ``tconv_hold`` start from the same kernel, and differ only in how they upsample."""
    return uniform((c_out, c_in, 3, 3), c_in * 9, generator)


def set_weights(weight: nn.Parameter, bias: nn.Parameter | None, value: torch.Tensor) -> None:
    with torch.no_grad():
        weight.copy_(value)
        if bias is not None:
            bias.zero_()


class TConv(nn.ConvTranspose2d):
    """Transposed convolution, stride 2, output twice the input: kernel 3 overlaps unevenly, 4 evenly."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int = 3, init: str = "fan_in", bias: bool = True,
                 generator: torch.Generator | None = None, hold_gain: int = 1):
        # padding/output_padding chosen so that the output is exactly twice the input.
        super().__init__(c_in, c_out, kernel_size, stride=2, padding=1, output_padding=kernel_size % 2, bias=bias)
        if init == "fan_in":  # each output pixel sums n = c_in k^2 / s^2 inputs (times a hold's s^2 phases)
            if kernel_size == 3:  # the shared draw as a transposed kernel, scaled from n = c_in 9 to this n
                weight = base_kernel(c_in, c_out, generator).transpose(0, 1).flip(-2, -1) * 2 / hold_gain**0.5
            else:
                weight = uniform(self.weight.shape, c_in * kernel_size**2 / 4 * hold_gain, generator)
            set_weights(self.weight, self.bias, weight)

    def output_size(self, i: int) -> int:
        return ar.transposed_conv_output_size(i, self.kernel_size[0], 2, 1, self.output_padding[0])


class ResizeConv(nn.Module):
    """Resize x2 (nearest or bilinear), then a 3x3 "same" convolution: resize-convolution."""

    def __init__(self, c_in: int, c_out: int, mode: str = "nearest", init: str = "fan_in", bias: bool = True,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.mode = mode
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=ar.padding_for("same", 3), bias=bias)
        if init == "fan_in":
            set_weights(self.conv.weight, self.conv.bias, base_kernel(c_in, c_out, generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        align = False if self.mode == "bilinear" else None
        return self.conv(F.interpolate(x, scale_factor=2, mode=self.mode, align_corners=align))

    def output_size(self, i: int) -> int:
        return ar.conv_output_size(2 * i, 3, 1, ar.padding_for("same", 3))


class PixelShuffleUp(nn.Module):
    """3x3 convolution to 4C channels, then PixelShuffle(2) (sub-pixel convolution).

    ICNR initialisation (Aitken et al. 2017, ``icnr=True``): PixelShuffle builds output channel c
    from input channels 4c..4c+3, so giving those four the same kernel (``repeat_interleave``, not
    ``repeat``) makes the layer, at initialisation, exactly a convolution followed by a nearest
    x2 resize: equal DC gains, no checkerboard. Each output pixel is one conv output: ``n = c_in 9``.
    """

    def __init__(self, c_in: int, c_out: int, init: str = "fan_in", bias: bool = True, icnr: bool = True,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.conv = nn.Conv2d(c_in, 4 * c_out, 3, padding=1, bias=bias)
        self.shuffle = nn.PixelShuffle(2)
        if icnr and init == "fan_in":  # one kernel shared by each group of 4: the shared draw, biases 0
            kernel = base_kernel(c_in, c_out, generator).repeat_interleave(4, dim=0)
            set_weights(self.conv.weight, self.conv.bias, kernel)
        elif icnr:  # PyTorch's default draw for one c_out-channel conv, weights and biases, shared by the 4
            base = nn.Conv2d(c_in, c_out, 3, bias=bias)
            with torch.no_grad():
                self.conv.weight.copy_(base.weight.repeat_interleave(4, dim=0))
                if bias:
                    self.conv.bias.copy_(base.bias.repeat_interleave(4, dim=0))
        elif init == "fan_in":
            set_weights(self.conv.weight, self.conv.bias, uniform(self.conv.weight.shape, c_in * 9, generator))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.conv(x))

    def output_size(self, i: int) -> int:
        return 2 * ar.conv_output_size(i, 3, 1, 1)


class TConvHold(nn.Module):
    """The ``tconv`` layer followed by a fixed 2x2 box of ones: the zero-order hold.

    Zero insertion followed by the 2x2 box of ones is a nearest x2 resize, so the whole layer
    computes nearest resize followed by a 3x3 convolution (with the transposed kernel): the same
    function class as ``upsample``, at the cost of the transposed convolution. The box runs over the
    uncropped transposed convolution, so the border is ``upsample``'s too: cropping first and padding
    one side (an earlier version) left the first row and column short of taps, and that alone made a
    checkerboard in training (README, Results). The box of ones is the zero-order hold of Sugawara et
    al. as Kinoshita & Kiya's code builds it (its gain s^2 = 4 restores the level that zero insertion
    divided by 4, as StyleGAN2's upsampling filter does with its gain of up^2); the fan-in rule
    accounts for it (see the module docstring). The box is a buffer, not a parameter: never learned.
    """

    def __init__(self, c_in: int, c_out: int, init: str = "fan_in", bias: bool = True,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.tconv = TConv(c_in, c_out, 3, init=init, bias=bias, generator=generator, hold_gain=4)
        self.register_buffer("box", torch.ones(c_out, 1, 2, 2), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The whole transposed convolution (2n + 1 a side, no cropping), then the box without padding:
        # 2n a side, exactly nearest resize + convolution, borders included.
        t = self.tconv
        y = F.conv_transpose2d(x, t.weight, t.bias, stride=2)
        return F.conv2d(y, self.box.to(y.dtype), groups=y.shape[1])

    def output_size(self, i: int) -> int:
        return self.tconv.output_size(i)


#: name -> constructor(c_in, c_out, init=..., bias=..., generator=..., [icnr=...]) of an x2 upsampling layer.
UPSAMPLERS = {
    "tconv": lambda ci, co, **kw: TConv(ci, co, 3, **kw),
    "tconv4": lambda ci, co, **kw: TConv(ci, co, 4, **kw),
    "upsample": lambda ci, co, **kw: ResizeConv(ci, co, "nearest", **kw),
    "bilinear": lambda ci, co, **kw: ResizeConv(ci, co, "bilinear", **kw),
    "pixelshuffle": PixelShuffleUp,
    "tconv_hold": TConvHold,
}
