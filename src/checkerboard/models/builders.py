"""The encoder, the decoder and the latent stem built around the x2 layers; `DecoderSpec`, what `decoder=` sets."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn as nn

from checkerboard import arithmetic as ar
from checkerboard.errors import ConfigError, check_choice
from checkerboard.models.upsamplers import INITS, UPSAMPLERS

DOWNSAMPLES = ("stride", "maxpool")


@dataclass(frozen=True)
class DecoderSpec:
    """What `configs/decoder/<name>.yaml` sets: the x2 layer, or one per layer, and its options."""

    name: str = "tconv"
    layers: tuple[str, ...] | None = None  # one x2 layer name per stage, first to last; None: `name` everywhere
    init: str = "fan_in"                   # fan_in (equal output scale at init) | torch (PyTorch's defaults)
    bias: bool = True                      # biases in the x2 layers
    icnr: bool = True                      # pixelshuffle only: ICNR initialisation

    @classmethod
    def parse(cls, value: str | Mapping | DecoderSpec) -> DecoderSpec:
        """A decoder name, or the decoder config (a mapping), checked with the project's messages."""
        if isinstance(value, DecoderSpec):
            return value
        if isinstance(value, str):
            value = {"name": value}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ConfigError(f"decoder.{unknown[0]} is not a decoder setting; the settings are: "
                              f"{', '.join(sorted(known))}.")
        spec = dict(value)
        if spec.get("layers") is not None:
            if isinstance(spec["layers"], str) or not all(isinstance(n, str) for n in spec["layers"]):
                raise ConfigError(f"decoder.layers={spec['layers']!r} is not valid: give a list of x2 layer "
                                  f"names, first to last, e.g. decoder.layers=[upsample,tconv].")
            spec["layers"] = tuple(spec["layers"])
            for name in spec["layers"]:
                check_choice("decoder.layers", name, UPSAMPLERS)
        check_choice("decoder.name", spec.get("name", cls.name), UPSAMPLERS)
        check_choice("decoder.init", spec.get("init", cls.init), INITS)
        for key in ("bias", "icnr"):
            if not isinstance(spec.get(key, True), bool):
                raise ConfigError(f"decoder.{key}={spec[key]!r} is not valid: it must be true or false.")
        return cls(**spec)

    def layer_names(self, depth: int) -> tuple[str, ...]:
        if self.layers is None:
            return (self.name,) * depth
        if len(self.layers) != depth:
            raise ConfigError(f"decoder.layers={list(self.layers)} names {len(self.layers)} x2 layers, but "
                              f"model.depth={depth} needs {depth}: give one name per layer, or set "
                              f"model.depth={len(self.layers)}.")
        return self.layers

    @property
    def label(self) -> str:
        """How reports name it: the layer name (or names, first to last, joined by +), then the
        settings that differ from the defaults, e.g. ``upsample+tconv`` or ``tconv[init=torch]``."""
        base = self.name if self.layers is None else "+".join(self.layers)
        default = DecoderSpec()
        options = [f"{k}={str(v).lower()}" for k, v in asdict(self).items()
                   if k not in ("name", "layers") and v != getattr(default, k)]
        return base + (f"[{','.join(options)}]" if options else "")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["layers"] = None if self.layers is None else list(self.layers)
        return d

    def make(self, name: str, c_in: int, c_out: int, generator: torch.Generator | None = None) -> nn.Module:
        """One x2 layer ``name`` with this spec's options; ``generator`` draws its fan-in weights."""
        options = {"init": self.init, "bias": self.bias, "generator": generator,
                   **({"icnr": self.icnr} if name == "pixelshuffle" else {})}
        return UPSAMPLERS[name](c_in, c_out, **options)


def widths(width: int, depth: int) -> list[int]:
    """Channels after each encoder stage: width, 2*width, 4*width, ..."""
    return [width * 2**i for i in range(depth)]


def build_encoder(channels: int, width: int, depth: int, downsample: str = "stride",
                  latent_channels: int | None = None) -> nn.Sequential:
    """``depth`` stages, each halving the size: a stride-2 3x3 conv, or a 3x3 conv then 2x2 max pool.

    ``latent_channels`` k: then a 1x1 convolution to k channels, linear (Stable Diffusion's VAE keeps 4
    channels at 1/8 size the same way): the bottleneck that makes the autoencoder compress.
    """
    check_choice("model.downsample", downsample, DOWNSAMPLES)
    layers, c_in = [], channels
    for c in widths(width, depth):
        if downsample == "stride":
            layers += [nn.Conv2d(c_in, c, 3, stride=2, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
        else:
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        c_in = c
    if latent_channels is not None:
        layers.append(nn.Conv2d(c_in, latent_channels, 1))
    return nn.Sequential(*layers)


def latent_values(channels: int, image_size: int, width: int, depth: int, downsample: str = "stride",
                  latent_channels: int | None = None) -> int:
    """How many numbers the encoder keeps of one image: channels x size x size at its last stage."""
    size = encoder_sizes(image_size, depth, downsample)[-1]
    return (latent_channels or widths(width, depth)[-1]) * size * size


def _seeded(seed: int, make) -> nn.Module:
    """``make()`` with torch's global generator seeded by ``seed``, its state restored after."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make()


def build_decoder(decoder: str | Mapping | DecoderSpec, channels: int, width: int, depth: int,
                  latent_channels: int | None = None, output_conv: bool = False) -> nn.Sequential:
    """``depth`` x2 upsampling layers, mirroring the encoder, BatchNorm and ReLU between them.

    ``output_conv=False`` (as in Distill's generators): the last x2 layer outputs the image, with no
    convolution after it and no output activation, so whatever pattern it makes reaches the image
    unfiltered. ``output_conv=True`` (as Stable Diffusion's VAE decoder ends): the last x2 layer keeps
    ``width`` channels, then BatchNorm, ReLU and a 3x3 same convolution write
    the image. ``latent_channels`` k: a 1x1 convolution from k channels, BatchNorm and ReLU come first
    (the way back from ``build_encoder``'s bottleneck). A linear output also avoids the collapse to a
    constant image that a saturating sigmoid output invites in small autoencoders.
    """
    spec = DecoderSpec.parse(decoder)
    names = spec.layer_names(depth)
    ws = widths(width, depth)[::-1]
    # Layer i's weights come from a generator seeded from one draw of torch's global one, the same
    # draw whatever the decoder: with the same seed, every 3x3 layer starts from the same kernel,
    # and the layers around the x2 layers (seeded the same way) are the same for every decoder.
    seed = int(torch.randint(2**62, ()))
    layers = []
    if latent_channels is not None:
        layers += [_seeded(seed + depth + 1, lambda: nn.Conv2d(latent_channels, ws[0], 1)), nn.BatchNorm2d(ws[0]),
                   nn.ReLU(inplace=True)]
    outs = ws[1:] + [ws[-1] if output_conv else channels]
    for i, (c_in, c_out) in enumerate(zip(ws, outs)):
        layers.append(spec.make(names[i], c_in, c_out, torch.Generator().manual_seed(seed + i)))
        if i + 1 < len(ws) or output_conv:
            layers += [nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
    if output_conv:
        layers.append(_seeded(seed + depth, lambda: nn.Conv2d(ws[-1], channels, 3, padding=1)))
    return nn.Sequential(*layers)


def build_stem(latent_dim: int, width: int, depth: int, size: int, channels: int | None = None) -> nn.Sequential:
    """A latent vector -> the decoder's input: ``Linear`` to ``channels`` (default
    ``widths(width, depth)[-1]``) maps of ``size`` x ``size``, BatchNorm, ReLU (DCGAN's "project and
    reshape"). The VAE and the GAN feed their decoders through it; it is the same for every decoder,
    and has no x2 layer."""
    c = channels or widths(width, depth)[-1]
    return nn.Sequential(nn.Linear(latent_dim, c * size * size), nn.Unflatten(1, (c, size, size)),
                         nn.BatchNorm2d(c), nn.ReLU(inplace=True))


def x2_layers(decoder: nn.Sequential) -> list[nn.Module]:
    """The x2 layers of a decoder built by ``build_decoder``, first to last."""
    return [m for m in decoder if hasattr(m, "output_size")]


def encoder_sizes(size: int, depth: int, downsample: str = "stride") -> list[int]:
    """Spatial size after each encoder stage, from the arithmetic module's formulas."""
    sizes = [size]
    for _ in range(depth):
        i = sizes[-1]
        sizes.append(ar.conv_output_size(i, 3, 2, 1) if downsample == "stride"
                     else ar.pool_output_size(ar.conv_output_size(i, 3, 1, 1), 2))
    return sizes


def decoder_sizes(decoder: nn.Sequential, latent_size: int) -> list[int]:
    sizes = [latent_size]
    for layer in x2_layers(decoder):
        sizes.append(layer.output_size(sizes[-1]))
    return sizes


def output_stride(depth: int) -> int:
    """Total upsampling factor P = 2^depth; a decoder's artifacts sit at frequencies k/P."""
    return 2**depth
