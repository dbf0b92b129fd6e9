"""Classical detectors: score direction, subsampling, checks and real-data floors."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.neighbors import LocalOutlierFactor
from sklearn.svm import OneClassSVM

from anomaly_utils.models import make_detector
from anomaly_utils.models.classical import (
    IsolationForestDetector,
    LOFDetector,
    OCSVMDetector,
    SGDOCSVMDetector,
)

CLASSICAL = ["isolation_forest", "lof", "ocsvm", "sgd_ocsvm"]

RNG = np.random.default_rng(0)
X_TRAIN = RNG.normal(size=(1000, 2))
# Fresh draws from the training distribution, and points far outside it.
X_FRESH = RNG.normal(size=(4000, 2))
X_FAR = RNG.uniform(6.0, 9.0, size=(50, 2)) * RNG.choice([-1.0, 1.0], size=(50, 2))


@pytest.mark.parametrize("name", CLASSICAL)
def test_far_points_score_higher(name):
    detector = make_detector(name, random_state=0).fit(X_TRAIN)
    scores = detector.score_samples(np.vstack([X_FRESH, X_FAR]))
    labels = np.r_[np.zeros(len(X_FRESH)), np.ones(len(X_FAR))]
    assert roc_auc_score(labels, scores) > 0.99


@pytest.mark.parametrize("name", CLASSICAL)
def test_contamination_sets_fresh_anomaly_rate(name):
    # The threshold is the 90th percentile of training scores, so about 10 %
    # of fresh rows from the same distribution land above it.
    detector = make_detector(name, contamination=0.1, random_state=0).fit(X_TRAIN)
    rate = detector.predict(X_FRESH).mean()
    assert 0.06 <= rate <= 0.14


def test_ocsvm_scores_negate_sklearn():
    detector = OCSVMDetector(nu=0.2).fit(X_TRAIN)
    reference = OneClassSVM(kernel="rbf", nu=0.2, gamma="scale").fit(X_TRAIN)
    np.testing.assert_allclose(
        detector.score_samples(X_FRESH), -reference.score_samples(X_FRESH)
    )


def test_lof_scores_are_novelty_lof():
    detector = LOFDetector(n_neighbors=15).fit(X_TRAIN)
    reference = LocalOutlierFactor(n_neighbors=15, novelty=True).fit(X_TRAIN)
    np.testing.assert_allclose(
        detector.score_samples(X_FRESH), -reference.score_samples(X_FRESH)
    )


def test_lof_threshold_uses_leave_one_out_scores():
    detector = LOFDetector(contamination=0.1).fit(X_TRAIN)
    leave_one_out = -detector.estimator_.negative_outlier_factor_
    assert detector.threshold_ == pytest.approx(np.quantile(leave_one_out, 0.9))


def test_isolation_forest_scores_in_unit_interval():
    scores = IsolationForestDetector(random_state=0).fit(X_TRAIN).score_samples(X_FAR)
    assert np.all(scores > 0.0)
    assert np.all(scores <= 1.0)


def test_isolation_forest_accepts_generator_seed():
    first = IsolationForestDetector(random_state=np.random.default_rng(3))
    second = IsolationForestDetector(random_state=np.random.default_rng(3))
    scores_first = first.fit(X_TRAIN).score_samples(X_FAR)
    scores_second = second.fit(X_TRAIN).score_samples(X_FAR)
    assert np.array_equal(scores_first, scores_second)


@pytest.mark.parametrize("name", ["lof", "ocsvm"])
def test_subsample_caps_training_rows(name, caplog):
    detector = make_detector(name, max_train_samples=200, random_state=0)
    with caplog.at_level(logging.INFO, logger="anomaly_utils.models.classical"):
        detector.fit(X_TRAIN)
    assert detector.n_train_samples_ == 200
    assert "subsample of 200 of 1000" in caplog.text


@pytest.mark.parametrize("name", ["lof", "ocsvm"])
def test_subsample_follows_random_state(name):
    scores = [
        make_detector(name, max_train_samples=200, random_state=seed)
        .fit(X_TRAIN)
        .score_samples(X_FAR)
        for seed in (0, 0, 1)
    ]
    assert np.array_equal(scores[0], scores[1])
    assert not np.array_equal(scores[0], scores[2])


@pytest.mark.parametrize("name", ["lof", "ocsvm"])
def test_no_subsample_below_cap(name, caplog):
    detector = make_detector(name, max_train_samples=None)
    with caplog.at_level(logging.INFO, logger="anomaly_utils.models.classical"):
        detector.fit(X_TRAIN)
    assert detector.n_train_samples_ == X_TRAIN.shape[0]
    assert "subsample" not in caplog.text


@pytest.mark.parametrize("name", ["lof", "ocsvm"])
@pytest.mark.parametrize("value", [0, 1, -5, 2.5, "all", True])
def test_invalid_max_train_samples_raises(name, value):
    detector = make_detector(name, max_train_samples=value)
    with pytest.raises(ValueError, match="max_train_samples must be an integer"):
        detector.fit(X_TRAIN)


@pytest.mark.parametrize("name", CLASSICAL)
@pytest.mark.parametrize("value", [0.0, 0.6, -0.1, "high", None])
def test_invalid_contamination_raises(name, value):
    detector = make_detector(name, contamination=value, random_state=0)
    with pytest.raises(ValueError, match="contamination must be"):
        detector.fit(X_TRAIN)


@pytest.mark.parametrize("name", ["ocsvm", "sgd_ocsvm"])
@pytest.mark.parametrize("value", [0.0, 1.5, -0.2])
def test_invalid_nu_raises(name, value):
    detector = make_detector(name, nu=value, random_state=0)
    with pytest.raises(ValueError, match="'nu' parameter"):
        detector.fit(X_TRAIN)


@pytest.mark.parametrize("value", [0.0, -1.0, "auto", True])
def test_sgd_ocsvm_invalid_gamma_raises(value):
    detector = SGDOCSVMDetector(gamma=value, random_state=0)
    with pytest.raises(ValueError, match="gamma must be 'scale' or a positive float"):
        detector.fit(X_TRAIN)


def test_sgd_ocsvm_scale_gamma_matches_svc_rule():
    X = X_TRAIN * np.array([1.0, 3.0])
    detector = SGDOCSVMDetector(random_state=0).fit(X)
    assert detector.gamma_ == pytest.approx(1.0 / (X.shape[1] * X.var()))
    nystroem = detector.estimator_.named_steps["nystroem"]
    assert nystroem.gamma == detector.gamma_


def test_sgd_ocsvm_float_gamma_passes_through():
    detector = SGDOCSVMDetector(gamma=0.3, random_state=0).fit(X_TRAIN)
    assert detector.gamma_ == 0.3


# Floors sit about 0.05 (ROC-AUC) and 0.1 or more (average precision) under
# the values measured on the test split with random_state 0 to 2. ROC-AUC was
# 0.95 to 0.96 for all four. Average precision was 0.86 to 0.88 (Isolation
# Forest), 0.54 (LOF), 0.855 (One-Class SVM) and 0.82 (SGD One-Class SVM).
REAL_DATA_FLOORS = {
    "isolation_forest": {"roc_auc": 0.90, "average_precision": 0.75},
    "lof": {"roc_auc": 0.90, "average_precision": 0.40},
    "ocsvm": {"roc_auc": 0.90, "average_precision": 0.70},
    "sgd_ocsvm": {"roc_auc": 0.90, "average_precision": 0.70},
}


@pytest.mark.realdata
@pytest.mark.parametrize("name", CLASSICAL)
def test_creditcard_sample_floors(name, creditcard_sample_splits):
    splits = creditcard_sample_splits
    X_train = np.asarray(splits.X_train)
    y_train = np.asarray(splits.y_train)
    detector = make_detector(name, random_state=0).fit(X_train[y_train == 0])
    scores = detector.score_samples(splits.X_test)
    floors = REAL_DATA_FLOORS[name]
    assert roc_auc_score(splits.y_test, scores) >= floors["roc_auc"]
    assert average_precision_score(splits.y_test, scores) >= floors["average_precision"]
