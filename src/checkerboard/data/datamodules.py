"""Data modules: every dataset is decoded once into a uint8 tensor, and batches are sliced from it.

Small image datasets fit in memory many times over (all of MNIST is 47 MB as uint8), so the
training loop never touches PIL, never decodes a file and needs no worker processes: a batch is
one ``index_select`` on a tensor that can even live on the GPU (``data.on_device=true``). Images
stay uint8 until the model converts them, which also makes host-to-GPU copies 4x smaller.
"""

from __future__ import annotations

import os
from pathlib import Path

import lightning as L
import torch
import torch.nn.functional as F

from checkerboard.data.labels import labelled_shapes, torchvision_labelled
from checkerboard.data.shapes import make_shapes
from checkerboard.errors import DataError


class Batches:
    """An iterable of uint8 batches sliced from one tensor of images (N, C, H, W).

    Lightning accepts any iterable as a dataloader. This one is shuffled by a generator seeded
    with ``seed + epoch`` (the epoch comes from ``epoch_fn``, the trainer's current epoch, so a
    resumed run sees the same order), is sharded by rank under DDP, and is "stateful": Lightning
    stores ``state_dict()`` in checkpoints, so a run resumed from a mid-epoch checkpoint goes on
    with the next batch instead of starting the epoch again.
    """

    def __init__(self, images: torch.Tensor, batch_size: int, shuffle: bool = False, seed: int = 0,
                 drop_last: bool = False, rank: int = 0, world_size: int = 1, epoch_fn=None):
        self.images, self.batch_size, self.shuffle, self.seed = images, batch_size, shuffle, seed
        self.drop_last, self.rank, self.world_size = drop_last, rank, world_size
        self._epochs_started = 0
        self.epoch_fn = epoch_fn or (lambda: self._epochs_started)
        self.epoch, self.consumed = 0, 0  # where we are: epoch, and batches handed out in it
        self._resume: dict | None = None

    def _used(self) -> int:
        # Training (drop_last) gives every rank as many images, so ranks take as many steps;
        # evaluation keeps every image exactly once (shards differ by one at most), so metrics
        # reduced across ranks cover the whole set.
        return len(self.images) // self.world_size * self.world_size if self.drop_last else len(self.images)

    def _per_rank(self) -> int:
        return len(range(self.rank, self._used(), self.world_size))

    def __len__(self) -> int:
        n = self._per_rank()
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        self.epoch = self.epoch_fn()
        self._epochs_started += 1
        start = 0
        if self._resume is not None and self._resume["epoch"] == self.epoch:
            start = self._resume["consumed"]
        self._resume = None
        n = self._used()
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            order = torch.randperm(len(self.images), generator=g)[:n]
        else:
            order = torch.arange(n)
        order = order[self.rank::self.world_size].to(self.images.device)
        self.consumed = start
        for b in range(start, len(self)):
            self.consumed = b + 1
            yield self.images[order[b * self.batch_size:(b + 1) * self.batch_size]]

    def state_dict(self) -> dict:
        return {"epoch": self.epoch, "consumed": self.consumed}

    def load_state_dict(self, state: dict) -> None:
        self._resume = dict(state)


class ImageDataModule(L.LightningDataModule):
    """Base class: subclasses implement ``load()`` returning (train, test) uint8 tensors.

    The validation set is a fixed slice of the training split, chosen by ``split_seed`` (not by
    the run's seed) so that runs with different seeds are scored on the same images.
    """

    name = "images"

    def __init__(self, batch_size: int = 64, val_fraction: float = 0.1, image_size: int | None = None,
                 channels: int | None = None, on_device: bool = False, split_seed: int = 0,
                 seed: int = 0, name: str | None = None, num_train: int | None = None,
                 num_test: int | None = None):
        super().__init__()
        self.name = name or self.name
        self.num_train, self.num_test = num_train, num_test  # None: all; N: the first N of each split
        self.batch_size, self.val_fraction = batch_size, val_fraction
        self.image_size, self.channels, self.on_device = image_size, channels, on_device
        self.split_seed, self.seed = split_seed, seed
        self.train = self.val = self.test = None

    def load(self) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def setup(self, stage: str | None = None) -> None:
        if self.train is not None:  # idempotent: main() loads the data before building the model
            return
        train, test = self.load()
        train, test = self._resize(train[:self.num_train]), self._resize(test[:self.num_test])
        self.channels, self.image_size = train.shape[1], train.shape[-1]
        n_val = max(1, round(len(train) * self.val_fraction))
        order = torch.randperm(len(train), generator=torch.Generator().manual_seed(self.split_seed))
        self.val, self.train, self.test = train[order[:n_val]], train[order[n_val:]], test
        if len(self.train) < self.batch_size:
            raise DataError(f"data.batch_size={self.batch_size} is larger than the {len(self.train)} training "
                            f"images of {self.name}; use data.batch_size={len(self.train)} or less.")

    def _resize(self, images: torch.Tensor) -> torch.Tensor:
        if self.image_size is None or images.shape[-1] == self.image_size and images.shape[-2] == self.image_size:
            return images
        out = F.interpolate(images.float(), size=(self.image_size, self.image_size), mode="bilinear",
                            antialias=True, align_corners=False)
        return out.round().clamp(0, 255).to(torch.uint8)

    def _move(self, images: torch.Tensor) -> torch.Tensor:
        if self.on_device and self.trainer is not None:
            return images.to(self.trainer.strategy.root_device)
        return images

    def _batches(self, images: torch.Tensor, shuffle: bool) -> Batches:
        rank, world = (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        epoch_fn = (lambda: self.trainer.current_epoch) if self.trainer else None
        return Batches(self._move(images), self.batch_size, shuffle=shuffle, seed=self.seed,
                       drop_last=shuffle, rank=rank, world_size=world, epoch_fn=epoch_fn)

    def train_dataloader(self) -> Batches:
        return self._batches(self.train, shuffle=True)

    def val_dataloader(self) -> Batches:
        return self._batches(self.val, shuffle=False)

    def test_dataloader(self) -> Batches:
        return self._batches(self.test, shuffle=False)


class ShapesDataModule(ImageDataModule):
    """Generated images (see `data.shapes`): no download, the same images for the same seed."""

    name = "shapes"

    def __init__(self, num_train: int = 4096, num_test: int = 512, data_seed: int = 0,
                 image_size: int = 32, channels: int = 3, **kwargs):
        super().__init__(image_size=image_size, channels=channels, num_train=num_train, num_test=num_test, **kwargs)
        self.data_seed = data_seed

    def labelled_train(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Training images of the same generator, labelled with their number of shapes (0 to 3): what the
        sample-quality classifier learns (`measures.quality`)."""
        return labelled_shapes(self.num_train, self.image_size, self.channels, seed=self.data_seed)

    def load(self):
        # Generated at the requested size, so no resize happens afterwards.
        make = lambda n, seed: make_shapes(n, self.image_size, self.channels, seed)  # noqa: E731
        return make(self.num_train, self.data_seed), make(self.num_test, self.data_seed + 1_000_003)


class TorchvisionDataModule(ImageDataModule):
    """MNIST, Fashion-MNIST or CIFAR-10 through torchvision's own classes, decoded once."""

    DATASETS = {
        "mnist": ("MNIST", "MNIST/raw/train-images-idx3-ubyte (and the other three IDX files)"),
        "fashion_mnist": ("FashionMNIST", "FashionMNIST/raw/train-images-idx3-ubyte (and the other three IDX files)"),
        "cifar10": ("CIFAR10", "cifar-10-batches-py/data_batch_1 ... data_batch_5 and test_batch"),
    }

    def __init__(self, name: str, root: str, download: bool = True, **kwargs):
        super().__init__(name=name, **kwargs)
        if name not in self.DATASETS:
            raise DataError(f"unknown torchvision dataset {name!r}; choose one of {', '.join(self.DATASETS)}")
        self.root, self.download = Path(root).expanduser(), download

    def prepare_data(self) -> None:
        # Downloads (once, on rank 0) when download=true; load() then only reads.
        self._open(train=True), self._open(train=False)

    def _open(self, train: bool):
        import torchvision.datasets as tvd

        cls_name, files = self.DATASETS[self.name]
        folder = self.root / files.split("/")[0]
        present = folder.is_dir() and any(folder.rglob("*"))
        try:
            return getattr(tvd, cls_name)(str(self.root), train=train, download=self.download)
        except Exception as e:  # torchvision raises RuntimeError, URLError, OSError, ... offline
            if present:
                how = (f"files are in {folder} but could not be read: corrupted or truncated? Replace "
                       f"them{' (or delete them to download again)' if self.download else ''}")
            elif self.download:
                how = "downloading failed (no internet?)"
            else:
                how = "the files are missing and data.download=false"
            raise DataError(
                f"Could not load {cls_name} from {self.root}: {how} ({type(e).__name__}: {e}). "
                f"The files must be at {self.root}/{files}. Point paths.data_dir=... (or the "
                f"CHECKERBOARD_DATA_DIR environment variable) at a folder that holds them, or run "
                f"offline on the built-in data with data=shapes."
            ) from e

    @property
    def cache_dir(self) -> Path:
        """Where the sample-quality classifier trained on this dataset is kept: beside the data, or in the
        user's cache (``~/.cache/checkerboard``) where the data folder is read-only."""
        if os.access(self.root, os.W_OK):
            return self.root / "quality_classifier"
        return Path.home() / ".cache" / "checkerboard" / "quality_classifier"

    def labelled_train(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The training split's images (at the model's size and channels) and their class labels."""
        images, labels = torchvision_labelled(self.DATASETS[self.name][0], str(self.root), train=True)
        return self._resize(images), labels

    def load(self):
        out = []
        for train in (True, False):
            ds = self._open(train)
            try:
                images = torch.as_tensor(ds.data)
                # MNIST-like: (N, H, W); CIFAR-10: (N, H, W, 3) as numpy.
                images = images[:, None] if images.ndim == 3 else images.permute(0, 3, 1, 2)
            except Exception as e:
                raise DataError(f"{type(ds).__name__} under {self.root} looks corrupted: {e}") from e
            out.append(images.contiguous())
        native = out[0].shape[1]
        if self.channels not in (None, native):
            raise DataError(
                f"data.channels={self.channels}, but {self.name} images have {native} channel(s); "
                f"leave data.channels unset or set it to {native}."
            )
        return out[0], out[1]


class FolderDataModule(ImageDataModule):
    """Your own images through torchvision's ``ImageFolder``.

    ``root`` holds ``train/`` and ``test/`` class folders, or is one class-folder tree that is
    split deterministically (``test_fraction``). Images of different sizes need
    ``data.image_size`` (each is resized on its short side and centre-cropped); otherwise they
    are refused. With two class folders or more, the training images' classes (their folders)
    train the sample-quality classifier (``labelled_train``), as MNIST's labels do.
    """

    name = "folder"

    def __init__(self, root: str | None = None, test_fraction: float = 0.1, **kwargs):
        super().__init__(**kwargs)
        self.root, self.test_fraction = root, test_fraction
        self._labelled: tuple[torch.Tensor, torch.Tensor] | None = None  # the training split, with classes

    def _read(self, folder: Path) -> tuple[torch.Tensor, torch.Tensor]:
        """The images under ``folder`` (N, C, H, W) uint8 and their class indices (ImageFolder's order)."""
        from torchvision.datasets import ImageFolder
        from torchvision.io import ImageReadMode, decode_image
        from torchvision.transforms.v2.functional import center_crop, resize

        try:
            samples = ImageFolder(str(folder), loader=lambda p: p).samples
        except (FileNotFoundError, OSError) as e:
            raise DataError(f"No images found under {folder}: {e}. It must hold one sub-folder per class "
                            f"with .png/.jpg files inside (torchvision's ImageFolder layout).") from e
        mode = ImageReadMode.GRAY if self.channels == 1 else ImageReadMode.RGB
        images = []
        for p, _ in samples:
            try:
                img = decode_image(p, mode=mode)
            except Exception as e:
                raise DataError(f"Could not decode image {p}: {e}") from e
            if self.image_size is not None and tuple(img.shape[-2:]) != (self.image_size,) * 2:
                img = center_crop(resize(img, self.image_size, antialias=True), [self.image_size] * 2)
            images.append(img)
        sizes = {tuple(i.shape[-2:]) for i in images}
        if len(sizes) > 1:
            raise DataError(f"Images under {folder} have different sizes "
                            f"({', '.join(map(str, sorted(sizes)[:3]))}...); set data.image_size=N to resize them "
                            f"all to NxN.")
        if images[0].shape[-1] != images[0].shape[-2]:
            raise DataError(f"Images under {folder} are {tuple(images[0].shape[-2:])}, not square; "
                            f"set data.image_size=N.")
        return torch.stack(images), torch.tensor([c for _, c in samples])

    def load(self):
        if self.root is None:
            raise DataError("data=folder needs data.root=PATH, a folder of class sub-folders "
                            "(or one with train/ and test/ inside).")
        root = Path(self.root).expanduser()
        if not root.is_dir():
            raise DataError(f"data.root={self.root} is not a folder. It must hold train/ and test/ "
                            f"class folders, or class folders directly.")
        if (root / "train").is_dir() and (root / "test").is_dir():
            (train, labels), (test, _) = self._read(root / "train"), self._read(root / "test")
        else:
            images, classes = self._read(root)
            order = torch.randperm(len(images), generator=torch.Generator().manual_seed(self.split_seed))
            n_test = max(1, round(len(images) * self.test_fraction))
            train, labels, test = images[order[n_test:]], classes[order[n_test:]], images[order[:n_test]]
        self._labelled = (train, labels) if len(labels.unique()) > 1 else None
        return train, test

    def labelled_train(self) -> tuple[torch.Tensor, torch.Tensor] | None:
        """The training split's images and class indices (their folders), or None with one class folder."""
        return self._labelled

    @property
    def cache_dir(self) -> Path:
        """Where the sample-quality classifier is kept: the user's cache, as ``data.root`` may be read-only."""
        return Path.home() / ".cache" / "checkerboard" / "quality_classifier"
