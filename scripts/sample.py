"""Samples of a trained VAE, GAN or autoencoder: a grid image (.png) or a uint8 array (.npz).

    python scripts/sample.py outputs/runs/<run> -n 64 --out samples.png
    python scripts/sample.py outputs/runs/<run>/checkpoints/last.ckpt -n 1000 --out samples.npz --seed 1

The sampling itself is `checkerboard.reports.sample`.
"""

from checkerboard.reports.sample import main

if __name__ == "__main__":
    raise SystemExit(main())
