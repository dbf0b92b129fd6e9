"""Toy data: five 2-D sets with uniform outliers and imbalanced tabular sets.

The 2-D sets follow the layouts of scikit-learn's "Comparing anomaly
detection algorithms for outlier detection on toy datasets" example: a
single blob, two equal blobs, two blobs of different spread, two moons and a
uniform square, each with uniformly scattered outliers on ``[-6, 6]^2``.
Labels use 1 = outlier (anomaly) and 0 = inlier throughout.
"""

from __future__ import annotations

import logging
from numbers import Integral, Real

import numpy as np
from sklearn.datasets import make_classification, make_moons

from ._random import check_generator, draw_seed

logger = logging.getLogger(__name__)

#: Names accepted by :func:`make_toy_dataset`, in display order.
TOY_DATASETS = ("one_blob", "two_blobs", "uneven_blobs", "moons", "uniform")

#: Display names for figure titles, keyed by dataset name.
TOY_TITLES = {
    "one_blob": "One blob",
    "two_blobs": "Two blobs",
    "uneven_blobs": "Uneven blobs",
    "moons": "Two moons",
    "uniform": "Uniform square",
}

#: Outliers are drawn uniformly from ``[-OUTLIER_LIMIT, OUTLIER_LIMIT]^2``.
OUTLIER_LIMIT = 6.0

#: Smallest ``n_samples`` accepted by :func:`make_toy_dataset`.
MIN_TOY_SAMPLES = 10


def _check_fraction(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a number in (0, 0.5), got {value!r}")
    value = float(value)
    if not 0.0 < value < 0.5:
        raise ValueError(
            f"{name} must be in the open interval (0, 0.5), got {value}; "
            "anomalies are the minority class, so use a share below one half"
        )
    return value


def _check_count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def _two_blobs(n: int, rng: np.random.Generator, stds: tuple[float, float]):
    first = n // 2
    upper = rng.normal(loc=2.0, scale=stds[0], size=(first, 2))
    lower = rng.normal(loc=-2.0, scale=stds[1], size=(n - first, 2))
    return np.vstack([upper, lower])


def _one_blob(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.normal(loc=0.0, scale=0.5, size=(n, 2))


def _equal_blobs(n: int, rng: np.random.Generator) -> np.ndarray:
    return _two_blobs(n, rng, stds=(0.5, 0.5))


def _uneven_blobs(n: int, rng: np.random.Generator) -> np.ndarray:
    return _two_blobs(n, rng, stds=(1.5, 0.3))


def _moons(n: int, rng: np.random.Generator) -> np.ndarray:
    X, _ = make_moons(n_samples=n, noise=0.05, random_state=draw_seed(rng))
    # make_moons spans x in [-1, 2] and y in [-0.5, 1]: centre the box on the
    # origin and stretch it so that x covers [-4, 4] and y covers [-2, 2].
    return (X - np.array([0.5, 0.25])) * (8.0 / 3.0)


def _uniform_square(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(low=-7.0, high=7.0, size=(n, 2))


_INLIER_MAKERS = {
    "one_blob": _one_blob,
    "two_blobs": _equal_blobs,
    "uneven_blobs": _uneven_blobs,
    "moons": _moons,
    "uniform": _uniform_square,
}


def make_toy_dataset(
    name: str, n_samples: int = 300, outlier_fraction: float = 0.15, random_state=None
) -> tuple[np.ndarray, np.ndarray]:
    """Generate one 2-D toy set with uniform outliers.

    The set has ``n_samples`` rows in all: ``round(outlier_fraction *
    n_samples)`` outliers drawn uniformly from ``[-6, 6]^2`` and the rest
    inliers from the named layout. Rows are shuffled with the same generator,
    so a fixed ``random_state`` gives the same array every time.

    Layouts:

    - ``"one_blob"``: a Gaussian at the origin, std 0.5.
    - ``"two_blobs"``: Gaussians at (2, 2) and (-2, -2), std 0.5.
    - ``"uneven_blobs"``: the same centres, std 1.5 and 0.3.
    - ``"moons"``: two interleaved half circles, noise 0.05, in about
      ``[-4, 4] x [-2, 2]``.
    - ``"uniform"``: a uniform square of side 14 centred at the origin.

    Parameters
    ----------
    name : str
        One of :data:`TOY_DATASETS`.
    n_samples : int, default=300
        Total number of rows, inliers and outliers together; at least 10.
    outlier_fraction : float, default=0.15
        Share of rows that are outliers, in (0, 0.5).
    random_state : int, numpy.random.Generator or None, default=None
        Seed for every draw. None gives different data on each call.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float64
        Coordinates.
    y : ndarray of shape (n_samples,), int64
        1 for an outlier, 0 for an inlier.

    Raises
    ------
    ValueError
        For an unknown ``name``, too few samples or a fraction outside
        (0, 0.5).

    Notes
    -----
    In ``"uniform"`` the inliers cover the whole outlier square, so inliers
    and outliers overlap and no detector can separate them; the set shows
    how each detector behaves without structure to find.
    """
    if name not in _INLIER_MAKERS:
        raise ValueError(
            f"Unknown toy dataset {name!r}; use one of {', '.join(TOY_DATASETS)}"
        )
    n_samples = _check_count(n_samples, "n_samples", MIN_TOY_SAMPLES)
    outlier_fraction = _check_fraction(outlier_fraction, "outlier_fraction")
    n_outliers = round(outlier_fraction * n_samples)
    if n_outliers < 1:
        raise ValueError(
            f"outlier_fraction={outlier_fraction} of n_samples={n_samples} rounds "
            "to zero outliers; raise n_samples or outlier_fraction"
        )
    rng = check_generator(random_state)

    inliers = _INLIER_MAKERS[name](n_samples - n_outliers, rng)
    outliers = rng.uniform(-OUTLIER_LIMIT, OUTLIER_LIMIT, size=(n_outliers, 2))
    X = np.vstack([inliers, outliers]).astype(np.float64)
    y = np.zeros(n_samples, dtype=np.int64)
    y[len(inliers) :] = 1

    order = rng.permutation(n_samples)
    return X[order], y[order]


def make_toy_datasets(
    n_samples: int = 300, outlier_fraction: float = 0.15, random_state=None
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Generate all five toy sets, keyed by name in :data:`TOY_DATASETS` order.

    Each set draws from its own generator derived from ``random_state``, so
    one set's draws do not shift another's. Parameters are those of
    :func:`make_toy_dataset`.

    Returns
    -------
    dict of str to (X, y)
        ``X`` of shape (n_samples, 2) and ``y`` of shape (n_samples,) with
        1 = outlier, per dataset name.
    """
    rng = check_generator(random_state)
    seeds = rng.integers(0, 2**31 - 1, size=len(TOY_DATASETS))
    return {
        name: make_toy_dataset(
            name,
            n_samples=n_samples,
            outlier_fraction=outlier_fraction,
            random_state=int(seed),
        )
        for name, seed in zip(TOY_DATASETS, seeds, strict=True)
    }


def make_imbalanced_dataset(
    n_samples: int,
    anomaly_fraction: float,
    n_features: int = 20,
    n_informative: int = 6,
    n_redundant: int = 2,
    class_sep: float = 1.0,
    flip_y: float = 0.002,
    random_state=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Generate an imbalanced binary set with ``make_classification``.

    Each class is two Gaussian clusters on the vertices of a hypercube in
    ``n_informative`` dimensions, plus ``n_redundant`` linear combinations
    and noise features. ``flip_y`` assigns a random class to that share of
    rows. The class weights are corrected for those flips, so the expected
    anomaly share equals ``anomaly_fraction``. The realised share varies by
    the binomial noise of the flips (a few rows).

    The defaults keep the task hard: at ``anomaly_fraction=0.01`` on 20,000
    rows, scikit-learn's ``MLPClassifier(hidden_layer_sizes=(32, 16))``
    reached a test average precision of 0.37 to 0.54 over three seeds (30 %
    test rows), far from 1.0.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    anomaly_fraction : float
        Expected share of rows with y = 1, in (0, 0.5).
    n_features : int, default=20
        Number of columns.
    n_informative : int, default=6
        Columns that carry the class signal.
    n_redundant : int, default=2
        Linear combinations of the informative columns.
    class_sep : float, default=1.0
        Half the side of the hypercube; smaller values overlap the classes.
    flip_y : float, default=0.002
        Share of rows whose class is drawn at random (label noise). Must be
        below ``2 * anomaly_fraction``.
    random_state : int, numpy.random.Generator or None, default=None
        Seed for the draws.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features), float64
    y : ndarray of shape (n_samples,), int64
        1 for an anomaly, 0 for a normal row.

    Raises
    ------
    ValueError
        For a fraction outside (0, 0.5), fewer than 2 expected anomalies,
        an invalid ``flip_y`` or feature counts that do not fit.
    """
    n_samples = _check_count(n_samples, "n_samples", 10)
    anomaly_fraction = _check_fraction(anomaly_fraction, "anomaly_fraction")
    n_features = _check_count(n_features, "n_features", 2)
    n_informative = _check_count(n_informative, "n_informative", 1)
    n_redundant = _check_count(n_redundant, "n_redundant", 0)
    if n_informative + n_redundant > n_features:
        raise ValueError(
            f"n_informative ({n_informative}) + n_redundant ({n_redundant}) must "
            f"not exceed n_features ({n_features})"
        )
    if isinstance(class_sep, bool) or not isinstance(class_sep, Real) or class_sep <= 0:
        raise ValueError(f"class_sep must be a positive number, got {class_sep!r}")
    if isinstance(flip_y, bool) or not isinstance(flip_y, Real):
        raise ValueError(f"flip_y must be a number, got {flip_y!r}")
    if not 0.0 <= flip_y < 2 * anomaly_fraction:
        raise ValueError(
            f"flip_y must be in [0, 2 * anomaly_fraction) = [0, "
            f"{2 * anomaly_fraction:g}), got {flip_y}; larger label noise would "
            "swamp the anomaly class"
        )

    expected_anomalies = n_samples * anomaly_fraction
    if round(expected_anomalies) < 2:
        raise ValueError(
            f"n_samples={n_samples} with anomaly_fraction={anomaly_fraction} gives "
            f"{expected_anomalies:.2f} anomalies; at least 2 are needed, so use "
            f"n_samples >= {int(np.ceil(1.5 / anomaly_fraction))}"
        )

    # A flipped row lands in either class with probability 1/2, so flips add
    # flip_y / 2 to the anomaly share and remove flip_y * weight from it.
    weight = (anomaly_fraction - flip_y / 2) / (1 - flip_y)
    rng = check_generator(random_state)
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=n_informative,
        n_redundant=n_redundant,
        n_clusters_per_class=2,
        weights=[1.0 - weight],
        flip_y=flip_y,
        class_sep=float(class_sep),
        random_state=draw_seed(rng),
    )
    n_anomalies = int(y.sum())
    if n_anomalies < 2:
        raise ValueError(
            f"This draw has only {n_anomalies} anomalies after label noise "
            f"(n_samples={n_samples}, flip_y={flip_y}); use more samples, "
            "flip_y=0 or another random_state"
        )
    logger.debug(
        "Imbalanced set: %d rows, %d anomalies (%.3f %%)",
        n_samples,
        n_anomalies,
        100 * n_anomalies / n_samples,
    )
    return X.astype(np.float64), y.astype(np.int64)
