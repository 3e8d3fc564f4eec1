"""Sample quality offline: the Fréchet classifier distance (FCD) and a class score, from a small CNN of our own.

FID needs Inception weights, which cannot be downloaded here; so a small CNN classifier is trained on
the real training images and their labels, and its features (the penultimate layer, 64 values) stand
in for Inception's. The numbers are therefore not FID and not comparable with published FIDs, nor
across datasets or classifiers: only between samples scored by the same cached classifier, at the
same number of images (the Fréchet distance of finite sets is biased upwards by about tr(C)/n).

- ``frechet_distance``: ``||mu_1 - mu_2||^2 + tr(C_1) + tr(C_2) - 2 tr((C_1 C_2)^(1/2))``, the
  2-Wasserstein distance squared between two Gaussians. ``tr((C_1 C_2)^(1/2))`` is the sum of the
  square roots of the eigenvalues of ``C_1^(1/2) C_2 C_1^(1/2)`` (similar to ``C_1 C_2``, but
  symmetric, so ``eigvalsh`` applies), in float64.
- ``fcd(classifier, samples, reference)``: the Fréchet distance between the feature distributions.
  The floor to read it against: ``fcd`` of real training images against the real test images, at
  the samples' number (``quality`` reports both).
  Train against test is the floor for a generator trained on the training split; it lies above
  test against test (on MNIST, 2,000 images: 2.4 against 0.4), as the splits differ a little and
  the classifier has seen the training images.
  What it does not see: a checkerboard. A classifier learns to ignore it, so the FCD is a measure of
  sample quality beside the artifact measures, not one of them (MNIST: +-8 grey levels, 1.2).
- ``class_score``: ``exp(E_x KL(p(y|x) || p(y)))`` with ``p(y) = E_x p(y|x)``, as the Inception
  score: between 1 (every image gets the same prediction) and the number of classes (confident,
  and every class equally often).
- ``classifier(images, labels, cache_dir, name)``: the cached classifier, trained when its file
  ``{cache_dir}/{name}-{hash}.pt`` is missing; the hash covers the training images and labels
  (shape and bytes), so other data trains another one.

Labels: the datamodules keep only images. `data.labels.torchvision_labelled` reads MNIST,
Fashion-MNIST or CIFAR-10 with labels directly; `data.labels.labelled_shapes` makes shapes images whose label is
their number of shapes (0 to 3), as the shapes data has no classes.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallClassifier(nn.Module):
    """Three 3x3 conv layers (16, 32, 64 channels; the first two followed by 2x2 max-pooling), global mean:
    64 features; a linear layer gives the class logits."""

    def __init__(self, channels: int, classes: int, width: int = 16):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(width, 2 * width, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(2 * width, 4 * width, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(4 * width, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _as_input(x: torch.Tensor) -> torch.Tensor:
    """uint8 (or float in [0, 1]) images -> float, centred on 0."""
    return (x.float() / 255 if x.dtype == torch.uint8 else x.float()) * 2 - 1


def train_classifier(images: torch.Tensor, labels: torch.Tensor, steps: int = 2000, batch_size: int = 128,
                     lr: float = 2e-3, width: int = 16, seed: int = 0) -> SmallClassifier:
    """Adam on the cross-entropy, ``steps`` batches drawn at random (seeded; the global RNG is left as it was,
    and gradients are on even inside Lightning's test loop, which runs in inference mode)."""
    g = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]), torch.inference_mode(False), torch.enable_grad():
        torch.manual_seed(seed)
        model = SmallClassifier(images.shape[1], int(labels.max()) + 1, width)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        for _ in range(steps):
            idx = torch.randint(0, len(images), (min(batch_size, len(images)),), generator=g)
            loss = F.cross_entropy(model(_as_input(images[idx].clone())), labels[idx].clone())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return model.eval()


def classifier_path(images: torch.Tensor, labels: torch.Tensor, cache_dir, name: str) -> Path:
    h = hashlib.sha1(f"{tuple(images.shape)} {images.dtype} {len(labels)}".encode())
    h.update(images.contiguous().numpy().tobytes())
    h.update(labels.to(torch.int64).numpy().tobytes())
    return Path(cache_dir) / f"{name}-{h.hexdigest()[:12]}.pt"


def classifier(images: torch.Tensor, labels: torch.Tensor, cache_dir, name: str, **train_kwargs) -> SmallClassifier:
    """The classifier cached for these training images and labels; trained (and saved) when missing."""
    path = classifier_path(images, labels, cache_dir, name)
    if path.exists():
        state = torch.load(path, weights_only=True)
        classes, features = state["head.weight"].shape
        model = SmallClassifier(images.shape[1], classes, features // 4)
        model.load_state_dict(state)
        return model.eval()
    model = train_classifier(images, labels, **train_kwargs)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(model.state_dict(), tmp)
    tmp.replace(path)  # never a half-written file under the final name
    return model


@torch.no_grad()
def _run(model: SmallClassifier, images: torch.Tensor, batch_size: int = 500) -> tuple[torch.Tensor, torch.Tensor]:
    """(features (N, 64), class probabilities (N, K)) in float64."""
    feats = torch.cat([model.features(_as_input(images[i:i + batch_size])) for i in range(0, len(images), batch_size)])
    return feats.double(), model.head(feats.float()).softmax(-1).double()


def _sqrtm_psd(c: torch.Tensor) -> torch.Tensor:
    vals, vecs = torch.linalg.eigh(c)
    return vecs @ torch.diag(vals.clamp_min(0).sqrt()) @ vecs.T


def frechet_distance(mu1: torch.Tensor, cov1: torch.Tensor, mu2: torch.Tensor, cov2: torch.Tensor) -> float:
    """``||mu1 - mu2||^2 + tr(C1) + tr(C2) - 2 tr((C1 C2)^(1/2))`` (module docstring), in float64."""
    mu1, cov1, mu2, cov2 = (t.double() for t in (mu1, cov1, mu2, cov2))
    s1 = _sqrtm_psd(cov1)
    cross = torch.linalg.eigvalsh(s1 @ cov2 @ s1).clamp_min(0).sqrt().sum()
    return float((mu1 - mu2).square().sum() + cov1.trace() + cov2.trace() - 2 * cross)


def frechet_of_features(f1: torch.Tensor, f2: torch.Tensor) -> float:
    """Fréchet distance of the Gaussians fitted (mean, unbiased covariance) to two (N, D) feature sets."""
    return frechet_distance(f1.mean(0), torch.cov(f1.T.double()).reshape(f1.shape[1], -1),
                            f2.mean(0), torch.cov(f2.T.double()).reshape(f2.shape[1], -1))


def fcd(model: SmallClassifier, samples: torch.Tensor, reference: torch.Tensor) -> float:
    """Fréchet classifier distance: of the classifier's penultimate features of ``samples`` and ``reference``."""
    return frechet_of_features(_run(model, samples)[0], _run(model, reference)[0])


def class_score_of(probs: torch.Tensor) -> float:
    """``exp(mean_x KL(p(y|x) || p(y)))`` of (N, K) class probabilities, ``p(y)`` their mean."""
    p = probs.double()
    marginal = p.mean(0, keepdim=True)
    kl = (p * (p.clamp_min(1e-30).log() - marginal.clamp_min(1e-30).log())).sum(1)
    return math.exp(float(kl.mean()))


def class_score(model: SmallClassifier, samples: torch.Tensor) -> float:
    return class_score_of(_run(model, samples)[1])


def quality(model: SmallClassifier, samples: torch.Tensor, train: torch.Tensor, test: torch.Tensor,
            seed: int = 0) -> dict[str, float]:
    """FCD of ``samples`` against ``test`` and the floor (as many random ``train`` images against ``test``),
    the class score of the samples and of those real images."""
    pick = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))[: len(samples)]
    return {"fcd": fcd(model, samples, test), "fcd_floor": fcd(model, train[pick], test),
            "class_score": class_score(model, samples), "class_score_real": class_score(model, train[pick])}
