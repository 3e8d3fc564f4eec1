"""Convolution arithmetic: output sizes, padding modes and weight counts.

These are the formulas of the notes (and of Dumoulin & Visin, "A guide to convolution arithmetic
for deep learning"), written once so that the model, the tour and the tests share them. Every
function works on one spatial dimension; square inputs and kernels use it for both.
"""

from __future__ import annotations

PADDING_MODES = ("valid", "same", "half", "full")


# Paddings may be zero; sizes, strides and dilations must be at least 1 (a stride of 0 would
# divide by zero, a negative one would return a size torch never produces).
_MAY_BE_ZERO = ("p", "output_padding")


def _check(**values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} must be an int, got {value!r}")
        lowest = 0 if name in _MAY_BE_ZERO else 1
        if value < lowest:
            raise ValueError(f"{name} must be at least {lowest}, got {value}")


def effective_kernel_size(k: int, d: int = 1) -> int:
    """Reach of a kernel of size k with dilation d: d(k-1) + 1."""
    return d * (k - 1) + 1


def conv_output_size(i: int, k: int, s: int = 1, p: int = 0, d: int = 1) -> int:
    """Output size of a convolution: floor((i + 2p - d(k-1) - 1) / s) + 1 (as torch.nn.Conv2d)."""
    _check(i=i, k=k, s=s, p=p, d=d)
    out = (i + 2 * p - effective_kernel_size(k, d)) // s + 1
    if out < 1:
        raise ValueError(f"a {k}x{k} kernel (dilation {d}) with padding {p} does not fit an input of size {i}")
    return out


def pool_output_size(
    i: int, k: int, s: int | None = None, p: int = 0, d: int = 1, ceil_mode: bool = False
) -> int:
    """Output size of max pooling; the stride defaults to the kernel size, as in torch.

    floor((i + 2p - d(k-1) - 1) / s) + 1, or the ceiling with ``ceil_mode`` (where a last window
    that would start in the right padding is dropped, as torch does).
    """
    s = k if s is None else s
    _check(i=i, k=k, s=s, p=p, d=d)
    if p > k // 2:
        # torch refuses it too: a window could then hold nothing but padding.
        raise ValueError(f"pooling padding ({p}) must be at most half the kernel size ({k})")
    if not ceil_mode:
        return conv_output_size(i, k, s, p, d)
    span = i + 2 * p - effective_kernel_size(k, d)
    out = -(-span // s) + 1
    if (out - 1) * s >= i + p:
        out -= 1
    if out < 1:
        raise ValueError(f"a {k}x{k} pooling window (dilation {d}) with padding {p} does not fit an input of size {i}")
    return out


def transposed_conv_output_size(
    i: int, k: int, s: int = 1, p: int = 0, output_padding: int = 0, d: int = 1
) -> int:
    """Output size of a transposed convolution: s(i-1) + d(k-1) + 1 - 2p + output_padding.

    With no padding and no dilation this is the notes' s(i-1) + k.
    """
    _check(i=i, k=k, s=s, p=p, output_padding=output_padding, d=d)
    if output_padding >= max(s, d):
        raise ValueError(f"output_padding ({output_padding}) must be smaller than the stride ({s}) "
                         f"or the dilation ({d})")
    out = s * (i - 1) + effective_kernel_size(k, d) - 2 * p + output_padding
    if out < 1:
        raise ValueError(f"padding {p} crops away the whole {out + 2 * p}-pixel output of this transposed convolution")
    return out


def upsample_output_size(i: int, scale_factor: float) -> int:
    """Output size of F.interpolate with a scale factor: floor(i * scale_factor), as torch rounds."""
    _check(i=i)
    if scale_factor <= 0:
        raise ValueError(f"scale_factor must be positive, got {scale_factor}")
    out = int(i * scale_factor)
    if out < 1:
        raise ValueError(f"scale_factor {scale_factor} shrinks an input of size {i} to nothing")
    return out


def padding_for(mode: str, k: int, d: int = 1) -> int:
    """Zero padding of each border for a stride-1 convolution in one of the notes' modes.

    - "valid": no padding; the output shrinks by k-1.
    - "same" (or "half"): the output has the input's size, p = (k-1)/2 (needs an odd reach).
    - "full": every input pixel meets every kernel tap, so each reaches the same number of
      outputs, p = k-1; the output grows by k-1.
    """
    _check(k=k, d=d)
    reach = effective_kernel_size(k, d)
    if mode == "valid":
        return 0
    if mode in ("same", "half"):
        if reach % 2 == 0:
            raise ValueError(f"'same' padding needs an odd kernel reach, got {reach} (kernel {k}, dilation {d})")
        return (reach - 1) // 2
    if mode == "full":
        return reach - 1
    raise ValueError(f"unknown padding mode {mode!r}; valid modes are {', '.join(PADDING_MODES)}")


def conv_weight_count(in_channels: int, out_channels: int, k: int, bias: bool = True) -> int:
    """Learned numbers in a conv layer: k*k*in_channels per filter, times the filters, plus biases.

    The notes' example: 8 filters of 5x5 over 3 channels hold 5*5*3*8 = 600 weights (608 with biases).
    """
    _check(in_channels=in_channels, out_channels=out_channels, k=k)
    return k * k * in_channels * out_channels + (out_channels if bias else 0)
