"""A run's pieces on cases whose answer is known by hand: the end-of-run sentence, mid-epoch resume
of the batches (the TensorBoard layout against the tags a real run logs: tests/test_generators.py)."""

import torch

from checkerboard.data.datamodules import Batches
from checkerboard.formatting import summary

RUN = {"decoder": "tconv", "data": "shapes", "seed": 0, "epochs": 3, "train_seconds": 1.25, "threads": 2,
       "device": "cpu", "val/checkerboard_amplitude": 3.0, "val/checkerboard_amplitude/period2": 0.25,
       "val/checkerboard_amplitude/finer": 0.125, "val/checkerboard_amplitude/checkerboard": 1.5,
       "val/checkerboard_amplitude/checkerboard_floor": 1.25, "val/checkerboard_amplitude/staircase": 0.25,
       "init/checkerboard_amplitude/checkerboard_excess": 46.4}


def test_summary_reads_an_excess_under_half_a_grey_level_as_no_checkerboard():
    text = summary({**RUN, "val/checkerboard_amplitude/checkerboard_excess": 0.49}, "out")
    assert ("  tconv leaves no checkerboard beyond its floor: 1.5 grey levels RMS, where the same error with no "
            "fixed pattern reads 1.2 (excess 0.49; 46.4 before training).\n") in text


def test_summary_reads_an_excess_of_half_a_grey_level_and_over_as_a_checkerboard():
    for excess, shown in ((0.51, "0.5"), (2.9, "2.9")):
        text = summary({**RUN, "val/checkerboard_amplitude/checkerboard_excess": excess}, "out")
        assert (f"  tconv leaves a checkerboard of {shown} grey levels RMS beyond its floor of 1.2 (period 2: 0.25, "
                f"finer: 0.12); 46.4 before training. (A 1 % pattern, 2.6 grey levels peak to peak, is about 1.)\n"
                ) in text


def test_summary_names_a_staircase_apart_from_a_checkerboard():
    run = {**RUN, "val/checkerboard_amplitude/checkerboard_excess": 0.1, "val/checkerboard_amplitude/staircase": 0.8}
    assert ("It also leaves a staircase of 0.8 grey levels RMS on slopes (the steps a hold or a nearest resize "
            "leaves), not a checkerboard.") in summary(run, "out")
    assert "staircase" not in summary({**RUN, "val/checkerboard_amplitude/checkerboard_excess": 0.1}, "out")


def batches(epoch: list[int]) -> Batches:
    """Ten one-pixel images 0..9 in batches of 2, unshuffled, in the epoch ``epoch[0]``."""
    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1)
    return Batches(images, batch_size=2, epoch_fn=lambda: epoch[0])


def test_batches_resume_mid_epoch_in_the_epoch_they_were_saved_in():
    saved = {"epoch": 1, "consumed": 3}  # 3 of 5 batches of epoch 1 done
    resumed = batches([1])
    resumed.load_state_dict(saved)
    assert [b.flatten().tolist() for b in resumed] == [[6, 7], [8, 9]]


def test_batches_saved_in_the_previous_epoch_start_the_new_epoch_whole():
    # A state saved mid-epoch 0 (e.g. a checkpoint written before the epoch ended), resumed when the
    # trainer is already in epoch 1: epoch 1 has consumed nothing, so all 5 batches come.
    resumed = batches([1])
    resumed.load_state_dict({"epoch": 0, "consumed": 3})
    assert [b.flatten().tolist() for b in resumed] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    # and the state is used once: the next epoch is whole too
    assert len(list(resumed)) == 5
