"""Run: one training from the command line. `cli` (Hydra's entry point), `config`, `training`, the
run `folder`, the `callbacks` and the `tensorboard` logger.

May import every wing but `reports` and `notes`. This file imports nothing, so `python train.py --help`
stays fast (no torch import).
"""
