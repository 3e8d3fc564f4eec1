"""The tour: the worked examples of convolution arithmetic, run and checked against their expected values.

`scripts/tour.py [--section NAME]` is its command line. For each example it prints the inputs, the
call, its output, the size the arithmetic module predicts, and ✓ or ✗ against the expected
values. It exits 1 if anything differs, so it doubles as a check. The examples live in
`checkerboard.notes.examples`; this file only prints them.
"""

from __future__ import annotations

import argparse
import re
import textwrap

import torch

from checkerboard.formatting import number
from checkerboard.notes import examples as notes

PASS, FAIL = "✓", "✗"
INDENT = "     "

INTRO = {
    "convolution": (
        "Convolution",
        "A convolution slides a small grid of weights, the filter (or kernel), over the image. At "
        "every stop it multiplies the pixels under the filter by the weights and adds the products "
        "into one output value. With no padding and stride 1 a k-wide filter has i-k+1 places "
        "to stop along an i-wide image, so a 3x3 filter turns 6x6 into 4x4. This filter weighs its "
        "left column +2 and its right column -2: it answers where brightness falls from left to "
        "right, at vertical edges. The leading 1s in the shapes are the batch and channel axes "
        "that F.conv2d expects.",
    ),
    "channels": (
        "Channels",
        "A colour image has several channels, and a filter always has as many channels as its "
        "input. Each filter channel runs over its own image channel and the results are added, so "
        "one filter gives one output channel however many it reads. A layer stacks several filters, "
        "one output channel each, and learns k*k*(input channels) weights per filter, plus a bias "
        "each if it has biases.",
    ),
    "padding": (
        "Padding",
        "Without padding, a pixel in the middle sits under more filter positions than a pixel at "
        "the border, so the border counts for less in the output. Padding puts p rings of zeros "
        "around the image. 'valid' adds none and the output shrinks by k-1; 'same' (or 'half') adds "
        "(k-1)/2 so the output keeps the input's size; 'full' adds k-1, the most that still lets "
        "every output see a real pixel, and then every pixel meets every filter weight once. Each "
        "grid shows, for a 5x5 image and a 3x3 filter, how many outputs each pixel feeds. It is "
        "computed by sending a 1 back from every output along the filter, which is what a "
        "transposed convolution (the last section) does.",
    ),
    "pooling": (
        "Pooling",
        "Pooling shrinks a map by replacing each window with one summary number; max pooling keeps "
        "the largest. Window and stride set the output size just as they do for a convolution, but "
        "there are no weights to learn. Training still flows through it: the gradient reaching a "
        "pooled value passes unchanged to the pixel that won its window, and the others get zero.",
    ),
    "upsampling": (
        "Upsampling",
        "Upsampling enlarges a map by a fixed rule, again with nothing to learn. 'nearest' repeats "
        "each value over a block; 'bilinear' gives each new pixel a distance-weighted mix of the "
        "closest original values, so there are no steps (at the border the values are held, not "
        "extrapolated).",
    ),
    "transposed": (
        "Transposed convolution",
        "A transposed convolution upsamples with learned weights. Every input pixel stamps a copy "
        "of the kernel, scaled by its own value, onto the output; neighbouring stamps sit s pixels "
        "apart and add up where they overlap, so the output is s(i-1)+k wide. When k is not a "
        "multiple of s some outputs receive more stamps than their neighbours, and the imbalance "
        "repeats every s pixels: the checkerboard this project is about. ('Deconvolution' is a "
        "common name for it, and a wrong one: it does not undo a convolution.)",
    ),
}


def grid(t: torch.Tensor, indent: str = INDENT + "    ") -> str:
    """The tensor's rows as aligned numbers: torch's repr buries 2x2 grids in brackets and dtypes."""
    rows = [[number(v) for v in row] for row in t.detach().reshape(-1, t.shape[-1]).tolist()]
    width = max(len(cell) for row in rows for cell in row)
    return "\n".join(indent + " ".join(cell.rjust(width) for cell in row) for row in rows)


def show(value: torch.Tensor | int) -> str:
    return grid(value) if isinstance(value, torch.Tensor) else INDENT + "    " + str(value)


def describe(t: torch.Tensor) -> str:
    return f"{tuple(t.shape)} {str(t.dtype).removeprefix('torch.')}"


def size_line(example: notes.Example, output: torch.Tensor | int) -> tuple[str, bool]:
    """The arithmetic module's prediction next to what torch produced, and its check mark."""
    predicted = example.predicted_size()
    if isinstance(output, torch.Tensor):
        h, w = output.shape[-2:]
        if predicted is None:  # nothing to predict, and nothing to tick
            return f"none needed: a gradient has its input's shape, {h}x{w}", True
        ok = (h, w) == (predicted, predicted)
        return f"{example.size} = {predicted}; torch made {h}x{w}  {PASS if ok else FAIL}", ok
    ok = predicted == output
    return f"{example.size} = {predicted}; torch counted {output}  {PASS if ok else FAIL}", ok


def print_example(number: str, example: notes.Example, shown: set) -> bool:
    """Print one example; return whether it agrees with the notes and with the arithmetic."""
    print(f"\n  {number}  {example.title}")
    # The channels examples share one dict of inputs: show only those the call uses, and each
    # tensor once per section.
    used = {n: t for n, t in example.inputs.items() if re.search(rf"\b{n}\b", example.call)}
    seen = [n for n, t in used.items() if (n, id(t)) in shown]
    for name, tensor in used.items():
        if name not in seen:
            shown.add((name, id(tensor)))
            print(f"{INDENT}{name}  {describe(tensor)}\n{grid(tensor)}")
    if seen:
        print(f"{INDENT}{', '.join(seen)}: as above")
    print(f"{INDENT}>>> {example.call}")
    try:
        output = example.run()
    except Exception as error:  # a broken example must show up as ✗, not end the tour
        print(f"{INDENT}{FAIL} raised {type(error).__name__}: {error}")
        return False
    print(show(output))
    size_text, size_ok = size_line(example, output)
    print(f"{INDENT}arithmetic  {size_text}")
    values_ok = example.matches(output)
    print(f"{INDENT}values      {'as expected' if values_ok else 'differ from the expected ones'}  "
          f"{PASS if values_ok else FAIL}")
    if not values_ok:
        print(f"{INDENT}            expected:\n{show(example.expected)}")
    return size_ok and values_ok


def main(argv: list[str] | None = None, examples: tuple[notes.Example, ...] = notes.EXAMPLES) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/tour.py", description=__doc__.splitlines()[0])
    parser.add_argument("--section", choices=notes.SECTIONS, help="run only this section of the notes")
    args = parser.parse_args(argv)
    sections = [args.section] if args.section else list(notes.SECTIONS)

    results = []
    for name in sections:
        heading, text = INTRO[name]
        number = notes.SECTIONS.index(name) + 1
        print(f"\n{f'== {number}. {heading} ':=<88}\n")
        print(textwrap.fill(text, width=88, initial_indent="  ", subsequent_indent="  "))
        shown: set = set()
        chosen = [e for e in examples if e.section == name]
        for j, example in enumerate(chosen, start=1):
            results.append(print_example(f"{number}.{j}", example, shown))

    failed = results.count(False)
    if failed:
        print(f"\n{len(results)} examples: {len(results) - failed} {PASS}, {failed} {FAIL}")
    else:
        print(f"\n{len(results)} examples, all {PASS}")
    return 1 if failed else 0
