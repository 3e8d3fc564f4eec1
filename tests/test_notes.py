"""The notes' worked examples, each checked exactly against the values written out in
`checkerboard.notes.examples` (the numbers the notebook printed), the tour that prints them, and the
notes' figures."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from checkerboard import ROOT
from checkerboard.notes import examples as notes
from checkerboard.notes import tour
from checkerboard.reports.figures import main

TOUR = ROOT / "scripts" / "tour.py"
BY_NAME = {e.name: e for e in notes.EXAMPLES}


def test_every_worked_example_is_there_in_the_notes_order():
    assert list(BY_NAME) == [
        "edge-detector", "edge-step",
        "channel-red", "channel-green", "channel-blue", "channels-one-filter", "channels-sum", "weight-count",
        "padding-valid", "padding-same", "padding-full",
        "max-pool-2", "max-pool-3", "max-pool-gradient",
        "upsample-nearest", "upsample-bilinear",
        "transposed-stride-1", "transposed-stride-2", "transposed-overlap",
    ]
    assert [e.section for e in notes.EXAMPLES] == sorted(
        (e.section for e in notes.EXAMPLES), key=notes.SECTIONS.index)


@pytest.mark.parametrize("example", notes.EXAMPLES, ids=lambda e: e.name)
def test_example_gives_exactly_the_expected_output(example):
    output = example.run()
    if isinstance(example.expected, int):
        assert output == example.expected
    else:
        torch.testing.assert_close(output, example.expected, rtol=0, atol=0)  # shape and dtype too
    assert example.matches(output)


@pytest.mark.parametrize("example", [e for e in notes.EXAMPLES if e.size is not None], ids=lambda e: e.name)
def test_arithmetic_predicts_the_output_size(example):
    output = example.run()
    measured = tuple(output.shape[-2:]) if isinstance(output, torch.Tensor) else (output, output)
    assert measured == (example.predicted_size(),) * 2


def test_matches_rejects_a_wrong_value_dtype_or_shape():
    example = BY_NAME["edge-detector"]
    right = example.expected.clone()
    wrong_value = right.clone()
    wrong_value[0, 0, 0, 0] += 1
    assert example.matches(right)
    assert not example.matches(wrong_value)
    assert not example.matches(right.double())
    assert not example.matches(right[0])


def _rows(row, n=4):
    return [row] * n


# The issue's numbers, written out once more here on purpose: a typo in notes.py cannot then
# silently become the truth.
ISSUE_VALUES = {
    "edge-detector": [[-10, -8, 0, 16], [-20, -4, 4, 6], [0, -4, -8, -14], [-6, -4, -6, -32]],
    "edge-step": _rows([0, 180, 180, 0]),
    "channel-red": _rows([0, 30, 30, 0]),
    "channel-green": _rows([0, 180, 180, 0]),
    "channel-blue": _rows([0, 30, 30, 0]),
    "channels-one-filter": _rows([0, 240, 240, 0]),
    "channels-sum": _rows([0, 240, 240, 0]),
    "max-pool-2": [[9, 2], [6, 3]],
    "max-pool-3": [[9, 9, 5], [9, 9, 5], [8, 6, 9]],
    "upsample-nearest": [[20, 20, 45, 45], [20, 20, 45, 45], [10, 10, 43, 43], [10, 10, 43, 43]],
    "upsample-bilinear": [[20, 26.25, 38.75, 45], [17.5, 24.25, 37.75, 44.5],
                          [12.5, 20.25, 35.75, 43.5], [10, 18.25, 34.75, 43]],
    "transposed-stride-1": [[2, 10, 8], [1, 9, 8], [0, 2, 2]],
    "transposed-stride-2": [[2, 2, 8, 8], [1, 1, 4, 4], [0, 0, 4, 4], [0, 0, 2, 2]],
}


@pytest.mark.parametrize("name", ISSUE_VALUES)
def test_notes_values_are_the_issues(name):
    assert BY_NAME[name].expected[0, 0].tolist() == ISSUE_VALUES[name]


def test_weight_count_is_600():
    assert BY_NAME["weight-count"].run() == 600


def test_three_channel_filter_is_the_sum_of_its_channels():
    one_filter, summed = BY_NAME["channels-one-filter"].run(), BY_NAME["channels-sum"].run()
    assert torch.equal(one_filter, summed)
    per_channel = [BY_NAME[f"channel-{c}"].run() for c in ("red", "green", "blue")]
    assert torch.equal(per_channel[0] + per_channel[1] + per_channel[2], one_filter)


def test_max_pool_gradient_goes_to_the_selected_pixel_only():
    x = notes.POOL_4.clone().requires_grad_()
    pooled, chosen = F.max_pool2d(x, kernel_size=2, stride=2, return_indices=True)
    pooled.sum().backward()
    selected = torch.zeros(16)
    selected[chosen.flatten()] = 1
    assert x.grad.flatten().tolist() == selected.tolist()
    assert x.grad.flatten().nonzero().flatten().tolist() == [2, 5, 11, 13]  # the 2, 9, 3 and 6


def test_max_pool_gradient_adds_up_where_windows_overlap():
    # In the 3x3, stride-1 example the 9 at (1, 1) wins four of the nine windows.
    x = notes.POOL_5.clone().requires_grad_()
    F.max_pool2d(x, kernel_size=3, stride=1).sum().backward()
    assert x.grad[0, 0, 1, 1] == 4
    assert x.grad.sum() == 9  # one unit per window, none lost or duplicated


def _run_tour(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(TOUR), *args], capture_output=True, text=True,
                          encoding="utf-8", cwd=ROOT, timeout=120)


@pytest.mark.slow
def test_tour_prints_every_example_with_check_marks():
    result = _run_tour()
    assert result.returncode == 0, result.stdout + result.stderr
    for example in notes.EXAMPLES:
        assert example.call in result.stdout
    assert result.stdout.count("✓") >= 2 * len(notes.EXAMPLES) - 1  # values and size; the gradient has no size
    assert "✗" not in result.stdout


def test_tour_runs_one_section(capsys):
    # In-process; the script itself runs once, whole, above.
    assert tour.main(["--section", "pooling"]) == 0
    out = capsys.readouterr().out
    assert "Pooling" in out and "Convolution" not in out
    assert "3 examples, all ✓" in out


def test_tour_refuses_an_unknown_section_and_lists_the_real_ones(capsys):
    with pytest.raises(SystemExit) as exit_:
        tour.main(["--section", "pooing"])
    err = capsys.readouterr().err
    assert exit_.value.code != 0 and all(name in err for name in notes.SECTIONS)


def test_tour_marks_a_mismatch_and_exits_1(capsys):
    example = BY_NAME["max-pool-2"]
    wrong = replace(example, expected=example.expected + 1)
    assert tour.main(["--section", "pooling"], examples=(wrong,)) == 1
    assert "✗" in capsys.readouterr().out


def test_notes_figures_are_drawn_small(tmp_path):
    written = main(["--notes", "--out", str(tmp_path)])
    assert sorted(p.name for p in written) == ["padding.png", "pooled.png", "transpose.png"]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert path.stat().st_size < 150_000  # committed to the repository, so kept small
