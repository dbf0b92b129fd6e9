"""The detector contract, checked on every registered detector.

The data are 2-D: inliers along the line y = -x with a little noise and
labelled outliers on a ring around them. The point (50, 50) lies far off the
line and off the ring, so every detector should score it above the inliers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from anomaly_utils.models import available_detectors, detector_class, make_detector

DETECTORS = available_detectors()

# Small settings that keep each fit to seconds. Parameters a detector does
# not have are dropped, so detectors added later fall back to random_state.
FAST_PARAMS = {
    "autoencoder": {"hidden_units": (8, 1), "epochs": 5, "batch_size": 32},
    "mlp": {
        "hidden_units": (16,),
        "dropout": 0.0,
        "learning_rate": 1e-2,
        "epochs": 100,
        "batch_size": 32,
    },
    "dql": {
        "hidden_units": (16,),
        "n_episodes": 2,
        "steps_per_episode": 20,
        "n_envs": 4,
        "batch_size": 32,
        "iforest_estimators": 20,
    },
    "isolation_forest": {"n_estimators": 50},
    "sgd_ocsvm": {"n_components": 50},
}

FAR_OUTLIER = np.array([[50.0, 50.0]])


def fast_params(name: str) -> dict:
    valid = detector_class(name)._get_param_names()
    params = {"random_state": 0, **FAST_PARAMS.get(name, {})}
    return {key: value for key, value in params.items() if key in valid}


def make_points(n_inliers: int, n_outliers: int, seed: int):
    rng = np.random.default_rng(seed)
    position = rng.normal(scale=2.0, size=n_inliers)
    inliers = np.column_stack([position, -position])
    inliers += rng.normal(scale=0.2, size=inliers.shape)
    angle = rng.uniform(0.0, 2.0 * np.pi, size=n_outliers)
    radius = rng.uniform(8.0, 12.0, size=n_outliers)
    outliers = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    X = np.vstack([inliers, outliers])
    y = np.r_[np.zeros(n_inliers, dtype=np.int64), np.ones(n_outliers, dtype=np.int64)]
    return X, y


X_TRAIN, Y_TRAIN = make_points(300, 15, seed=0)
X_VAL, Y_VAL = make_points(150, 10, seed=1)
X_TEST, Y_TEST = make_points(150, 10, seed=2)


def fit_detector(name: str):
    """Return (detector, value returned by its fit) with fast parameters.

    Detectors that learn from labels also get the validation data.
    """
    detector = make_detector(name, **fast_params(name))
    validation = (X_VAL, Y_VAL) if detector.uses_labels else None
    returned = detector.fit(X_TRAIN, Y_TRAIN, validation_data=validation)
    return detector, returned


class Fitted(NamedTuple):
    name: str
    detector: object
    fit_result: object


@pytest.fixture(scope="module", params=DETECTORS)
def fitted(request):
    """Return each detector fitted once per module, with what fit returned."""
    detector, fit_result = fit_detector(request.param)
    return Fitted(request.param, detector, fit_result)


def test_fit_returns_self(fitted):
    assert fitted.fit_result is fitted.detector


def test_score_samples_shape_and_dtype(fitted):
    detector = fitted.detector
    scores = detector.score_samples(X_TEST)
    assert scores.shape == (X_TEST.shape[0],)
    assert scores.dtype == np.float64
    assert np.all(np.isfinite(scores))


def test_far_outlier_scores_above_median_inlier(fitted):
    detector = fitted.detector
    inlier_scores = detector.score_samples(X_TEST[Y_TEST == 0])
    far_score = detector.score_samples(FAR_OUTLIER)[0]
    assert far_score > np.median(inlier_scores)


def test_predict_returns_binary_labels(fitted):
    detector = fitted.detector
    labels = detector.predict(X_TEST)
    assert labels.shape == (X_TEST.shape[0],)
    assert set(np.unique(labels).tolist()) <= {0, 1}
    assert detector.predict(FAR_OUTLIER)[0] == 1


def test_threshold_is_finite(fitted):
    detector = fitted.detector
    assert np.isfinite(detector.threshold_)


def test_decision_function_subtracts_threshold(fitted):
    detector = fitted.detector
    expected = detector.score_samples(X_TEST) - detector.threshold_
    np.testing.assert_allclose(detector.decision_function(X_TEST), expected)


def test_same_seed_gives_identical_scores(fitted):
    name, detector = fitted.name, fitted.detector
    refitted, _ = fit_detector(name)
    assert np.array_equal(
        refitted.score_samples(X_TEST), detector.score_samples(X_TEST)
    )


def test_wrong_feature_count_raises(fitted):
    detector = fitted.detector
    with pytest.raises(ValueError, match="features"):
        detector.score_samples(np.zeros((4, 3)))


def test_nan_in_scored_data_raises(fitted):
    detector = fitted.detector
    X = X_TEST.copy()
    X[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        detector.score_samples(X)


@pytest.mark.parametrize("name", DETECTORS)
def test_nan_in_training_data_raises(name):
    X = X_TRAIN.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        make_detector(name, **fast_params(name)).fit(X, Y_TRAIN)


@pytest.mark.parametrize("name", DETECTORS)
@pytest.mark.parametrize("method", ["score_samples", "predict", "decision_function"])
def test_unfitted_detector_raises(name, method):
    detector = make_detector(name, **fast_params(name))
    with pytest.raises(NotFittedError, match="fit"):
        getattr(detector, method)(X_TEST)


def test_make_detector_unknown_name_lists_valid():
    with pytest.raises(ValueError, match="isolation_forest"):
        make_detector("no_such_detector")


@pytest.mark.parametrize("name", DETECTORS)
def test_make_detector_unknown_parameter_lists_valid(name):
    with pytest.raises(ValueError, match="random_state"):
        make_detector(name, no_such_parameter=1)


@pytest.mark.parametrize("name", DETECTORS)
def test_max_f1_without_validation_raises(name):
    if detector_class(name).uses_labels:
        pytest.skip(f"{name} learns from labels and may hold out its own validation")
    detector = make_detector(name, **fast_params(name), threshold_method="max_f1")
    with pytest.raises(ValueError, match="validation_data"):
        detector.fit(X_TRAIN, Y_TRAIN)


@pytest.mark.parametrize("name", DETECTORS)
def test_auto_threshold_with_validation_uses_max_f1(name):
    detector = make_detector(name, **fast_params(name))
    detector.fit(X_TRAIN, Y_TRAIN, validation_data=(X_VAL, Y_VAL))
    assert detector.threshold_source_ == "max_f1"


def test_auto_threshold_without_validation_uses_contamination(fitted):
    name, detector = fitted.name, fitted.detector
    if detector.uses_labels:
        pytest.skip(f"{name} learns from labels and is fitted with validation data")
    assert detector.threshold_source_ == "contamination"
