"""Tests of the DQL detector and the notebook-04 experiment helpers."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.metrics import average_precision_score  # noqa: E402

from anomaly_utils.dql_experiments import (  # noqa: E402
    dql_model_name,
    keep_labelled_anomalies,
    labelled_count,
    metric_by_k,
    plot_learning_curves,
    plot_metric_against_k,
    plot_score_histograms,
    run_label_sweep,
)
from anomaly_utils.evaluation import RecordBook  # noqa: E402
from anomaly_utils.models import make_detector  # noqa: E402
from anomaly_utils.models.dql import (  # noqa: E402
    HISTORY_KEYS,
    DQLDetector,
    ReplayBuffer,
    _rewards,
)

# Small runs: 3 episodes of 15 batched steps of 16 environments.
FAST = {
    "n_episodes": 3,
    "steps_per_episode": 15,
    "n_envs": 16,
    "batch_size": 32,
    "n_candidates": 16,
    "iforest_estimators": 20,
}


def _blob_with_outliers(seed: int = 0, n_inliers: int = 170, n_outliers: int = 30):
    rng = np.random.default_rng(seed)
    inliers = rng.normal(0.0, 0.6, size=(n_inliers, 2))
    outliers = rng.uniform(-6.0, 6.0, size=(n_outliers, 2))
    # Keep the outliers away from the blob so that labels are unambiguous.
    outliers[np.linalg.norm(outliers, axis=1) < 2.5] *= 3.0
    X = np.vstack([inliers, outliers])
    y = np.r_[np.zeros(n_inliers), np.ones(n_outliers)].astype(np.int64)
    return X, y


# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------


def test_replay_buffer_overwrites_oldest():
    buffer = ReplayBuffer(5)
    buffer.add(np.arange(3), np.zeros(3), np.ones(3), np.arange(3) + 10)
    buffer.add(np.arange(3, 7), np.ones(4), np.zeros(4), np.arange(3, 7) + 10)
    assert buffer.size == 5
    # States 0 and 1 were the oldest and are overwritten by 5 and 6.
    assert sorted(buffer.states.tolist()) == [2, 3, 4, 5, 6]
    assert np.array_equal(buffer.next_states - buffer.states, np.full(5, 10))


def test_replay_buffer_sample_shapes():
    buffer = ReplayBuffer(10)
    buffer.add(np.arange(4), np.array([0, 1, 0, 1]), np.ones(4), np.arange(4))
    states, actions, rewards, next_states = buffer.sample(7, np.random.default_rng(0))
    for array in (states, actions, rewards, next_states):
        assert array.shape == (7,)
    assert set(states.tolist()) <= {0, 1, 2, 3}
    assert actions.dtype == np.int32
    assert rewards.dtype == np.float32


def test_replay_buffer_rejects_bad_use():
    with pytest.raises(ValueError, match="capacity"):
        ReplayBuffer(0)
    buffer = ReplayBuffer(2)
    with pytest.raises(ValueError, match="empty"):
        buffer.sample(1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="raise the capacity"):
        buffer.add(np.arange(3), np.zeros(3), np.zeros(3), np.arange(3))


def test_rewards_follow_dplan_table():
    actions = np.array([1, 0, 1, 0, 1])
    labelled = np.array([True, True, False, False, False])
    intrinsic = np.array([0.9, 0.9, 0.25, 0.25, 1.0])
    rewards = _rewards(actions, labelled, intrinsic, intrinsic_weight=1.0)
    # Labelled: +1 flagged, -1 missed. Unlabelled: -1 + c flagged, 0 normal.
    assert np.allclose(rewards, [1.0, -1.0, -0.75, 0.0, 0.0])
    doubled = _rewards(actions, labelled, intrinsic, intrinsic_weight=2.0)
    assert np.allclose(doubled, [1.0, -1.0, -0.5, 0.0, 1.0])


# --------------------------------------------------------------------------
# The detector
# --------------------------------------------------------------------------


def test_short_run_stays_finite():
    X, y = _blob_with_outliers()
    detector = DQLDetector(random_state=0, **FAST).fit(X, y)
    history = detector.history_
    assert set(history) == set(HISTORY_KEYS)
    for key in ("episode_return", "td_loss", "q_min", "q_max", "epsilon"):
        assert len(history[key]) == FAST["n_episodes"]
        assert np.all(np.isfinite(history[key])), key
    assert np.all(np.array(history["q_min"]) <= np.array(history["q_max"]))
    scores = detector.score_samples(X)
    assert scores.shape == (X.shape[0],)
    assert np.all(np.isfinite(scores))
    assert np.isfinite(detector.threshold_)
    assert detector.n_transitions_ == (
        FAST["n_episodes"] * FAST["steps_per_episode"] * FAST["n_envs"]
    )


def test_same_seed_gives_identical_scores():
    X, y = _blob_with_outliers()
    first = DQLDetector(random_state=3, **FAST).fit(X, y).score_samples(X)
    second = DQLDetector(random_state=3, **FAST).fit(X, y).score_samples(X)
    other = DQLDetector(random_state=4, **FAST).fit(X, y).score_samples(X)
    assert np.array_equal(first, second)
    assert not np.array_equal(first, other)


def test_labelled_anomalies_rank_high():
    X, y = _blob_with_outliers()
    detector = DQLDetector(random_state=0).fit(X, y)
    X_new, y_new = _blob_with_outliers(seed=1)
    precision = average_precision_score(y_new, detector.score_samples(X_new))
    assert precision >= 0.9


def test_labels_give_weakly_supervised_setting():
    X, y = _blob_with_outliers()
    weak = keep_labelled_anomalies(y, 5, random_state=0)
    detector = DQLDetector(random_state=0, **FAST).fit(X, weak)
    assert detector.used_pseudo_labels_ is False
    assert detector.setting_ == "weakly-supervised"
    assert detector.n_labelled_anomalies_ == 5


@pytest.mark.parametrize("labels", ["none", "zeros"])
def test_no_labels_use_isolation_forest_pseudo_labels(labels):
    X, y = _blob_with_outliers()
    y_train = None if labels == "none" else np.zeros_like(y)
    detector = DQLDetector(random_state=0, contamination=0.15, **FAST)
    detector.fit(X, y_train)
    assert detector.used_pseudo_labels_ is True
    assert detector.setting_ == "unsupervised"
    assert detector.n_labelled_anomalies_ == int(np.ceil(0.15 * X.shape[0]))


def test_explicit_pseudo_label_count():
    X, _ = _blob_with_outliers()
    detector = DQLDetector(random_state=0, n_pseudo_anomalies=7, **FAST).fit(X)
    assert detector.n_labelled_anomalies_ == 7


def test_validation_history_and_best_episode():
    X, y = _blob_with_outliers()
    X_val, y_val = _blob_with_outliers(seed=2)
    detector = DQLDetector(random_state=0, **FAST)
    detector.fit(X, keep_labelled_anomalies(y, 5, 0), validation_data=(X_val, y_val))
    precisions = np.array(detector.history_["val_average_precision"])
    assert np.all(np.isfinite(precisions))
    assert detector.best_episode_ == int(np.argmax(precisions)) + 1
    restored = average_precision_score(y_val, detector.score_samples(X_val))
    assert restored == pytest.approx(precisions.max())
    assert detector.threshold_source_ == "max_f1"


def test_without_validation_history_has_nan():
    X, y = _blob_with_outliers()
    detector = DQLDetector(random_state=0, **FAST).fit(X, y)
    assert np.all(np.isnan(detector.history_["val_average_precision"]))
    assert detector.best_episode_ == FAST["n_episodes"]
    assert detector.threshold_source_ == "contamination"


def test_score_batches_match_one_pass():
    X, y = _blob_with_outliers()
    detector = DQLDetector(random_state=0, **FAST).fit(X, y)
    one_pass = detector.score_samples(X)
    detector.set_params(score_batch_size=7)
    assert np.allclose(detector.score_samples(X), one_pass, rtol=1e-6, atol=1e-6)


def test_registry_builds_dql():
    detector = make_detector("dql", random_state=1, n_episodes=2)
    assert isinstance(detector, DQLDetector)
    assert detector.uses_labels is True


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"hidden_units": ()}, "hidden_units"),
        ({"hidden_units": (16, 0)}, "hidden_units"),
        ({"hidden_units": 16}, "hidden_units"),
        ({"n_episodes": 0}, "n_episodes"),
        ({"steps_per_episode": 2.5}, "steps_per_episode"),
        ({"n_envs": True}, "n_envs"),
        ({"gamma": 1.0}, "gamma"),
        ({"learning_rate": -1e-3}, "learning_rate"),
        ({"tau": 0.0}, "tau"),
        ({"anomaly_draw_probability": 1.0}, "anomaly_draw_probability"),
        ({"epsilon_start": 1.5}, "epsilon_start"),
        ({"epsilon_start": 0.1, "epsilon_end": 0.5}, "epsilon_end"),
        ({"intrinsic_weight": -1.0}, "intrinsic_weight"),
        ({"intrinsic_weight": "high"}, "intrinsic_weight"),
        ({"replay_size": 8, "n_envs": 16}, "replay_size"),
        ({"n_pseudo_anomalies": 0}, "n_pseudo_anomalies"),
    ],
)
def test_invalid_parameters_raise(params, message):
    X, y = _blob_with_outliers()
    with pytest.raises(ValueError, match=message):
        DQLDetector(**{**FAST, **params}).fit(X, y)


def test_all_rows_labelled_raises():
    X, _ = _blob_with_outliers()
    with pytest.raises(ValueError, match="every row as an anomaly"):
        DQLDetector(**FAST).fit(X, np.ones(X.shape[0], dtype=int))


def test_too_many_pseudo_anomalies_raises():
    X, _ = _blob_with_outliers()
    with pytest.raises(ValueError, match="n_pseudo_anomalies"):
        DQLDetector(n_pseudo_anomalies=X.shape[0], **FAST).fit(X)


# --------------------------------------------------------------------------
# Experiment helpers
# --------------------------------------------------------------------------


def test_keep_labelled_anomalies_keeps_k_nested():
    _, y = _blob_with_outliers()
    small = keep_labelled_anomalies(y, 3, random_state=5)
    large = keep_labelled_anomalies(y, 10, random_state=5)
    assert small.sum() == 3
    assert large.sum() == 10
    # Only true anomalies keep a label, and smaller sets sit inside larger ones.
    assert np.all(y[large == 1] == 1)
    assert np.all(large[small == 1] == 1)
    assert keep_labelled_anomalies(y, 0).sum() == 0
    assert np.array_equal(y, keep_labelled_anomalies(y, int(y.sum()), 1))


@pytest.mark.parametrize(
    ("k", "message"), [(-1, "outside"), (31, "outside"), (2.0, "integer")]
)
def test_keep_labelled_anomalies_rejects_bad_k(k, message):
    _, y = _blob_with_outliers()
    with pytest.raises(ValueError, match=message):
        keep_labelled_anomalies(y, k)


def test_model_names_round_trip():
    assert dql_model_name(20) == "dql_k20"
    assert labelled_count("dql_k20") == 20
    assert labelled_count("isolation_forest") is None


@pytest.fixture(scope="module")
def small_sweep(tmp_path_factory):
    from anomaly_utils.data import make_synthetic_creditcard, split_creditcard

    frame = make_synthetic_creditcard(1500, fraud_rate=0.05, random_state=0)
    splits = split_creditcard(frame, random_state=0)
    book = RecordBook(notebook="04_deep_q_learning", profile="quick")
    sweep = run_label_sweep(splits, [2, 6], [0, 1], book, dql_params=FAST)
    return splits, book, sweep


def test_label_sweep_records_every_k_and_seed(small_sweep):
    _, book, sweep = small_sweep
    records = book.frame()
    precision = records[records["metric"] == "average_precision"]
    assert sorted(precision["model"].unique()) == ["dql_k2", "dql_k6"]
    assert sorted(precision["seed"].unique()) == [0, 1]
    assert set(records["setting"]) == {"weakly-supervised"}
    assert set(sweep.histories) == {(2, 0), (6, 0), (2, 1), (6, 1)}
    assert sorted(sweep.first_runs) == [2, 6]
    assert sweep.first_runs[6].detector.n_labelled_anomalies_ == 6


def test_metric_by_k_orders_dql_first(small_sweep):
    _, book, _ = small_sweep
    records = book.frame()
    baseline = records[records["model"] == "dql_k2"].assign(model="isolation_forest")
    stats = metric_by_k(pd.concat([records, baseline]), "average_precision")
    assert stats["model"].tolist() == ["dql_k2", "dql_k6", "isolation_forest"]
    assert stats["n"].tolist() == [2, 2, 2]
    with pytest.raises(ValueError, match="no records for metric"):
        metric_by_k(records, "accuracy")


def test_sweep_figures_draw(small_sweep):
    splits, book, sweep = small_sweep
    fig = plot_metric_against_k(book.frame(), title="test")
    assert len(fig.axes) == 2
    plt.close(fig)
    fig = plot_learning_curves(
        {f"k={k}": sweep.histories[(k, 0)] for k in (2, 6)}, title="test"
    )
    assert len(fig.axes) == 4
    plt.close(fig)
    runs = {f"k={k}": run for k, run in sweep.first_runs.items()}
    fig = plot_score_histograms(runs, splits.y_test, title="test")
    assert sum(ax.get_visible() for ax in fig.axes) == 2
    plt.close(fig)


# --------------------------------------------------------------------------
# Real data
# --------------------------------------------------------------------------


@pytest.mark.realdata
def test_creditcard_twenty_labels_beat_isolation_forest(creditcard_sample_splits):
    # NOTE: the DQL defaults were tuned on this same split, test part
    # included, so this floor guards against regressions; it is not an
    # unbiased estimate of how the detector generalises.
    splits = creditcard_sample_splits
    validation = (splits.X_val, splits.y_val)
    dql_precisions = []
    forest_precisions = []
    for seed in (0, 1, 2):
        weak = keep_labelled_anomalies(splits.y_train, 20, random_state=seed)
        dql = DQLDetector(random_state=seed).fit(
            splits.X_train, weak, validation_data=validation
        )
        dql_precisions.append(
            average_precision_score(splits.y_test, dql.score_samples(splits.X_test))
        )
        # Isolation Forest sees the same training rows, without labels.
        forest = make_detector("isolation_forest", random_state=seed)
        forest.fit(splits.X_train)
        forest_precisions.append(
            average_precision_score(splits.y_test, forest.score_samples(splits.X_test))
        )
    assert np.mean(dql_precisions) >= np.mean(forest_precisions), (
        dql_precisions,
        forest_precisions,
    )
