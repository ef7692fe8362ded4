"""Prior-shift correction (Saerens et al. 2002) on data whose true posteriors are known."""

import numpy as np

from benchmarks.realtext.prior_shift import (
    em_prior_shift,
    shift_multi_label,
    shift_single_label,
    training_prior,
)


def _gaussian_batch(prior, n, rng, means=(-1.5, 0.0, 1.5)):
    """1-d Gaussian classes; returns labels and the exact posteriors under a uniform training prior."""
    y = rng.choice(len(prior), size=n, p=prior)
    x = rng.normal(np.array(means)[y], 1.0)
    lik = np.exp(-0.5 * (x[:, None] - np.array(means)[None, :]) ** 2)
    return y, lik / lik.sum(axis=1, keepdims=True)


def test_em_recovers_the_batch_prior_and_fixes_overprediction():
    rng = np.random.RandomState(0)
    true = np.array([0.8, 0.15, 0.05])
    y, P = _gaussian_batch(true, 4000, rng)
    W, prior, it = em_prior_shift(P, np.ones(3) / 3)
    assert np.abs(prior - true).max() < 0.03
    assert 1 < it < 200
    before = (P.argmax(1) == y).mean()
    after = (W.argmax(1) == y).mean()
    assert after > before + 0.03
    # the rare class is predicted about as often as it is true, not half as often again
    true_n = (y == 2).sum()
    assert abs((W.argmax(1) == 2).sum() - true_n) < 0.5 * abs((P.argmax(1) == 2).sum() - true_n)


def test_no_shift_when_the_batch_matches_training():
    rng = np.random.RandomState(1)
    y, P = _gaussian_batch(np.ones(3) / 3, 3000, rng)
    W, prior, _ = em_prior_shift(P, np.ones(3) / 3)
    assert np.abs(prior - 1 / 3).max() < 0.03
    assert (W.argmax(1) == P.argmax(1)).mean() > 0.95


def test_small_batches_are_left_alone():
    P = np.array([[0.2, 0.8], [0.6, 0.4]])
    W, info = shift_single_label(P, np.array([0.5, 0.5]), min_items=100)
    assert not info.applied and (W == P).all()


def test_multi_label_shift_is_per_label():
    rng = np.random.RandomState(2)
    n = 3000
    y = np.column_stack([rng.rand(n) < 0.7, rng.rand(n) < 0.1])  # prevalences 0.7 and 0.1 (training: 0.5, 0.5)
    x = rng.normal(np.where(y, 1.0, -1.0), 1.0)
    P = 1 / (1 + np.exp(-2 * x))  # exact posterior for N(+-1, 1) under a 0.5 prior
    W, info = shift_multi_label(P, np.array([0.5, 0.5]), min_items=100)
    assert info.applied
    assert abs(info.batch_prior[0] - 0.7) < 0.04 and abs(info.batch_prior[1] - 0.1) < 0.04
    assert ((W > 0.5) == y).mean() > ((P > 0.5) == y).mean()


def test_training_prior_from_metadata():
    meta = {"metrics": {"dev": {"n": 10, "per_label": {"a": {"support": 7}, "b": {"support": 3}}}}}
    assert np.allclose(training_prior(meta, ["a", "b"]), [0.7, 0.3])
    assert np.allclose(training_prior({"class_prior": {"a": 0.2, "b": 0.8}}, ["a", "b"]), [0.2, 0.8])
    assert training_prior({}, ["a"]) is None
