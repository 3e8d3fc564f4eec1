"""The notes' worked examples as data: inputs, the call, and the output the notes printed.

One list feeds both the tests (each output must equal the values written out here) and
``scripts/tour.py`` (which prints them in the notes' order). A call is kept as the Python text the
notes ran and is evaluated on its inputs, so the text a reader sees is the code that ran. The size
prediction is likewise an expression over ``checkerboard.arithmetic``.

Dtypes follow the notes too: float32 for ``torch.tensor`` of floats, float64 where the notes went
through numpy (the channels section), int64 for the transposed convolution's integers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from checkerboard import arithmetic

SECTIONS = ("convolution", "channels", "padding", "pooling", "upsampling", "transposed")


@dataclass(frozen=True, eq=False)
class Example:
    """One worked example.

    ``call`` is a Python expression over ``inputs`` with ``torch``, ``F`` and ``nn`` in scope.
    ``size`` is an expression over the arithmetic module for the output's height and width (for a
    number output, the number itself); None for a gradient, which simply has its input's shape.
    ``cell`` is the notebook cell that printed ``expected``; None where the notes state the fact
    only in words and the values were worked out here.
    """

    name: str
    section: str
    title: str
    inputs: dict[str, torch.Tensor]
    call: str
    expected: torch.Tensor | int
    size: str | None
    cell: str | None = None

    def run(self) -> torch.Tensor | int:
        # One namespace for globals: a lambda inside the call (torch.func.grad) sees the inputs.
        return eval(self.call, {"torch": torch, "F": F, "nn": nn, **self.inputs})

    def matches(self, output: torch.Tensor | int) -> bool:
        """Exactly the expected values, with the same shape and dtype (no tolerance: the notes' numbers are exact)."""
        if isinstance(self.expected, int):
            return not isinstance(output, torch.Tensor) and output == self.expected
        return (isinstance(output, torch.Tensor) and output.dtype == self.expected.dtype
                and output.shape == self.expected.shape and torch.equal(output, self.expected))

    def predicted_size(self) -> int | None:
        if self.size is None:
            return None
        names = {name: getattr(arithmetic, name) for name in dir(arithmetic) if not name.startswith("_")}
        return eval(self.size, {"__builtins__": {}, **names})


def _image(rows: list, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """A literal 2D grid as a batch of one single-channel image, the layout F.conv2d expects."""
    t = torch.tensor(rows, dtype=dtype)
    return t.view(1, 1, *t.shape)


def _half(value: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """6x6 image whose left three columns hold ``value`` and right three hold 0: one vertical edge."""
    return _image([[value] * 3 + [0.0] * 3 for _ in range(6)], dtype)


def _rows(row: list, n: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return _image([row] * n, dtype)


def _edge_filter(weight: float, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return _rows([weight, 0.0, -weight], 3, dtype)


# --- convolution (notes In [3]-[5]) -------------------------------------------------------------
EDGE = _edge_filter(2.0)
PICTURE = _image([[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
                  [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]])

# --- channels (notes In [7]-[19]), float64 as the notes built them with numpy ---------------------
f64 = torch.float64
RED, GREEN, BLUE = _half(10.0, f64), _half(30.0, f64), _half(20.0, f64)
RED_FILTER, GREEN_FILTER, BLUE_FILTER = _edge_filter(1.0, f64), _edge_filter(2.0, f64), _edge_filter(0.5, f64)
CHANNELS = {"red": RED, "green": GREEN, "blue": BLUE,
            "red_filter": RED_FILTER, "green_filter": GREEN_FILTER, "blue_filter": BLUE_FILTER}

# --- pooling (notes In [20]-[21]) ----------------------------------------------------------------
POOL_4 = _image([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]])
POOL_5 = _image([[1, 3, 2, 1, 3], [2, 9, 1, 1, 5], [1, 3, 2, 3, 2], [8, 3, 5, 1, 0], [5, 6, 1, 2, 9]])

# --- transposed (notes In [24]-[25]) -------------------------------------------------------------
T_INPUT = _image([[1, 4], [0, 2]], torch.int64)
T_KERNEL = _image([[2, 2], [1, 1]], torch.int64)


def _padding_example(mode: str, i: int = 5, k: int = 3) -> Example:
    """How many outputs each input pixel feeds under one padding mode (the notes' padding claim).

    Sending a 1 back from every output of conv2d along a kernel of ones is a transposed
    convolution with the same padding; each input pixel then holds the number of outputs it reached.
    """
    p = arithmetic.padding_for(mode, k)
    o = arithmetic.conv_output_size(i, k, p=p)
    counts = {"valid": [1, 2, 3, 2, 1], "same": [2, 3, 3, 3, 2], "full": [3, 3, 3, 3, 3]}[mode]
    return Example(
        name=f"padding-{mode}", section="padding",
        title=f"'{mode}' padding, p = {p}: conv2d takes {i}x{i} to {o}x{o}; outputs reached per pixel",
        inputs={}, call=f"F.conv_transpose2d(torch.ones(1, 1, {o}, {o}), torch.ones(1, 1, {k}, {k}), padding={p})",
        expected=_image([[a * b for b in counts] for a in counts]),
        size=f"transposed_conv_output_size(i={o}, k={k}, p={p})",
    )


EXAMPLES: tuple[Example, ...] = (
    Example("edge-detector", "convolution", "A vertical-edge filter over the notes' 6x6 image",
            {"x": PICTURE, "w": EDGE}, "F.conv2d(x, w)",
            _image([[-10, -8, 0, 16], [-20, -4, 4, 6], [0, -4, -8, -14], [-6, -4, -6, -32]]),
            "conv_output_size(i=6, k=3)", "In [4]"),
    Example("edge-step", "convolution", "The same filter over a bright-to-dark step: it fires on the edge",
            {"x": _half(30.0), "w": EDGE}, "F.conv2d(x, w)",
            _rows([0, 180, 180, 0], 4), "conv_output_size(i=6, k=3)", "In [5]"),

    Example("channel-red", "channels", "Red channel (10s on the left) with its own filter",
            CHANNELS, "F.conv2d(red, red_filter)", _rows([0, 30, 30, 0], 4, f64),
            "conv_output_size(i=6, k=3)", "In [9]"),
    Example("channel-green", "channels", "Green channel (30s on the left) with its own filter",
            CHANNELS, "F.conv2d(green, green_filter)", _rows([0, 180, 180, 0], 4, f64),
            "conv_output_size(i=6, k=3)", "In [12]"),
    Example("channel-blue", "channels", "Blue channel (20s on the left) with its own filter",
            CHANNELS, "F.conv2d(blue, blue_filter)", _rows([0, 30, 30, 0], 4, f64),
            "conv_output_size(i=6, k=3)", "In [15]"),
    Example("channels-one-filter", "channels", "All three as one 3-channel image and one 3-channel filter",
            CHANNELS, "F.conv2d(torch.cat([red, green, blue], dim=1),"
                      " torch.cat([red_filter, green_filter, blue_filter], dim=1))",
            _rows([0, 240, 240, 0], 4, f64), "conv_output_size(i=6, k=3)", "In [18]"),
    Example("channels-sum", "channels", "The same numbers as the sum of the three one-channel results",
            CHANNELS, "F.conv2d(red, red_filter) + F.conv2d(green, green_filter) + F.conv2d(blue, blue_filter)",
            _rows([0, 240, 240, 0], 4, f64), "conv_output_size(i=6, k=3)", "In [19]"),
    Example("weight-count", "channels", "Weights of a layer of 8 filters, 5x5, over 3 channels (no biases)",
            {}, "nn.Conv2d(3, 8, kernel_size=5, bias=False).weight.numel()", 600,
            "conv_weight_count(in_channels=3, out_channels=8, k=5, bias=False)", "In [6]"),

    _padding_example("valid"),
    _padding_example("same"),
    _padding_example("full"),

    Example("max-pool-2", "pooling", "Max pooling, 2x2 windows, stride 2",
            {"x": POOL_4}, "F.max_pool2d(x, kernel_size=2, stride=2)",
            _image([[9, 2], [6, 3]]), "pool_output_size(i=4, k=2, s=2)", "In [20]"),
    Example("max-pool-3", "pooling", "Max pooling, 3x3 windows, stride 1 (windows overlap)",
            {"x": POOL_5}, "F.max_pool2d(x, kernel_size=3, stride=1)",
            _image([[9, 9, 5], [9, 9, 5], [8, 6, 9]]), "pool_output_size(i=5, k=3, s=1)", "In [21]"),
    Example("max-pool-gradient", "pooling",
            "Its gradient: g, arriving at the 2x2 pooled values, goes back to each window's winner",
            {"x": POOL_4, "g": _image([[10, 20], [30, 40]])},
            "torch.func.grad(lambda x: (F.max_pool2d(x, kernel_size=2, stride=2) * g).sum())(x)",
            _image([[0, 0, 20, 0], [0, 10, 0, 0], [0, 0, 0, 40], [0, 30, 0, 0]]), None),

    Example("upsample-nearest", "upsampling", "Nearest: each value becomes a 2x2 block",
            {"x": _image([[20, 45], [10, 43]])}, 'F.interpolate(x, scale_factor=2, mode="nearest")',
            _image([[20, 20, 45, 45], [20, 20, 45, 45], [10, 10, 43, 43], [10, 10, 43, 43]]),
            "upsample_output_size(i=2, scale_factor=2)", "In [22]"),
    Example("upsample-bilinear", "upsampling", "Bilinear: a smooth blend of the four values",
            {"x": _image([[20, 45], [10, 43]])}, 'F.interpolate(x, scale_factor=2, mode="bilinear")',
            _image([[20, 26.25, 38.75, 45], [17.5, 24.25, 37.75, 44.5],
                    [12.5, 20.25, 35.75, 43.5], [10, 18.25, 34.75, 43]]),
            "upsample_output_size(i=2, scale_factor=2)", "In [23]"),

    Example("transposed-stride-1", "transposed", "Stride 1: the four copies overlap in the middle",
            {"x": T_INPUT, "w": T_KERNEL}, "F.conv_transpose2d(x, w)",
            _image([[2, 10, 8], [1, 9, 8], [0, 2, 2]], torch.int64),
            "transposed_conv_output_size(i=2, k=2, s=1)", "In [24]"),
    Example("transposed-stride-2", "transposed", "Stride 2: the copies sit side by side",
            {"x": T_INPUT, "w": T_KERNEL}, "F.conv_transpose2d(x, w, stride=2)",
            _image([[2, 2, 8, 8], [1, 1, 4, 4], [0, 0, 4, 4], [0, 0, 2, 2]], torch.int64),
            "transposed_conv_output_size(i=2, k=2, s=2)", "In [25]"),
    Example("transposed-overlap", "transposed",
            "A 3x3 kernel at stride 2, all ones: each output counts the copies landing on it",
            {}, "F.conv_transpose2d(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 3, 3), stride=2)",
            _image([[1, 1, 2, 1, 1], [1, 1, 2, 1, 1], [2, 2, 4, 2, 2], [1, 1, 2, 1, 1], [1, 1, 2, 1, 1]]),
            "transposed_conv_output_size(i=2, k=3, s=2)"),
)


def section(name: str) -> tuple[Example, ...]:
    """The examples of one section, in the notes' order."""
    if name not in SECTIONS:
        raise ValueError(f"unknown section {name!r}; the sections are {', '.join(SECTIONS)}")
    return tuple(e for e in EXAMPLES if e.section == name)
