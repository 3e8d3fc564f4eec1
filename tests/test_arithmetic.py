"""The arithmetic module against real torch layers.

Each formula is checked over a grid of sizes, kernels, strides, paddings and dilations: where torch
produces an output the formula must give its size, and where torch refuses the formula must raise.
"""

from __future__ import annotations

import itertools

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from checkerboard.arithmetic import (
    PADDING_MODES,
    conv_output_size,
    conv_weight_count,
    effective_kernel_size,
    padding_for,
    pool_output_size,
    transposed_conv_output_size,
    upsample_output_size,
)


def _torch_size(op, *args, **kwargs) -> int | None:
    """Width of torch's output, or None where torch refuses (or, for transposed conv, returns nothing)."""
    try:
        out = op(*args, **kwargs)
    except RuntimeError:
        return None
    return out.shape[-1] or None


def _ours(fn, *args, **kwargs) -> int | None:
    try:
        return fn(*args, **kwargs)
    except ValueError:
        return None


def _image(i: int) -> torch.Tensor:
    return torch.zeros(1, 1, i, i)


def _grid_agrees(cases, torch_fn, our_fn) -> int:
    """Compare over all cases; return how many torch accepted, so a test can insist on coverage."""
    accepted, wrong = 0, []
    for case in cases:
        expected, got = torch_fn(*case), _ours(our_fn, *case)
        if expected != got:
            wrong.append((case, expected, got))
        accepted += expected is not None
    assert not wrong, f"{len(wrong)} disagreements, first ones (args, torch, ours): {wrong[:5]}"
    return accepted


def test_conv_output_size_matches_torch():
    cases = itertools.product(range(1, 9), range(1, 5), range(1, 4), range(3), (1, 2))  # i, k, s, p, d
    accepted = _grid_agrees(
        cases, lambda i, k, s, p, d: _torch_size(F.conv2d, _image(i), torch.zeros(1, 1, k, k), None, s, p, d),
        conv_output_size)
    assert accepted > 400  # the grid is mostly shapes torch accepts, not a wall of refusals


@pytest.mark.parametrize("ceil_mode", [False, True])
def test_pool_output_size_matches_torch(ceil_mode):
    cases = itertools.product(range(1, 9), range(1, 5), range(1, 4), range(3), (1, 2))
    accepted = _grid_agrees(
        cases, lambda i, k, s, p, d: _torch_size(F.max_pool2d, _image(i), k, s, p, d, ceil_mode=ceil_mode),
        lambda i, k, s, p, d: pool_output_size(i, k, s, p, d, ceil_mode=ceil_mode))
    assert accepted > 200


def test_pool_stride_defaults_to_kernel_as_in_torch():
    assert pool_output_size(8, 2) == nn.MaxPool2d(2)(_image(8)).shape[-1] == 4


def test_transposed_conv_output_size_matches_torch():
    def cases():
        for i, k, s, p, d in itertools.product(range(1, 6), range(1, 5), range(1, 4), range(3), (1, 2)):
            for output_padding in range(max(s, d) + 1):  # one past the limit, which both refuse
                yield i, k, s, p, output_padding, d

    accepted = _grid_agrees(
        cases(), lambda i, k, s, p, op, d: _torch_size(
            F.conv_transpose2d, _image(i), torch.zeros(1, 1, k, k), None, s, p, op, 1, d),
        transposed_conv_output_size)
    assert accepted > 500


def test_transposed_conv_is_the_notes_formula_without_padding():
    for i, k, s in itertools.product(range(1, 6), range(1, 5), range(1, 4)):
        assert transposed_conv_output_size(i, k, s) == s * (i - 1) + k


def test_upsample_output_size_matches_torch():
    cases = itertools.product(range(1, 8), (1 / 3, 0.5, 1, 1.5, 2, 2.5, 3))
    _grid_agrees(cases, lambda i, f: _torch_size(F.interpolate, _image(i), scale_factor=f), upsample_output_size)


def test_effective_kernel_size_is_the_reach_of_a_dilated_kernel():
    for k, d in itertools.product(range(1, 5), range(1, 4)):
        w = torch.zeros(1, 1, k, k)
        # A valid conv shrinks the input by exactly the reach minus one.
        assert F.conv2d(_image(20), w, dilation=d).shape[-1] == 20 - effective_kernel_size(k, d) + 1


@pytest.mark.parametrize("k,d", [(1, 1), (3, 1), (5, 1), (7, 1), (3, 2), (2, 2)])
def test_padding_modes_give_the_documented_sizes(k, d):
    reach = effective_kernel_size(k, d)
    w = torch.ones(1, 1, k, k)
    for i in range(reach, reach + 4):
        def size(mode: str) -> int:
            return F.conv2d(_image(i), w, padding=padding_for(mode, k, d), dilation=d).shape[-1]

        assert size("valid") == i - reach + 1 == conv_output_size(i, k, d=d)
        assert size("same") == size("half") == i
        assert size("full") == i + reach - 1


@pytest.mark.parametrize("k", [1, 3, 5])
def test_same_padding_is_torchs_same(k):
    x, w = torch.randn(1, 1, 9, 9), torch.randn(1, 1, k, k)
    assert torch.equal(F.conv2d(x, w, padding=padding_for("same", k)), F.conv2d(x, w, padding="same"))


def _outputs_reached(i: int, k: int, p: int, d: int = 1) -> torch.Tensor:
    """For each input pixel, the number of outputs of a k x k conv it feeds.

    With a kernel of ones, d(sum of outputs)/d(pixel) counts exactly the outputs the pixel reaches.
    """
    x = torch.zeros(1, 1, i, i, requires_grad=True)
    F.conv2d(x, torch.ones(1, 1, k, k), padding=p, dilation=d).sum().backward()
    return x.grad[0, 0]


@pytest.mark.parametrize("k,d", [(2, 1), (3, 1), (5, 1), (3, 2)])
def test_full_padding_lets_every_pixel_reach_the_same_number_of_outputs(k, d):
    i = effective_kernel_size(k, d) + 3
    full = _outputs_reached(i, k, padding_for("full", k, d), d)
    assert torch.all(full == k * k), full  # every pixel meets every kernel tap once
    # The claim is not vacuous: one ring of padding fewer, and the corners reach fewer outputs.
    less = _outputs_reached(i, k, padding_for("full", k, d) - 1, d)
    assert less[0, 0] < less[i // 2, i // 2]


@pytest.mark.parametrize("mode", ["valid", "same"])
def test_valid_and_same_padding_favour_the_centre(mode):
    reach = _outputs_reached(7, 3, padding_for(mode, 3))
    assert reach[0, 0] < reach[0, 3] < reach[3, 3] == 9


def test_padding_for_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="odd"):
        padding_for("same", 4)
    with pytest.raises(ValueError, match="valid, same, half, full"):
        padding_for("reflect", 3)
    assert set(PADDING_MODES) == {"valid", "same", "half", "full"}


@pytest.mark.parametrize("bad", [dict(s=0), dict(k=0), dict(d=0), dict(p=-1), dict(i=0)])
def test_sizes_and_strides_must_be_positive(bad):
    args = dict(i=6, k=3, s=1, p=0, d=1) | bad
    with pytest.raises(ValueError, match="at least"):
        conv_output_size(**args)


def test_non_integers_are_refused():
    with pytest.raises(TypeError):
        conv_output_size(6.0, 3)


def test_weight_count_is_the_notes_600():
    assert conv_weight_count(3, 8, 5, bias=False) == 5 * 5 * 3 * 8 == 600
    assert conv_weight_count(3, 8, 5) == 608  # one bias per filter


@pytest.mark.parametrize("c_in,c_out,k,bias", itertools.product((1, 3), (1, 8), (1, 3, 5), (False, True)))
def test_weight_count_matches_torch(c_in, c_out, k, bias):
    layer = nn.Conv2d(c_in, c_out, k, bias=bias)
    assert conv_weight_count(c_in, c_out, k, bias) == sum(p.numel() for p in layer.parameters())
