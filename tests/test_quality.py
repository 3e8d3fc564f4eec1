"""Fréchet classifier distance and class score: closed forms, and a tiny classifier on labelled shapes."""

import math

import pytest
import torch
import torch.nn.functional as F

import checkerboard.measures.quality as quality_module
from checkerboard.data.labels import labelled_shapes
from checkerboard.measures.quality import (
    class_score_of,
    classifier,
    classifier_path,
    fcd,
    frechet_distance,
    frechet_of_features,
    quality,
)


def test_frechet_distance_of_diagonal_gaussians():
    # ||mu1 - mu2||^2 + sum(s1 + s2 - 2 sqrt(s1 s2)) = (1 + 0 + 4) + (1 + 1 + 4) = 11
    mu1, s1 = torch.tensor([0.0, 1, 2]), torch.tensor([1.0, 4, 9])
    mu2, s2 = torch.tensor([1.0, 1, 0]), torch.tensor([4.0, 1, 1])
    assert frechet_distance(mu1, torch.diag(s1), mu2, torch.diag(s2)) == pytest.approx(11, abs=1e-12)
    # Rotating both Gaussians alike changes nothing, and tests the non-diagonal path.
    q, _ = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    rot = lambda s: q @ torch.diag(s.double()) @ q.T  # noqa: E731
    assert frechet_distance(q @ mu1.double(), rot(s1), q @ mu2.double(), rot(s2)) == pytest.approx(11, abs=1e-9)
    assert frechet_distance(mu1, torch.diag(s1), mu1, torch.diag(s1)) == pytest.approx(0, abs=1e-12)


def test_frechet_of_features_uses_mean_and_unbiased_covariance():
    f1 = torch.tensor([[0.0], [2.0]])  # mean 1, variance 2
    f2 = torch.tensor([[3.0], [5.0], [7.0]])  # mean 5, variance 4
    assert frechet_of_features(f1, f2) == pytest.approx(16 + 2 + 4 - 2 * math.sqrt(8), abs=1e-12)


def test_class_score_by_hand():
    assert class_score_of(torch.eye(4)) == pytest.approx(4)  # confident, every class once: K
    assert class_score_of(torch.tensor([[0.7, 0.3]] * 5)) == pytest.approx(1)  # one prediction for all
    # Half the images certain of class 0, half split evenly: p(y) = (3/4, 1/4);
    # KL = ln(4/3) for the first half, (1/2) ln((1/2)/(3/4)) + (1/2) ln((1/2)/(1/4)) for the second.
    kl = (math.log(4 / 3) + 0.5 * math.log(2 / 3) + 0.5 * math.log(2)) / 2
    assert class_score_of(torch.tensor([[1.0, 0], [0.5, 0.5]])) == pytest.approx(math.exp(kl))


@pytest.fixture(scope="module")
def shapes_classifier(tmp_path_factory):
    train, labels = labelled_shapes(1000, 16, 3, seed=0)
    cache = tmp_path_factory.mktemp("cache")
    model = classifier(train, labels, cache, "shapes", steps=120, batch_size=32, width=8)
    return model, train, labels, cache


def test_classifier_is_cached_by_its_training_data(shapes_classifier, monkeypatch):
    model, train, labels, cache = shapes_classifier
    path = classifier_path(train, labels, cache, "shapes")
    assert path.exists() and [p.name for p in cache.iterdir()] == [path.name]
    monkeypatch.setattr(quality_module, "train_classifier", lambda *a, **k: pytest.fail("trained again"))
    again = classifier(train, labels, cache, "shapes")
    assert all(a.equal(b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))
    assert classifier_path(train[:-1], labels[:-1], cache, "shapes") != path
    changed = train.clone()
    changed[0, 0, 0, 0] ^= 1  # same shape, one grey level of one pixel
    assert classifier_path(changed, labels, cache, "shapes") != path
    assert classifier_path(train, labels.roll(1), cache, "shapes") != path


def test_fcd_real_near_floor_degraded_far_above(shapes_classifier):
    model, train, _, _ = shapes_classifier
    test, _ = labelled_shapes(600, 16, 3, seed=1)
    reference, real = test[:300], test[300:]
    x = reference.float() / 255
    degraded = {
        "blurred": F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), 3, 1),
        "noise": (x + 0.05 * torch.randn(x.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1),
        "collapsed": reference[:1].expand(300, -1, -1, -1),  # a generator that always draws one image
    }
    q = quality(model, real, train, reference)
    assert q["fcd"] < 5 * q["fcd_floor"]
    assert q["class_score"] == pytest.approx(q["class_score_real"], rel=0.1)
    for name, images in degraded.items():
        assert fcd(model, images, reference) > 20 * max(q["fcd"], q["fcd_floor"]), name
    assert quality(model, degraded["collapsed"], train, reference)["class_score"] == pytest.approx(1)
