"""Side work of a run, as Lightning callbacks: throughput, TensorBoard pictures, graceful stops, GC;
and the trainer's no-op profiler."""

from __future__ import annotations

import contextlib
import gc
import math
import os
import signal
import sys
import threading
import time
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.profilers import PassThroughProfiler
from lightning.pytorch.utilities.exceptions import SIGTERMException

from checkerboard.errors import ConfigError, check_positive
from checkerboard.measures.amplitude import checkerboard_amplitude_map
from checkerboard.pictures.panels import (
    amplitude_map,
    error_map,
    gradient_picture,
    grid,
    reconstructions,
    sample_zoom,
    spectrum,
    zoom,
)
from checkerboard.pictures.plots import overlap_figure, radial_spectra_figure
from checkerboard.run.tensorboard import add_png


class NoProfiler(PassThroughProfiler):
    """Lightning's pass-through profiler without its cost: Lightning opens a profiling context around
    every hook of every callback, every step, and the pass-through profiler's context is a fresh
    generator each time; this one hands back one reusable context that does nothing."""

    _nothing = contextlib.nullcontext()

    def profile(self, action_name: str) -> contextlib.AbstractContextManager:
        return self._nothing


def sync(device: torch.device) -> None:
    """Wait for the GPU's queued work, so that a clock read after it measures that work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class Throughput(L.Callback):
    """Training images per second, counting only training batches (not validation, not start-up).

    Time from the start of each training epoch to its end, minus the validation run inside it.
    """

    def __init__(self):
        self.seconds, self.images, self._t0, self._val_t0 = 0.0, 0, None, None

    def on_train_epoch_start(self, trainer, pl_module):
        sync(trainer.strategy.root_device)
        self._t0 = time.perf_counter()

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if self._t0 is None:  # a run resumed mid-epoch starts here, without on_train_epoch_start
            self.on_train_epoch_start(trainer, pl_module)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.images += len(batch) * trainer.world_size

    def on_validation_start(self, trainer, pl_module):
        if self._t0 is not None and not trainer.sanity_checking:
            sync(trainer.strategy.root_device)
            self._val_t0 = time.perf_counter()

    def on_validation_end(self, trainer, pl_module):
        if self._val_t0 is not None:
            sync(trainer.strategy.root_device)
            self.seconds -= time.perf_counter() - self._val_t0
            self._val_t0 = None

    def on_train_epoch_end(self, trainer, pl_module):
        sync(trainer.strategy.root_device)
        self.seconds += time.perf_counter() - self._t0
        self._t0 = None

    @property
    def images_per_second(self) -> float:
        return self.images / self.seconds if self.seconds > 0 else float("nan")


class Plateau(L.Callback):
    """Stop when training has reached a plateau: the best ``monitor`` of the run gained less than
    ``min_delta`` dB over the last ``fraction`` of its epochs (at least one epoch, and not before
    ``min_epochs``). ``trainer.max_epochs`` is the cap. Records ``converged`` (the rule held when the
    run ended) and ``gain`` (the best's rise over the last fraction) for metrics.json.

    ``monitor=None`` takes the model's ``plateau_monitor``: ``("val/psnr", "max")`` for the
    autoencoder and the VAE, ``("val/loss", "min")`` for the GAN (its samples' FCD). The gain is in
    dB either way: a PSNR's rise as it is, an error's fall as ``10 log10(before / after)``, which
    is what a PSNR's rise is of a mean squared error (0.1 dB: the error fell by 2.3 %).

    ``smooth`` epochs are averaged (in dB) before the best is read, so that one lucky epoch of a
    noisy monitor does not set a bar the next ones miss by chance. ``None`` for ``smooth``,
    ``fraction`` or ``min_epochs`` takes the model's ``plateau_smooth``, ``plateau_fraction``,
    ``plateau_min_epochs``: 1, 0.2 and 5 (a PSNR); the GAN's 5, 0.5 and 10, as its FCD of 256
    samples jumps by a factor of 2 from one epoch to the next (models/gan.py).
    """

    #: What ``None`` becomes for a model without its own ``plateau_<name>`` (a PSNR's rule).
    DEFAULTS = {"smooth": 1, "fraction": 0.2, "min_epochs": 5}

    def __init__(self, monitor: str | None = None, mode: str = "max", min_delta: float = 0.1,
                 fraction: float | None = None, min_epochs: int | None = None, smooth: int | None = None,
                 stop: bool = True):
        check_positive("callbacks.plateau.min_delta", min_delta, whole=False)
        if min_epochs is not None:
            check_positive("callbacks.plateau.min_epochs", min_epochs)
        if smooth is not None:
            check_positive("callbacks.plateau.smooth", smooth)
        if fraction is not None and not 0 < fraction <= 1:
            raise ConfigError(f"callbacks.plateau.fraction={fraction!r} is not valid: it must be in (0, 1], "
                              f"the share of the epochs whose gain is measured (e.g. 0.2, the last fifth).")
        if mode not in ("max", "min"):
            raise ConfigError(f"callbacks.plateau.mode={mode!r} is not valid: 'max' (a PSNR, higher is better) "
                              f"or 'min' (a positive error, lower is better).")
        self.monitor, self.mode, self.min_delta, self.fraction, self.min_epochs, self.smooth, self.stop = (
            monitor, mode, min_delta, fraction, min_epochs, smooth, stop)
        self.history: list[float] = []  # the monitored value after each epoch's validation

    def gain(self) -> float | None:
        """The best (smoothed) value's gain in dB over the last ``fraction`` of the epochs; None before
        two smoothed values."""
        k, fraction = self._get("smooth"), self._get("fraction")
        db = [v if self.mode == "max" else -10 * math.log10(max(v, 1e-30)) for v in self.history]
        means = [sum(db[i - k + 1:i + 1]) / k for i in range(k - 1, len(db))]  # the mean of each k epochs
        m = len(means)
        if m < 2:
            return None
        back = min(m - 1, max(1, round(len(db) * fraction)))
        return max(means) - max(means[:m - back])

    @property
    def converged(self) -> bool:
        gain = self.gain()
        return gain is not None and len(self.history) >= self._get("min_epochs") and gain < self.min_delta

    @property
    def rule(self) -> str:
        """The rule in words, for metrics.json and the run summary."""
        best = "best rose" if self.mode == "max" else "best fell (10 log10 before/after)"
        mean = f", the mean of {self.smooth} epochs" if self._get("smooth") > 1 else ""
        return (f"{self.monitor or 'the model monitor'} {best}{mean} < {self.min_delta} dB over the last "
                f"{self._get('fraction'):g} of the epochs, from epoch {self._get('min_epochs')}")

    def _get(self, name: str):
        """``smooth``, ``fraction`` or ``min_epochs``: as set, or followed from the model, else the default."""
        value = getattr(self, name)
        return self.DEFAULTS[name] if value is None else value

    def _follow(self, pl_module) -> None:
        """The model's monitor, mode and smoothing where the config left them to it (``null``)."""
        if self.monitor is None:
            self.monitor, self.mode = getattr(pl_module, "plateau_monitor", ("val/psnr", "max"))
        for name, default in self.DEFAULTS.items():
            if getattr(self, name) is None:
                setattr(self, name, getattr(pl_module, f"plateau_{name}", default))

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        self._follow(pl_module)  # before any validation: a resumed run that validates no more reads its rule

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._follow(pl_module)
        value = trainer.callback_metrics.get(self.monitor)
        if trainer.sanity_checking or value is None:
            return
        self.history.append(float(value))
        if self.stop and self.converged:
            trainer.should_stop = True

    def state_dict(self) -> dict:
        return {"history": list(self.history)}

    def load_state_dict(self, state_dict: dict) -> None:
        self.history = list(state_dict["history"])


class FrozenHeap(L.Callback):
    """Keeps Python's garbage collector off the objects that outlive the training loop.

    Each training step makes a few hundred short-lived Python objects (Lightning's bookkeeping), so
    the collector runs often, and now and then its full pass walks everything alive: torch's and
    Lightning's modules, the datasets, the model. ``gc.freeze()`` at the start of training moves what
    exists then out of the collector's sight; ``teardown`` gives it back. When something froze
    the heap before (``python train.py`` freezes its imports at start-up), this does nothing:
    the bulk is frozen already, and a freeze it did not make is not its to undo.
    """

    def __init__(self):
        self._froze = False

    def on_train_start(self, trainer, pl_module):
        if gc.get_freeze_count() == 0:
            gc.collect()  # what is garbage now is not kept
            gc.freeze()
            self._froze = True

    def teardown(self, trainer, pl_module, stage):
        if self._froze:
            gc.unfreeze()
            self._froze = False

    def on_exception(self, trainer, pl_module, exception):
        self.teardown(trainer, pl_module, "fit")


class ArtifactImages(L.Callback):
    """TensorBoard pictures of the artifacts, with stable tags so runs line up side by side.

    On the same ``num_images`` validation images, at step 0 (the untrained model, BatchNorm on batch
    statistics as the first training step sees it) and every ``every_n_epochs`` validation epochs,
    at the step of that validation's scalars:
    `checkerboard/zoom` (the flattest region, enlarged), `checkerboard/spectrum` (log power spectrum
    of the error, lattice frequencies marked), `checkerboard/map` (the checkerboard amplitude of
    each tile), `checkerboard/error` (|output - input|, amplified), `val/reconstructions` (inputs
    above outputs). At validation epochs also `val/input_gradient` (d loss / d input) and
    `val/samples` (decoded interpolations between latents of image pairs); the model logs their
    measures. At step 0 and the last epoch, `checkerboard/radial_spectrum`: the reconstructions' and
    the images' mean radial power spectra. Once per run: `decoder/overlap`. Nothing runs in the
    sanity check.

    A model without ``reconstruct`` (the GAN) gets no reconstruction pictures. A model with
    ``sample`` (the VAE, the GAN) gets, instead of the interpolations, pictures of its fixed-latent
    samples (it logs their scalars itself): `val/prior_samples` (the first 64), `checkerboard/samples_zoom`
    (each sample's flattest region that is not black or white, enlarged), `checkerboard/samples_spectrum`
    (log power spectrum of the samples, lattice frequencies marked) and `checkerboard/radial_spectrum`
    (the samples' and the validation images' mean radial spectra, ``spectra.radial_spectrum``).
    ``seconds`` is the time spent here, to keep its cost in view.
    """

    def __init__(self, num_images: int = 8, every_n_epochs: int = 1):
        check_positive("callbacks.artifact_images.num_images", num_images)
        check_positive("callbacks.artifact_images.every_n_epochs", every_n_epochs)
        self.num_images, self.every_n_epochs, self.seconds = num_images, every_n_epochs, 0.0

    def _active(self, trainer) -> bool:
        return trainer.is_global_zero and trainer.logger is not None and not trainer.sanity_checking

    def on_fit_start(self, trainer, pl_module):
        if self._active(trainer) and trainer.global_step == 0:  # a resumed run has it
            figure = overlap_figure(pl_module.spec, pl_module.hparams.depth)
            trainer.logger.experiment.add_figure("decoder/overlap", figure, 0)

    @torch.no_grad()
    def on_train_start(self, trainer, pl_module):
        if self._active(trainer) and trainer.global_step == 0:  # a resumed run has its step-0 pictures
            pl_module.eval()  # nothing here may move BatchNorm's running statistics
            self._log(trainer, pl_module, step=0, untrained=True)
            pl_module.train()

    @torch.no_grad()
    def on_validation_epoch_end(self, trainer, pl_module):
        if self._active(trainer) and trainer.current_epoch % self.every_n_epochs == 0:
            # Lightning logs a validation's scalars at its count of batches that stepped, before
            # counting the epoch's last one (global_step counts optimiser steps: two a batch in a GAN).
            self._log(trainer, pl_module, step=trainer.fit_loop.epoch_loop._batches_that_stepped, untrained=False)

    def _log(self, trainer, pl_module, step: int, untrained: bool) -> None:
        sync(trainer.strategy.root_device)
        start = time.perf_counter()
        if hasattr(pl_module, "reconstruct"):
            self._log_reconstructions(trainer, pl_module, step, untrained)
        if hasattr(pl_module, "sample"):
            self._log_samples(trainer, pl_module, step, untrained)
        sync(trainer.strategy.root_device)
        self.seconds += time.perf_counter() - start

    def _log_reconstructions(self, trainer, pl_module, step: int, untrained: bool) -> None:
        tb, period = trainer.logger.experiment, pl_module.period
        x = pl_module.on_after_batch_transfer(trainer.datamodule.val[: self.num_images].to(pl_module.device))
        y = pl_module.reconstruct(x, batch_stats=untrained).float()
        x = x.float()
        add_png(tb, "checkerboard/zoom", zoom(x, y), step)
        add_png(tb, "checkerboard/spectrum", spectrum(y - x, period), step)
        add_png(tb, "checkerboard/map", amplitude_map(checkerboard_amplitude_map(y, x, period), x.shape[-1]),
                step)
        add_png(tb, "checkerboard/error", error_map(x, y), step)
        add_png(tb, "val/reconstructions", reconstructions(x, y), step)
        if untrained or trainer.current_epoch == trainer.max_epochs - 1:
            # At the start and the end only: a matplotlib figure costs as much as the other pictures.
            real = pl_module.on_after_batch_transfer(trainer.datamodule.val[:256].to(pl_module.device)).float()
            figure = radial_spectra_figure(pl_module.reconstruct(real, batch_stats=untrained).float(), real,
                                                   "reconstructions")
            tb.add_figure("checkerboard/radial_spectrum", figure, step)
        if not untrained:
            add_png(tb, "val/input_gradient", gradient_picture(pl_module.input_gradient(x)), step)
            if len(x) >= 2 and not hasattr(pl_module, "sample"):  # interpolations need a pair of images
                steps = 5
                samples = pl_module.to_image(pl_module.interpolations(x, steps)).float()
                add_png(tb, "val/samples", grid(samples, nrow=steps, scale=2), step)

    def _log_samples(self, trainer, pl_module, step: int, untrained: bool) -> None:
        tb = trainer.logger.experiment
        samples = pl_module.sample(batch_stats=untrained)
        add_png(tb, "val/prior_samples", grid(samples[:64], nrow=8, scale=2), step)
        add_png(tb, "checkerboard/samples_zoom", sample_zoom(samples[: self.num_images]), step)
        add_png(tb, "checkerboard/samples_spectrum", spectrum(samples[: self.num_images], pl_module.period),
                step)
        real = trainer.datamodule.val.to(samples.device).float() / 255
        tb.add_figure("checkerboard/radial_spectrum", radial_spectra_figure(samples, real), step)


class Interrupted(Exception):
    """Training stopped on SIGINT or SIGTERM; a checkpoint of the last completed step was saved."""

    def __init__(self, signum: int, step: int, checkpoint: str):
        self.signum, self.step, self.checkpoint = signum, step, checkpoint
        super().__init__(f"{signal.Signals(signum).name} at step {step}; checkpoint saved to {checkpoint}")


class GracefulStop(L.Callback):
    """Ctrl-C (SIGINT) or a cluster's pre-emption (SIGTERM): finish the step, save, stop.

    Lightning already turns SIGTERM into a ``SIGTERMException`` at the next step boundary. We
    route the first Ctrl-C through the same path (a second one interrupts at once), and save
    ``last.ckpt`` when that exception arrives: the checkpoint holds a completed step, with the
    loops' and the data order's state, so ``ckpt_path=...`` resumes exactly there.
    """

    def __init__(self, checkpoint: str | Path):
        self.checkpoint, self.signum, self._previous = Path(checkpoint), None, None
        self.interrupted: Interrupted | None = None  # set once the checkpoint is saved

    def _on_sigint(self, signum, frame):
        if self.signum is not None:  # second Ctrl-C: the user means it
            raise KeyboardInterrupt
        self.signum = signum
        print("\nCtrl-C: finishing this step and saving a checkpoint (press again to stop at once) ...",
              file=sys.stderr, flush=True)
        os.kill(os.getpid(), signal.SIGTERM)

    def _install(self, trainer, pl_module):
        # Not in on_fit_start: Lightning records every signal handler after that hook and puts them
        # back when fit ends, which would leave this one installed after the run.
        if self._previous is None and threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._on_sigint)

    # Whichever comes first: Lightning skips the sanity check when it is off or when resuming.
    on_sanity_check_start = on_train_start = _install

    def teardown(self, trainer, pl_module, stage):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None

    def on_exception(self, trainer, pl_module, exception):
        if isinstance(exception, SIGTERMException):
            trainer.save_checkpoint(self.checkpoint, weights_only=False)
            self.interrupted = Interrupted(self.signum or signal.SIGTERM, trainer.global_step, str(self.checkpoint))
        if isinstance(exception, KeyboardInterrupt):
            self._previous = None  # Lightning ignores Ctrl-C while it shuts down, then restores the handler
        else:
            self.teardown(trainer, pl_module, "fit")  # Lightning calls no teardown hooks after an exception
