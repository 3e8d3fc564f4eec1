"""The config side: resolvers, the checks on values a user types, composing configs in-process, instantiating.

Light on purpose (Hydra and OmegaConf only): `python train.py --help` imports it, not torch.
"""

from __future__ import annotations

from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from hydra.errors import InstantiationException
from omegaconf import DictConfig, OmegaConf, open_dict

from checkerboard import ROOT
from checkerboard.errors import ConfigError, UserError, check_positive
from checkerboard.run.folder import unique_dir

CONFIG_DIR = ROOT / "configs"

def tensorboard_folder(ckpt_path, output_dir: str) -> str:
    """Where a run's TensorBoard events go: its own folder, or, when it resumes a checkpoint, the
    folder of the run that saved it, so that the resumed run continues the same TensorBoard run."""
    if ckpt_path is None:
        return output_dir
    folder = Path(str(ckpt_path)).expanduser().resolve().parent.parent  # <run>/checkpoints/last.ckpt
    return str(folder) if (folder / "tensorboard").is_dir() else output_dir


def decoder_label(decoder, unknown: str = "?") -> str:
    """The label of a decoder config node (``upsample+tconv``, ``tconv[init=torch]``); for a setting
    this version cannot read (a bad value, or an old run's), its name, else ``unknown``."""
    if decoder is None:
        return unknown
    from checkerboard.models.builders import DecoderSpec

    try:
        return DecoderSpec.parse(OmegaConf.to_container(decoder, resolve=True)).label
    except Exception:  # a bad setting: a run refuses it with the full message before training
        return str(OmegaConf.select(decoder, "name", default=unknown))


def folder_label(decoder) -> str:
    """The decoder's label as a folder name that a shell and Hydra's override parser take as it is:
    ``upsample-tconv``, ``tconv.init_torch``."""
    label = decoder_label(decoder, unknown="decoder")
    for old, new in (("+", "-"), ("[", "."), ("]", ""), ("=", "_"), (",", ".")):
        label = label.replace(old, new)
    return label


OmegaConf.register_new_resolver("project_root", lambda: str(ROOT), replace=True)
OmegaConf.register_new_resolver("folder_label", folder_label, replace=True)
OmegaConf.register_new_resolver("tensorboard_folder", tensorboard_folder, replace=True)
OmegaConf.register_new_resolver("unique_dir", unique_dir, replace=True, use_cache=True)


def validate(cfg: DictConfig) -> None:
    """Check the numbers a user types most, before anything is loaded. Choices (decoder, loss, ...)
    and the model's own sizes are checked once, where they are used: in the model's constructor."""
    for key in ("data.batch_size", "trainer.max_epochs"):
        check_positive(key, OmegaConf.select(cfg, key))
    check_positive("model.optimizer.lr", OmegaConf.select(cfg, "model.optimizer.lr"), whole=False)
    for key in ("data.image_size", "data.channels"):
        if OmegaConf.select(cfg, key) is not None:
            check_positive(key, OmegaConf.select(cfg, key))
    accelerator = str(OmegaConf.select(cfg, "trainer.accelerator", default="auto"))
    if accelerator in ("gpu", "cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"trainer.accelerator={accelerator} (what trainer=gpu sets), but torch sees no CUDA GPU "
                              f"here. Use trainer=default (the GPU when there is one, else the CPU) or trainer=cpu.")
    if cfg.ckpt_path is not None and not Path(str(cfg.ckpt_path)).expanduser().is_file():
        raise ConfigError(f"ckpt_path={cfg.ckpt_path} does not exist. Give the path of a checkpoint, "
                          f"e.g. outputs/runs/<run>/checkpoints/last.ckpt.")


def compose_config(out_dir: Path | str, overrides=()) -> DictConfig:
    """The real configs composed as `python train.py <overrides>` would, writing into ``out_dir``.

    For scripts and tests that call ``build``/``train`` in-process, without Hydra's command line.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=[f"hydra.run.dir={out_dir}", *overrides], return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    with open_dict(cfg):
        cfg.paths.output_dir = str(out_dir)
    return cfg


def instantiate(node: DictConfig, **kwargs):
    """``hydra.utils.instantiate``, but a user error raised inside comes out as itself, not wrapped."""
    from hydra.utils import instantiate as hydra_instantiate

    try:
        return hydra_instantiate(node, **kwargs)
    except InstantiationException as e:
        cause = e
        while isinstance(cause, InstantiationException) and cause.__cause__ is not None:
            cause = cause.__cause__
        if isinstance(cause, UserError):
            raise cause from None
        raise


def load_data(node: DictConfig):
    """The datamodule a data config describes, loaded (downloaded if asked, decoded, split)."""
    data = instantiate(node)
    data.prepare_data()
    data.setup("fit")
    return data


def instantiate_callbacks(cfg: DictConfig) -> list:
    """Every entry of the ``callbacks`` group that has a ``_target_`` (``callbacks=none``: none).

    A progress bar is left out when ``trainer.enable_progress_bar=false``: the trainer's switch is
    the one users know, and Lightning refuses a bar it was told not to show.
    """
    from hydra.utils import get_class
    from lightning.pytorch.callbacks import ProgressBar

    callbacks = []
    for node in (cfg.get("callbacks") or {}).values():
        if not isinstance(node, DictConfig) or "_target_" not in node:
            continue
        if issubclass(get_class(node._target_), ProgressBar) and not cfg.trainer.enable_progress_bar:
            continue
        callbacks.append(instantiate(node))
    return callbacks


def instantiate_logger(cfg: DictConfig):
    """The ``logger`` group's logger, or None for ``logger=none``."""
    node = cfg.get("logger")
    return instantiate(node) if node and "_target_" in node else None
