"""Tests of the supervised MLP detector and its imbalance remedies."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from anomaly_utils.models import make_detector
from anomaly_utils.models.mlp import (
    MLPDetector,
    balanced_class_weights,
    build_training_dataset,
    parse_imbalance,
)

FAST = {
    "hidden_units": (8,),
    "dropout": 0.1,
    "learning_rate": 1e-2,
    "epochs": 15,
    "batch_size": 64,
    "patience": 5,
}


def _labelled_data(n_samples=600, anomaly_share=0.05, shift=2.5, random_state=0):
    """Gaussian normal rows and shifted anomalies in 4-D, 1 = anomaly."""
    rng = np.random.default_rng(random_state)
    y = (rng.random(n_samples) < anomaly_share).astype(np.int64)
    y[:3] = 1  # at least three anomalies for stratified hold-outs
    X = rng.normal(size=(n_samples, 4))
    X[y == 1] += shift
    return X, y


REMEDY_VARIANTS = (
    "none",
    "class_weight",
    "oversample",
    "bias_init",
    "oversample+bias_init",
)


@pytest.fixture(scope="module")
def train_val():
    X, y = _labelled_data(random_state=0)
    X_val, y_val = _labelled_data(n_samples=300, random_state=1)
    return X, y, X_val, y_val


@pytest.fixture(scope="module")
def fitted(train_val):
    """One detector per remedy, fitted once with validation data."""
    X, y, X_val, y_val = train_val
    detectors = {}
    for imbalance in REMEDY_VARIANTS:
        detector = MLPDetector(**FAST, imbalance=imbalance, random_state=0)
        detectors[imbalance] = detector.fit(X, y, validation_data=(X_val, y_val))
    return detectors


# --------------------------------------------------------------------------
# Remedy parsing and class weights
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("imbalance", "expected"),
    [
        ("none", ()),
        ("class_weight", ("class_weight",)),
        ("bias_init+oversample", ("oversample", "bias_init")),
        (["bias_init", "class_weight"], ("class_weight", "bias_init")),
        (" oversample + bias_init ", ("oversample", "bias_init")),
    ],
)
def test_parse_imbalance_accepts(imbalance, expected):
    assert parse_imbalance(imbalance) == expected


@pytest.mark.parametrize(
    ("imbalance", "fragment"),
    [
        ("smote", "unknown remedies ['smote']"),
        ("none+oversample", "combines 'none' with a remedy"),
        ("", "unknown remedies"),
        (3, "must be a string"),
    ],
)
def test_parse_imbalance_rejects(imbalance, fragment):
    with pytest.raises(ValueError, match=fragment.replace("[", r"\[")):
        parse_imbalance(imbalance)


def test_balanced_class_weights_equalise_classes():
    y = np.array([0] * 90 + [1] * 10)
    weights = balanced_class_weights(y)
    assert weights[0] == pytest.approx(100 / 180)
    assert weights[1] == pytest.approx(100 / 20)
    assert 90 * weights[0] == pytest.approx(10 * weights[1])


def test_balanced_class_weights_need_both_classes():
    with pytest.raises(ValueError, match="both classes"):
        balanced_class_weights(np.zeros(5, dtype=int))


# --------------------------------------------------------------------------
# Input pipeline
# --------------------------------------------------------------------------


def _epochs(dataset, steps):
    """Return the label batches of a dataset, grouped per epoch."""
    batches = [np.asarray(batch[1]) for batch in dataset]
    return [batches[i : i + steps] for i in range(0, len(batches), steps)]


def _epoch_rows(dataset, steps, epoch):
    """Return the row values (X contains row numbers) of one epoch, in order."""
    batches = [np.asarray(batch[0]).ravel() for batch in dataset]
    return np.concatenate(batches[epoch * steps : (epoch + 1) * steps])


def test_plain_pipeline_covers_every_row_per_epoch():
    X = np.arange(50, dtype=float).reshape(-1, 1)
    y = np.r_[np.zeros(45), np.ones(5)].astype(int)
    dataset, steps = build_training_dataset(X, y, batch_size=16, seed=3, epochs=2)
    assert steps == math.ceil(50 / 16)
    epochs = [_epoch_rows(dataset, steps, epoch) for epoch in (0, 1)]
    for rows in epochs:
        # 4 batches of 16: the 14 padding rows repeat the start of the epoch.
        assert rows.size == steps * 16
        assert sorted(rows[:50]) == list(range(50))
        np.testing.assert_array_equal(rows[50:], rows[:14])
    assert not np.array_equal(epochs[0], epochs[1])


def test_pipeline_batches_have_one_size():
    X, y = _labelled_data(n_samples=130)
    for oversample in (False, True):
        dataset, _ = build_training_dataset(
            X, y, batch_size=32, seed=0, epochs=2, oversample=oversample
        )
        sizes = {int(batch[1].shape[0]) for batch in dataset}
        assert sizes == {32}


def test_pipeline_caps_batch_at_epoch_size():
    X, y = _labelled_data(n_samples=40)
    dataset, steps = build_training_dataset(X, y, batch_size=2048, seed=0)
    assert steps == 1
    assert [int(batch[1].shape[0]) for batch in dataset] == [40]


def test_pipeline_order_repeats_with_seed():
    X, y = _labelled_data(n_samples=200)
    orders = []
    for _ in range(2):
        dataset, _ = build_training_dataset(X, y, batch_size=32, seed=7, epochs=2)
        orders.append(np.concatenate([np.asarray(b[0])[:, 0] for b in dataset]))
    assert np.array_equal(orders[0], orders[1])


def test_oversampling_balances_every_epoch_and_batch():
    X, y = _labelled_data(n_samples=2000, anomaly_share=0.02)
    n_normal = int(np.sum(y == 0))
    dataset, steps = build_training_dataset(
        X, y, batch_size=256, seed=0, epochs=3, oversample=True
    )
    assert steps == math.ceil(2 * n_normal / 256)
    for epoch in _epochs(dataset, steps):
        labels = np.concatenate(epoch)[: 2 * n_normal]
        assert int(labels.sum()) == n_normal
        shares = np.array([batch.mean() for batch in epoch])
        assert shares.min() > 0.35
        assert shares.max() < 0.65


def test_oversampling_keeps_every_normal_row_once():
    X = np.arange(120, dtype=float).reshape(-1, 1)
    y = np.r_[np.zeros(110), np.ones(10)].astype(int)
    dataset, steps = build_training_dataset(
        X, y, batch_size=32, seed=1, epochs=1, oversample=True
    )
    rows = _epoch_rows(dataset, steps, 0)[:220]
    normal_rows = rows[rows < 110]
    anomaly_rows = rows[rows >= 110]
    assert sorted(normal_rows) == list(range(110))
    counts = np.bincount(anomaly_rows.astype(int) - 110, minlength=10)
    assert counts.min() == 11
    assert counts.max() == 11


def test_pipeline_yields_class_weights():
    X, y = _labelled_data(n_samples=300)
    weights = balanced_class_weights(y)
    dataset, _ = build_training_dataset(
        X, y, batch_size=64, seed=0, class_weight=weights
    )
    for _, labels, sample_weight in dataset:
        labels = np.asarray(labels).astype(int)
        expected = np.where(labels == 1, weights[1], weights[0])
        np.testing.assert_allclose(np.asarray(sample_weight), expected, rtol=1e-6)


def test_pipeline_rejects_single_class():
    with pytest.raises(ValueError, match="both classes"):
        build_training_dataset(np.zeros((5, 2)), np.zeros(5), batch_size=2, seed=0)


# --------------------------------------------------------------------------
# Remedies inside the detector
# --------------------------------------------------------------------------


def test_bias_init_sets_output_bias_to_log_odds(train_val, fitted):
    X, y, _, _ = train_val
    detector = fitted["bias_init"]
    expected = math.log(np.sum(y == 1) / np.sum(y == 0))
    assert detector.initial_bias_ == pytest.approx(expected)

    model = detector._build_model(X.shape[1], detector.initial_bias_, base_seed=0)
    bias = model.get_layer("logit").get_weights()[1]
    assert bias[0] == pytest.approx(expected, rel=1e-6)


def test_bias_init_lowers_initial_loss(train_val):
    X, y, _, _ = train_val
    prior_bias = math.log(np.sum(y == 1) / np.sum(y == 0))
    detector = MLPDetector(**FAST)
    losses = {}
    for name, bias in (("zero", 0.0), ("log_odds", prior_bias)):
        model = detector._build_model(X.shape[1], bias, base_seed=0)
        losses[name] = float(model.evaluate(X, y, verbose=0))
    assert losses["log_odds"] < losses["zero"]
    # A model that predicts the prior everywhere has this loss; the
    # initialised one starts near it.
    prior = y.mean()
    prior_loss = -(prior * math.log(prior) + (1 - prior) * math.log(1 - prior))
    assert losses["log_odds"] < 2 * prior_loss


def test_no_remedy_keeps_zero_bias_and_no_weights(fitted):
    detector = fitted["none"]
    assert detector.initial_bias_ == 0.0
    assert detector.class_weight_ is None
    assert detector.remedies_ == ()


def test_class_weight_remedy_stores_weights(train_val, fitted):
    _, y, _, _ = train_val
    assert fitted["class_weight"].class_weight_ == balanced_class_weights(y)
    assert fitted["class_weight"].initial_bias_ == 0.0


def test_combined_remedies_are_both_applied(fitted):
    detector = fitted["oversample+bias_init"]
    assert detector.remedies_ == ("oversample", "bias_init")
    assert detector.initial_bias_ < 0
    assert detector.class_weight_ is None


def test_class_weight_with_oversample_warns(train_val):
    X, y, X_val, y_val = train_val
    detector = MLPDetector(
        **{**FAST, "epochs": 2}, imbalance="class_weight+oversample", random_state=0
    )
    with pytest.warns(UserWarning, match="rebalance the classes twice"):
        detector.fit(X, y, validation_data=(X_val, y_val))


@pytest.mark.parametrize("imbalance", REMEDY_VARIANTS)
def test_every_remedy_ranks_shifted_anomalies(fitted, imbalance):
    X_test, y_test = _labelled_data(n_samples=400, random_state=2)
    scores = fitted[imbalance].score_samples(X_test)
    assert average_precision_score(y_test, scores) > 0.8
    assert np.all((scores >= 0) & (scores <= 1))


# --------------------------------------------------------------------------
# Early stopping, history, threshold
# --------------------------------------------------------------------------


@pytest.mark.parametrize("imbalance", REMEDY_VARIANTS)
def test_history_and_best_epoch_agree(fitted, imbalance):
    detector = fitted[imbalance]
    history = detector.history_
    assert set(history) == {"loss", "val_loss", "val_average_precision"}
    for values in history.values():
        assert len(values) == detector.n_epochs_
    assert 1 <= detector.best_epoch_ <= detector.n_epochs_ <= FAST["epochs"]
    best = max(history["val_average_precision"])
    assert detector.best_val_average_precision_ == best
    assert history["val_average_precision"][detector.best_epoch_ - 1] == best


@pytest.mark.parametrize("imbalance", REMEDY_VARIANTS)
def test_best_weights_are_restored(train_val, fitted, imbalance):
    _, _, X_val, y_val = train_val
    detector = fitted[imbalance]
    restored = average_precision_score(y_val, detector.score_samples(X_val))
    assert restored == pytest.approx(detector.best_val_average_precision_, abs=1e-9)


def test_patience_stops_training_early():
    # Perfectly separable data reaches validation AP 1.0 in the first epochs,
    # so the AP cannot improve afterwards and training stops.
    X, y = _labelled_data(n_samples=400, shift=20.0)
    X_val, y_val = _labelled_data(n_samples=200, shift=20.0, random_state=1)
    detector = MLPDetector(**{**FAST, "epochs": 60, "patience": 2}, random_state=0)
    detector.fit(X, y, validation_data=(X_val, y_val))
    assert detector.best_val_average_precision_ == 1.0
    assert detector.n_epochs_ == detector.best_epoch_ + 2
    assert detector.n_epochs_ < 60


def test_without_validation_data_holds_out_training_rows(train_val):
    X, y, _, _ = train_val
    detector = MLPDetector(**FAST, random_state=0).fit(X, y)
    assert detector.validation_source_ == "held_out"
    assert detector.threshold_source_ == "max_f1"
    assert np.isfinite(detector.threshold_)


def test_passed_validation_data_sets_threshold(fitted):
    assert fitted["none"].validation_source_ == "passed"
    assert fitted["none"].threshold_source_ == "max_f1"


def test_recall_threshold_reaches_target(train_val):
    X, y, X_val, y_val = train_val
    detector = MLPDetector(
        **FAST, threshold_method="recall", target_recall=0.9, random_state=0
    )
    detector.fit(X, y, validation_data=(X_val, y_val))
    assert detector.threshold_source_ == "recall"
    recall = detector.predict(X_val)[y_val == 1].mean()
    assert recall >= 0.9


def test_predict_proba_columns(train_val, fitted):
    _, _, X_val, _ = train_val
    detector = fitted["none"]
    proba = detector.predict_proba(X_val)
    assert proba.shape == (X_val.shape[0], 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba[:, 1], detector.score_samples(X_val))


def test_scores_batched_like_whole(train_val, fitted):
    _, _, X_val, _ = train_val
    detector = fitted["none"]
    whole = detector.score_samples(X_val)
    detector.set_params(score_batch_size=7)
    try:
        small_batches = detector.score_samples(X_val)
    finally:
        detector.set_params(score_batch_size=FAST.get("score_batch_size", 8192))
    np.testing.assert_allclose(small_batches, whole, rtol=1e-6)


# --------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------


@pytest.mark.parametrize("imbalance", ["none", "oversample"])
def test_same_seed_gives_identical_scores(train_val, imbalance):
    X, y, X_val, y_val = train_val
    scores = []
    for seed in (5, 5, 6):
        detector = MLPDetector(
            **{**FAST, "epochs": 5}, imbalance=imbalance, random_state=seed
        )
        detector.fit(X, y, validation_data=(X_val, y_val))
        scores.append(detector.score_samples(X_val))
    assert np.array_equal(scores[0], scores[1])
    assert not np.array_equal(scores[0], scores[2])


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


def test_fit_without_labels_fails(train_val):
    X, _, _, _ = train_val
    with pytest.raises(ValueError, match="needs labels; call fit\\(X, y\\)"):
        MLPDetector(**FAST).fit(X)


def test_fit_with_one_class_fails(train_val):
    X, _, _, _ = train_val
    with pytest.raises(ValueError, match="y contains only one class"):
        MLPDetector(**FAST).fit(X, np.zeros(X.shape[0], dtype=int))


def test_validation_with_one_class_fails(train_val):
    X, y, X_val, _ = train_val
    with pytest.raises(ValueError, match="y_val contains only one class"):
        MLPDetector(**FAST).fit(
            X, y, validation_data=(X_val, np.zeros(X_val.shape[0], dtype=int))
        )


def test_hold_out_needs_two_anomalies():
    X = np.random.default_rng(0).normal(size=(50, 2))
    y = np.zeros(50, dtype=int)
    y[0] = 1
    with pytest.raises(ValueError, match="needs at least 2"):
        MLPDetector(**FAST).fit(X, y)


def test_non_binary_labels_fail(train_val):
    X, y, _, _ = train_val
    with pytest.raises(ValueError, match="only 0 \\(normal\\) and 1"):
        MLPDetector(**FAST).fit(X, y * 2)


def test_unknown_remedy_fails(train_val):
    X, y, X_val, y_val = train_val
    with pytest.raises(ValueError, match="unknown remedies \\['smote'\\]"):
        MLPDetector(**FAST, imbalance="smote").fit(X, y, validation_data=(X_val, y_val))


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"hidden_units": (8, 0)}, "hidden_units must be positive integers"),
        ({"hidden_units": (8.5,)}, "hidden_units must be positive integers"),
        ({"dropout": 1.0}, "dropout must be in \\[0, 1\\)"),
        ({"dropout": -0.1}, "dropout must be in \\[0, 1\\)"),
        ({"l2": -1e-3}, "l2 must be non-negative"),
        ({"learning_rate": 0.0}, "learning_rate must be positive"),
        ({"batch_size": 0}, "batch_size must be a positive integer"),
        ({"epochs": 0}, "epochs must be a positive integer"),
        ({"patience": 1.5}, "patience must be a positive integer"),
        ({"score_batch_size": -1}, "score_batch_size must be a positive integer"),
        ({"validation_fraction": 0.0}, "validation_fraction must be in"),
        ({"validation_fraction": 0.6}, "validation_fraction must be in"),
        ({"threshold_method": "best"}, "threshold_method must be one of"),
    ],
)
def test_invalid_hyperparameters_fail(train_val, params, fragment):
    X, y, X_val, y_val = train_val
    detector = MLPDetector(**{**FAST, **params})
    with pytest.raises(ValueError, match=fragment):
        detector.fit(X, y, validation_data=(X_val, y_val))


def test_registry_builds_mlp():
    detector = make_detector("mlp", imbalance="oversample", random_state=1)
    assert isinstance(detector, MLPDetector)
    assert detector.uses_labels
    assert detector.get_params()["imbalance"] == "oversample"


# --------------------------------------------------------------------------
# Real data
# --------------------------------------------------------------------------

REAL_SEEDS = (0, 1, 2)


@pytest.mark.realdata
def test_creditcard_mlp_beats_autoencoder(creditcard_sample_splits):
    """Mean test AP over 3 seeds: supervised MLP at least the autoencoder's."""
    splits = creditcard_sample_splits
    validation = (splits.X_val, splits.y_val)
    mlp_ap, autoencoder_ap = [], []
    for seed in REAL_SEEDS:
        mlp = make_detector(
            "mlp", batch_size=256, epochs=60, patience=10, random_state=seed
        )
        mlp.fit(splits.X_train, splits.y_train, validation_data=validation)
        mlp_ap.append(
            average_precision_score(splits.y_test, mlp.score_samples(splits.X_test))
        )
        autoencoder = make_detector(
            "autoencoder",
            hidden_units=(24, 12, 6),
            dropout=0.05,
            l2=1e-5,
            batch_size=512,
            learning_rate=2e-3,
            epochs=50,
            patience=5,
            random_state=seed,
        )
        autoencoder.fit(splits.normal_train(), validation_data=validation)
        autoencoder_ap.append(
            average_precision_score(
                splits.y_test, autoencoder.score_samples(splits.X_test)
            )
        )
    assert np.mean(mlp_ap) >= np.mean(autoencoder_ap), (mlp_ap, autoencoder_ap)
    assert np.mean(mlp_ap) > 0.85
