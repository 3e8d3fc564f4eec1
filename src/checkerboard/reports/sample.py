"""Samples of a trained model, as a picture or an array. `scripts/sample.py` is its command line:

    python scripts/sample.py outputs/runs/<run> -n 64 --out samples.png          # a grid image
    python scripts/sample.py outputs/runs/<run>/checkpoints/last.ckpt -n 1000 --out samples.npz --seed 1

- a VAE or a GAN (``model=vae``, ``model=gan``): its generator fed N latents drawn from N(0, I);
- an autoencoder: its decoder fed N random latents shaped like its encoder's output, each channel
  ``ReLU(gamma * N(0, 1) + beta)``, with ``gamma`` and ``beta`` of the encoder's last BatchNorm: what
  that BatchNorm and ReLU make of a Gaussian normalised value, then the encoder's layers after that
  ReLU (the bottleneck's 1x1 conv, model.latent_channels; a max pool). The autoencoder was never trained to
  decode them; they show what its decoder does away from the training images.

BatchNorm on its running statistics (eval mode); the same ``--seed`` gives the same images. A run
folder means its ``checkpoints/last.ckpt``. ``.png``: a grid, ``ceil(sqrt(N))`` images a row, 1 px
white lines; ``.npz``: the images as uint8, shape (N, C, H, W), under the key ``images``.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys
from pathlib import Path

import torch

from checkerboard.errors import ConfigError, UserError
from checkerboard.models.base import MODEL_CLASSES, MOVED

MODELS = tuple(MODEL_CLASSES.values())
SUFFIXES = (".png", ".npz")


def checkpoint_path(source: str | Path) -> Path:
    """The checkpoint a command-line argument names: a file, or a run folder's checkpoints/last.ckpt."""
    path = Path(source).expanduser()
    if path.is_dir():
        last = path / "checkpoints" / "last.ckpt"
        if not last.is_file():
            raise ConfigError(f"{path} holds no checkpoints/last.ckpt: give the folder of a run (outputs/runs/<run>) "
                              f"or a checkpoint file.")
        return last
    if not path.is_file():
        raise ConfigError(f"{path} does not exist: give the folder of a run (outputs/runs/<run>) or a checkpoint "
                          f"file (<run>/checkpoints/last.ckpt).")
    return path


def load(source: str | Path):
    """The model saved in a checkpoint (or a run folder's last one) of this project, in eval mode, on the CPU."""
    path = checkpoint_path(source)
    try:
        saved = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ConfigError(f"{path} is not a checkpoint of this project ({type(e).__name__}: {str(e)[:200]}).") from e
    if not isinstance(saved, dict) or "architecture" not in saved or "state_dict" not in saved:
        raise ConfigError(f"{path} is a file torch can read, but no checkpoint of this project (no 'architecture' "
                          f"entry): give a checkpoint that `python train.py` saved.")
    name = saved.get("model_class", MODELS[0])  # checkpoints from before model= was a choice: autoencoders
    name = MOVED.get(name, name)
    if name not in MODELS:
        raise ConfigError(f"{path} holds a {name}, which this version cannot sample; it knows {', '.join(MODELS)}.")
    module, cls = name.rsplit(".", 1)
    model = getattr(importlib.import_module(module), cls).load_from_checkpoint(path, map_location="cpu",
                                                                               weights_only=True)
    return model.eval()


def random_latents(model, n: int, generator: torch.Generator) -> torch.Tensor:
    """(n, C, h, w) random latents for an autoencoder's decoder (module docstring)."""
    hp = model.hparams
    last = max(i for i, m in enumerate(model.encoder) if isinstance(m, torch.nn.BatchNorm2d))
    with torch.no_grad():
        shape = model.encoder[:last + 1](torch.zeros(1, hp.channels, hp.image_size, hp.image_size)).shape[1:]
        norm = model.encoder[last]
        gamma, beta = norm.weight.detach()[:, None, None], norm.bias.detach()[:, None, None]
        h = torch.relu(gamma * torch.randn(n, *shape, generator=generator) + beta)
        return model.encoder[last + 2:](h)  # after the ReLU: the bottleneck's 1x1 conv, if there is one


@torch.no_grad()
def draw(model, n: int, seed: int = 0, chunk: int = 256) -> torch.Tensor:
    """(n, C, H, W) uint8 samples of ``model`` (module docstring), seeded with ``seed``."""
    from checkerboard.models.generative import as_saved

    g = torch.Generator().manual_seed(seed)
    model.eval()
    if hasattr(model, "sample"):
        z = torch.randn(n, model.latent_dim, generator=g)
        images = torch.cat([model.sample(z=part) for part in z.split(chunk)])
    else:
        z = random_latents(model, n, g)
        images = torch.cat([as_saved(model.to_image(model.decoder(part))) for part in z.split(chunk)])
    return images.mul(255).round().to(torch.uint8)


def write(images: torch.Tensor, out: str | Path) -> Path:
    """``images`` (N, C, H, W) uint8 to ``out``: a grid for .png, the array for .npz (key ``images``)."""
    out = Path(out).expanduser()
    if out.suffix.lower() not in SUFFIXES:
        raise ConfigError(f"--out {out}: the file must end in .png (a grid image) or .npz (a uint8 array).")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".npz":
        import numpy as np

        np.savez_compressed(out, images=images.cpu().numpy())
    else:
        from torchvision.utils import save_image

        save_image(images.float() / 255, out, nrow=math.ceil(math.sqrt(len(images))), padding=1, pad_value=1.0)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/sample.py", description=__doc__.split("\n")[0])
    parser.add_argument("source", help="a run folder (its checkpoints/last.ckpt) or a checkpoint file")
    parser.add_argument("-n", type=int, default=64, help="how many samples (default 64)")
    parser.add_argument("--out", required=True, help="FILE.png (a grid) or FILE.npz (uint8, key 'images')")
    parser.add_argument("--seed", type=int, default=0, help="the latents' seed (default 0)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error(f"-n {args.n}: give a positive number of samples")
    try:
        if Path(args.out).suffix.lower() not in SUFFIXES:  # before loading anything
            write(torch.zeros(0, 1, 1, 1, dtype=torch.uint8), args.out)
        model = load(args.source)
        out = write(draw(model, args.n, args.seed), args.out)
    except UserError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    kind = type(model).__name__
    print(f"wrote {args.n} samples of the {kind} ({model.spec.label} decoder) to {out}")
    return 0
