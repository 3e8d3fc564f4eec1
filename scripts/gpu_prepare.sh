#!/usr/bin/env bash
# Run HERE (not on the GPU machine) before `scripts/gpu_check.sh`: puts what the GPU machine lacks
# into two git-ignored folders that the device tool carries: .whl/ (wheels for its Python 3.12; its
# image has torch and lightning but not hydra, torchmetrics, tensorboard or torchvision) and
# .gpu-data/ (MNIST's four .gz files and the CIFAR-10 subset). Both are in .gitignore. See CONTRIBUTING.md, "On a GPU".
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${1:-../shared/data}
rm -rf .whl .gpu-data && mkdir -p .whl .gpu-data/MNIST/raw
platform="--only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64"
# torchvision 0.26 goes with the image's torch 2.11; the rest are what `pip install -e .` would add.
python3 -m pip download -q --no-deps $platform -d .whl torchvision==0.26.0 hydra-core==1.3.2 omegaconf==2.3.0 \
    torchmetrics tensorboard tensorboard-data-server markdown werkzeug hydra-joblib-launcher
python3 -m pip wheel -q --no-deps -w .whl antlr4-python3-runtime==4.9.3   # sdist only on PyPI: built here
cp "$DATA"/MNIST/raw/*.gz .gpu-data/MNIST/raw/
cp -r "$DATA"/cifar10-subset .gpu-data/
du -sh .whl .gpu-data
