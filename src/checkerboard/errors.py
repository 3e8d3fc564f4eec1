"""Every error a user can cause, in one place. Each message names the bad value and what would be valid.

All but `DivergenceError` (and its `CollapseError`) are raised before any training; `python train.py`
prints the message alone (no traceback) and exits with code 2.
"""

from __future__ import annotations

import math


class UserError(Exception):
    """Something the user can fix; the message says how."""


class ConfigError(UserError, ValueError):
    """A config value that cannot work."""


class DataError(UserError, RuntimeError):
    """A dataset could not be loaded."""


class SizeError(UserError, ValueError):
    """The decoder cannot give back the input size, or the checkerboard measures cannot read it."""


class DivergenceError(UserError, RuntimeError):
    """The loss stopped being a finite number; training cannot recover from that."""


class CollapseError(DivergenceError):
    """A GAN's training failed: its discriminator won, or its generator collapsed onto a few images."""


# Typical values, for the hint in an error message.
EXAMPLES = {"data.batch_size": 64, "trainer.max_epochs": 5, "model.width": 32, "model.depth": 2,
            "model.latent_dim": 32, "model.kl_weight": 0.5, "model.num_samples": 256, "model.disc_width": 16,
            "model.optimizer.lr": "1e-3", "data.image_size": 32, "data.channels": 3}


def check_choice(key: str, value, options) -> None:
    """Refuse ``value`` unless it is one of ``options``; ``key`` is the config key a user types."""
    if value not in options:
        raise ConfigError(f"{key}={value!r} is not valid; choose one of: {', '.join(options)}.")


def check_flag(key: str, value) -> None:
    """Refuse anything but true or false."""
    if not isinstance(value, bool):
        raise ConfigError(f"{key}={value!r} is not valid: it must be true or false.")


def check_positive(key: str, value, whole: bool = True) -> None:
    """Refuse anything but a positive (whole, if ``whole``) finite number; bools are not numbers here."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0
    if not ok or (whole and not isinstance(value, int)):
        what = "a positive whole number" if whole else "a positive number"
        hint = f" (e.g. {key}={EXAMPLES[key]})" if key in EXAMPLES else ""
        raise ConfigError(f"{key}={value!r} is not valid: it must be {what}{hint}.")
