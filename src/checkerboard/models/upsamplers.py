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
it shows as the per-phase output variance (``phases.phase_variance``).

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


def same_conv(c_in: int, c_out: int, init: str, bias: bool, generator: torch.Generator | None) -> nn.Conv2d:
    """The 3x3 "same" convolution after a fixed resampling: the shared draw ``base_kernel`` under ``fan_in``,
    PyTorch's default under ``torch``."""
    conv = nn.Conv2d(c_in, c_out, 3, padding=ar.padding_for("same", 3), bias=bias)
    if init == "fan_in":
        set_weights(conv.weight, conv.bias, base_kernel(c_in, c_out, generator))
    return conv


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
        self.conv = same_conv(c_in, c_out, init, bias, generator)

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


# -- the upsamplers of today's generators --------------------------------------------------
# Three later x2 upsampling layers, beside the classic ones above: a blurred transposed convolution
# (StyleGAN2), zero insertion + a Kaiser-windowed sinc (StyleGAN3), and DySample (point sampling at
# learned offsets). Each follows the project's rules (module docstring): the signature
# ``(c_in, c_out, init, bias, generator)``, ``output_size(i) = 2 i``, and under ``init="fan_in"`` its 3x3
# kernel is the shared draw ``base_kernel`` with biases 0, so that with one seed every decoder starts
# from the same kernel. Every fixed filter here keeps a flat input's level (its DC gain per output
# phase is 1), so the shared kernel is not rescaled: like ``bilinear``, these layers start at the
# DC-preserving scale, and an interpolating filter lowers only the variance of the input's fine detail.
#
# The helpers are imported inside the constructors: ``decoders`` lists these classes in its registry.


class BlurTConv(nn.Module):
    """Transposed convolution (3x3, stride 2, uncropped), then the binomial FIR [1,3,3,1] x [1,3,3,1].

    StyleGAN2's upsampling (Karras et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN",
    ``upsample_conv_2d`` in its ``upfirdn_2d``): the filter ``f f^T / (sum f)^2 * 4``, ``f = [1,3,3,1]``,
    whose gain up^2 = 4 restores the level that zero insertion divides by 4. It is the second member of
    the family whose first is ``tconv_hold``'s box [1,1]. Per dimension, zero insertion followed by
    ``[1,3,3,1]/4`` gives each even output ``(x[i-1] + 3 x[i]) / 4`` and each odd one ``(3 x[i] + x[i+1]) / 4``:
    that is bilinear x2 resizing (align_corners=False). Convolutions commute, so in the interior the
    layer IS ``bilinear`` with the transposed kernel: every phase sees every tap whatever the weights,
    and a flat input stays flat. At the border it pads zeros (as ``upfirdn2d`` does) where bilinear
    resizing repeats the edge pixel: the two outermost output rows and columns differ.

    Alignment: the 4-tap filter's centre falls between samples; cropping one output of the
    ``2n + 1``-long transposed convolution per side (``padding=1``) centres the output on the input
    like nearest and bilinear resizing (output pixel ``2 i + a`` at input coordinate ``i - 1/4 + a/2``).

    Fan-in: the FIR changes the variance. For inputs of variance s^2 the resized values have variance
    ``s^2 (1/16 + 9/16)^2 = 0.39 s^2`` when the input is uncorrelated, and ``s^2`` when it is constant;
    a level is kept exactly (DC gain 1 per phase). The transposed kernel is the shared draw
    (``n = c_in 9``, transposed and flipped, not doubled as ``tconv``'s is: the filter's gain of 4
    makes up for zero insertion instead), so the layer starts as exactly ``bilinear`` with the same seed,
    at about ``bilinear``'s scale (0.86 of ``upsample``'s on the shapes features of
    tests/test_decoders.py, bilinear 0.90: the zeros at the border lower it a little more). Biases 0; the bias arrives 4
    times, a constant after the filter.
    """

    def __init__(self, c_in: int, c_out: int, init: str = "fan_in", bias: bool = True,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.tconv = nn.ConvTranspose2d(c_in, c_out, 3, stride=2, bias=bias)  # uncropped: 2n + 1 a side
        if init == "fan_in":
            kernel = base_kernel(c_in, c_out, generator).transpose(0, 1).flip(-2, -1)
            set_weights(self.tconv.weight, self.tconv.bias, kernel)
        f = torch.tensor([1.0, 3.0, 3.0, 1.0])
        fir = torch.outer(f, f) / f.sum() ** 2 * 4
        self.register_buffer("fir", fir.expand(c_out, 1, 4, 4).clone(), persistent=False)  # fixed, never learned

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.tconv(x)
        return F.conv2d(y, self.fir.to(y.dtype), padding=1, groups=y.shape[1])

    def output_size(self, i: int) -> int:
        return 2 * i


def kaiser_lowpass(numtaps: int = 12, cutoff: float = 0.25, beta: float = 3.975, gain: float = 2.0) -> torch.Tensor:
    """(numtaps,) windowed-sinc low-pass, as ``scipy.signal.firwin(numtaps, cutoff, window=("kaiser", beta),
    fs=1)`` designs it, times ``gain``: ``h[n] = 2 fc sinc(2 fc (n - (N-1)/2)) w[n]``, ``w`` the symmetric
    Kaiser window, normalised to sum ``gain``. ``cutoff`` in cycles per (output) sample.

    beta = 3.975 is Kaiser's formula ``0.5842 (A-21)^0.4 + 0.07886 (A-21)`` for A = 45 dB: with 12 taps the
    transition band is then ``(A - 7.95) / (2.285 (N - 1) 2 pi) = 0.23`` cycles wide, and the response is
    below -40 dB from 0.37 on (tests/test_modern_upsamplers.py measures it).
    """
    n = torch.arange(numtaps, dtype=torch.float64) - (numtaps - 1) / 2
    window = torch.kaiser_window(numtaps, periodic=False, beta=beta, dtype=torch.float64)
    h = 2 * cutoff * torch.sinc(2 * cutoff * n) * window
    return (gain * h / h.sum()).float()


class SincUp(nn.Module):
    """Zero insertion x2, a separable Kaiser-windowed sinc low-pass, then a 3x3 "same" convolution.

    StyleGAN3's upsampling filter (Karras et al. 2021, "Alias-Free Generative Adversarial Networks",
    ``filtered_lrelu``/``upfirdn2d`` with a ``firwin`` design): 12 taps, cutoff at the input's Nyquist
    frequency (0.25 cycles per output pixel), gain 2 per dimension, ``kaiser_lowpass``. With
    ``u`` the zero-inserted input, ``y[m] = sum_n h[n] u[m + 5 - n]`` per dimension, then the conv.

    Alignment: the 12-tap filter is symmetric about 5.5, half an output pixel off the zero-inserted
    samples, so cropping 5 outputs per side puts output pixel ``2 i + a`` at input coordinate
    ``i - 1/4 + a/2``: centred like nearest and bilinear resizing. The same symmetry makes the
    even taps the mirror image of the odd ones: both phases' DC gains are exactly 1, and a flat input
    stays flat away from the border (the filter reaches 3 input pixels; zeros are padded beyond).

    Fan-in: the filter keeps a level (DC gain 1 per phase); uncorrelated inputs keep 0.877 of their
    variance per dimension (the sum of each phase's squared taps), 0.77 in 2D. The 3x3 kernel is the
    shared draw (``n = c_in 9``) unscaled, like ``bilinear``'s. The filter is a buffer: never learned.
    """

    def __init__(self, c_in: int, c_out: int, init: str = "fan_in", bias: bool = True,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.conv = same_conv(c_in, c_out, init, bias, generator)
        self.register_buffer("taps", kaiser_lowpass(), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c, h = x.shape[1], self.taps.to(x.dtype)
        pad = (len(h) - 2) // 2  # 5: keeps 2n of the 2n + 10 outputs, the centred ones
        # A stride-2 transposed convolution is zero insertion then the filter; rows, then columns.
        x = F.conv_transpose2d(x, h.view(1, 1, -1, 1).expand(c, 1, -1, 1), stride=(2, 1), padding=(pad, 0), groups=c)
        x = F.conv_transpose2d(x, h.view(1, 1, 1, -1).expand(c, 1, 1, -1), stride=(1, 2), padding=(0, pad), groups=c)
        return self.conv(x)

    def output_size(self, i: int) -> int:
        return 2 * i


class DySample(nn.Module):
    """DySample (Liu et al., ICCV 2023, "Learning to Upsample by Learning to Sample"), then a 3x3 conv.

    Its "lp" style with the static scope factor 0.25 and one group: a 1x1 conv gives, at each input
    pixel, an offset ``(dx, dy)`` for each of the four output pixels it becomes; output pixel
    ``(2 i + a, 2 j + b)`` samples the input bilinearly (``grid_sample``, align_corners=False, border
    padding) at ``(i + 1/2 + (2a - 1)/4 + 0.25 dy, j + 1/2 + (2b - 1)/4 + 0.25 dx)``, in input pixels
    with pixel i covering [i, i + 1). With zero offsets these are bilinear x2 resizing's positions, so the
    layer then IS ``bilinear``, borders included (border padding clamps as ``interpolate`` does).
    Read from the authors' code: github.com/tiny-smart/dysample, ``dysample.py`` at commit
    efcf8ae981c909377cbf748999858480e002670a (``init_pos``, ``sample``, ``forward_lp``); written here
    anew for one group and the four sub-pixels in pixel-shuffle order.

    Init: the offset conv as the authors draw it, normal std 0.001 and bias 0, under both ``init``
    settings (it is part of the method; near-zero offsets make the layer start as bilinear resizing);
    the 3x3 conv is the shared draw (``fan_in``) or PyTorch's default (``torch``). A flat input stays flat
    for any offsets (sampling a constant gives it back), so ``phase_gain_spread`` is 0 by construction:
    any artifact it makes comes from offsets that differ between phases on textured inputs.
    """

    def __init__(self, c_in: int, c_out: int, init: str = "fan_in", bias: bool = True,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.conv = same_conv(c_in, c_out, init, bias, generator)
        self.offset = nn.Conv2d(c_in, 2 * 4, 1)  # (dx for the 4 sub-pixels, then dy), pixel-shuffle order
        with torch.no_grad():  # drawn after the shared kernel, so that the kernel is the same for a seed
            self.offset.weight.normal_(0, 0.001, generator=generator)
            self.offset.bias.zero_()
        quarter = torch.tensor([-0.25, 0.25])  # sub-pixel centres, in input pixels, from the pixel's centre
        init_pos = torch.cat([quarter.repeat(2), quarter.repeat_interleave(2)])  # dx varies with b, dy with a
        self.register_buffer("init_pos", init_pos.view(1, 8, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        offset = F.pixel_shuffle(self.offset(x) * 0.25 + self.init_pos.to(x.dtype), 2)  # (n, 2, 2h, 2w)
        # The centre of input pixel (i, j) for each output pixel: (i + 1/2, j + 1/2), i = row // 2.
        rows = torch.arange(2 * h, device=x.device, dtype=x.dtype).div(2, rounding_mode="floor") + 0.5
        cols = torch.arange(2 * w, device=x.device, dtype=x.dtype).div(2, rounding_mode="floor") + 0.5
        gx = 2 * (cols.view(1, 1, -1) + offset[:, 0]) / w - 1  # normalised as align_corners=False reads it
        gy = 2 * (rows.view(1, -1, 1) + offset[:, 1]) / h - 1
        y = F.grid_sample(x, torch.stack([gx, gy], dim=-1), mode="bilinear", padding_mode="border",
                          align_corners=False)
        return self.conv(y)

    def output_size(self, i: int) -> int:
        return 2 * i


#: name -> constructor(c_in, c_out, init=..., bias=..., generator=..., [icnr=...]) of an x2 upsampling layer.
UPSAMPLERS = {
    "tconv": lambda ci, co, **kw: TConv(ci, co, 3, **kw),
    "tconv4": lambda ci, co, **kw: TConv(ci, co, 4, **kw),
    "upsample": lambda ci, co, **kw: ResizeConv(ci, co, "nearest", **kw),
    "bilinear": lambda ci, co, **kw: ResizeConv(ci, co, "bilinear", **kw),
    "pixelshuffle": PixelShuffleUp,
    "tconv_hold": TConvHold,
    "blur": BlurTConv,
    "sinc": SincUp,
    "dysample": DySample,
}
