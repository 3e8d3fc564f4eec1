import pytest
import torch

from checkerboard.data.datamodules import Batches, FolderDataModule, ShapesDataModule, TorchvisionDataModule
from checkerboard.data.shapes import make_shapes
from checkerboard.errors import DataError
from helpers import write_cifar10, write_mnist, write_png_folder


def test_shapes_same_seed_same_images_other_seed_other_images():
    assert torch.equal(make_shapes(8, seed=3), make_shapes(8, seed=3))
    assert not torch.equal(make_shapes(8, seed=3), make_shapes(8, seed=4))
    x = make_shapes(64, size=28, channels=1)
    assert x.shape == (64, 1, 28, 28) and x.dtype == torch.uint8
    # Flat regions and gradients, not noise: neighbouring pixels are close on average.
    xf = x.float() / 255
    assert (xf[..., 1:] - xf[..., :-1]).abs().mean() < 0.05 < xf.std()


def test_datamodule_split_is_fixed_by_split_seed_not_run_seed():
    a, b = ShapesDataModule(num_train=100, seed=0), ShapesDataModule(num_train=100, seed=1)
    a.setup(), b.setup()
    assert torch.equal(a.val, b.val) and len(a.val) == 10 and len(a.train) == 90


def test_batches_cover_each_image_once_per_epoch_and_reshuffle():
    images = torch.arange(10, dtype=torch.uint8).view(10, 1, 1, 1)
    b = Batches(images, 3, shuffle=True, seed=0)
    first = torch.cat(list(b)).flatten()
    second = torch.cat(list(b)).flatten()
    assert len(b) == 4 and sorted(first.tolist()) == list(range(10))
    assert not torch.equal(first, second)


def test_batches_resume_mid_epoch_with_the_next_batch():
    images = torch.arange(20, dtype=torch.uint8).view(20, 1, 1, 1)
    epoch = {"e": 3}
    b = Batches(images, 4, shuffle=True, drop_last=True, epoch_fn=lambda: epoch["e"])
    full = [x.flatten().tolist() for x in b]
    it = iter(b)
    next(it), next(it)
    state = b.state_dict()
    resumed = Batches(images, 4, shuffle=True, drop_last=True, epoch_fn=lambda: epoch["e"])
    resumed.load_state_dict(state)
    assert [x.flatten().tolist() for x in resumed] == full[2:]


def test_batches_shard_by_rank_without_overlap():
    images = torch.arange(12, dtype=torch.uint8).view(12, 1, 1, 1)
    seen = [torch.cat(list(Batches(images, 2, shuffle=True, rank=r, world_size=2))).flatten() for r in (0, 1)]
    assert set(seen[0].tolist()).isdisjoint(seen[1].tolist()) and len(seen[0]) == 6


def test_mnist_loads_from_idx_files_through_torchvision(tmp_path):
    write_mnist(tmp_path, n_train=50, n_test=20)
    dm = TorchvisionDataModule("mnist", root=str(tmp_path), download=False, val_fraction=0.2, batch_size=8)
    dm.setup()
    assert dm.channels == 1 and dm.image_size == 28
    assert len(dm.train) == 40 and len(dm.val) == 10 and len(dm.test) == 20


def test_mnist_resized_once_when_asked(tmp_path):
    write_mnist(tmp_path)
    dm = TorchvisionDataModule("mnist", root=str(tmp_path), download=False, image_size=32)
    dm.setup()
    assert dm.train.shape[1:] == (1, 32, 32) and dm.train.dtype == torch.uint8


def test_cifar10_loads_from_pickled_batches_through_torchvision(tmp_path, no_cifar_md5):
    write_cifar10(tmp_path, n_per_batch=10)
    dm = TorchvisionDataModule("cifar10", root=str(tmp_path), download=False, batch_size=8)
    dm.setup()
    assert dm.channels == 3 and dm.image_size == 32 and len(dm.train) + len(dm.val) == 50
    # Same pixels as written: channel planes in CIFAR's R, G, B order.
    assert torch.equal(dm.test[:10], make_shapes(10, 32, 3, seed=5))


def test_offline_mnist_without_files_says_where_and_what_to_do(tmp_path):
    dm = TorchvisionDataModule("mnist", root=str(tmp_path / "nowhere"), download=False)
    with pytest.raises(DataError) as err:
        dm.setup()
    msg = str(err.value)
    assert str(tmp_path / "nowhere") in msg and "MNIST/raw" in msg and "data=shapes" in msg


def test_channels_the_data_does_not_have_are_refused(tmp_path):
    write_mnist(tmp_path)
    dm = TorchvisionDataModule("mnist", root=str(tmp_path), download=False, channels=3)
    with pytest.raises(DataError, match="data.channels=3.*1 channel"):
        dm.setup()


def test_folder_of_pngs_with_train_and_test(tmp_path):
    write_png_folder(tmp_path)
    dm = FolderDataModule(root=str(tmp_path), batch_size=4)
    dm.setup()
    assert dm.train.shape[1:] == (3, 32, 32) and len(dm.test) == 12 and len(dm.train) + len(dm.val) == 12


def test_folder_classes_label_the_training_images(tmp_path):
    write_png_folder(tmp_path, per_class=5)  # train/a/0..4.png, train/b/0..4.png
    dm = FolderDataModule(root=str(tmp_path), batch_size=4)
    dm.setup()
    images, labels = dm.labelled_train()
    assert labels.tolist() == [0] * 5 + [1] * 5  # ImageFolder's order: classes sorted, then files
    from torchvision.io import decode_image
    assert torch.equal(images[7], decode_image(str(tmp_path / "train" / "b" / "2.png")))
    (tmp_path / "one" / "only").mkdir(parents=True)
    for png in (tmp_path / "train" / "a").iterdir():
        (tmp_path / "one" / "only" / png.name).write_bytes(png.read_bytes())
    single = FolderDataModule(root=str(tmp_path / "one"), batch_size=2)
    single.setup()
    assert single.labelled_train() is None  # one class: nothing for a classifier to learn


def test_folder_of_mixed_sizes_is_refused_or_resized(tmp_path):
    write_png_folder(tmp_path, sizes=((32, 32), (40, 36)))
    with pytest.raises(DataError, match="different sizes.*data.image_size"):
        FolderDataModule(root=str(tmp_path), batch_size=4).setup()
    dm = FolderDataModule(root=str(tmp_path), image_size=24, batch_size=4)
    dm.setup()
    assert dm.train.shape[1:] == (3, 24, 24)


def test_single_folder_is_split_deterministically(tmp_path):
    write_png_folder(tmp_path)
    a, b = (FolderDataModule(root=str(tmp_path / "train"), batch_size=4) for _ in range(2))
    a.setup(), b.setup()
    assert torch.equal(a.test, b.test) and len(a.test) == 1
