"""Figures: saving, names, and that each plot draws what it claims."""

import hashlib

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from anomaly_utils.plotting import (  # noqa: E402
    plot_confusion,
    plot_confusion_grid,
    plot_decision_grid,
    plot_pr_roc,
    plot_score_histogram,
    plot_training_history,
    save_figure,
)


def _figure():
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, 1])
    return fig


def test_save_figure_stable_name_and_bytes(tmp_path):
    first = save_figure(_figure(), "99_line", output_dir=tmp_path / "a")
    second = save_figure(_figure(), "99_line", output_dir=tmp_path / "b")
    assert first.name == "99_line.png"
    assert first.parent.name == "figures"
    digest = hashlib.sha256(first.read_bytes()).hexdigest()
    assert digest == hashlib.sha256(second.read_bytes()).hexdigest()


def test_save_figure_has_no_software_metadata(tmp_path):
    path = save_figure(_figure(), "99_meta", output_dir=tmp_path)
    assert b"Matplotlib" not in path.read_bytes()


@pytest.mark.parametrize("name", ["line", "1_line", "99-line", "99_Line", "99_"])
def test_save_figure_rejects_bad_name(tmp_path, name):
    with pytest.raises(ValueError, match="NN_slug"):
        save_figure(_figure(), name, output_dir=tmp_path)


def test_save_figure_failure_leaves_nothing(tmp_path):
    fig = _figure()
    fig.axes[0].set_title("$\\unknowncommand$")
    with pytest.raises(ValueError):
        save_figure(fig, "99_broken", output_dir=tmp_path)
    assert list((tmp_path / "figures").iterdir()) == []


class _Radius:
    """Tiny detector stand-in: the score is the distance to the origin."""

    threshold_ = 2.0

    def score_samples(self, X):
        return np.linalg.norm(X, axis=1)


def test_decision_grid_layout_and_scores():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = (np.linalg.norm(X, axis=1) > 2).astype(int)
    datasets = {"a": (X, y), "b": (X, y)}
    detectors = {"m1": {"a": _Radius(), "b": _Radius()}, "m2": {"a": _Radius()}}
    fig = plot_decision_grid(datasets, detectors, {("m1", "a"): 0.75})
    assert len(fig.axes) == 4
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "F1 0.75" in texts
    assert fig.axes[0].get_title() == "m1"
    plt.close(fig)


def test_histogram_marks_threshold_and_classes():
    scores = np.r_[np.full(90, 0.1), np.full(10, 5.0)]
    y = np.r_[np.zeros(90), np.ones(10)].astype(int)
    fig = plot_score_histogram(scores, y, threshold=1.0)
    ax = fig.axes[0]
    assert ax.get_xscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert set(labels) == {"threshold", "normal (n=90)", "anomaly (n=10)"}
    plt.close(fig)


def test_histogram_log_axis_needs_positive_scores():
    with pytest.raises(ValueError, match="positive scores"):
        plot_score_histogram(np.array([-1.0, -2.0]), np.array([0, 1]))


def test_pr_roc_legend_carries_computed_metrics():
    y = np.array([0, 0, 1, 1])
    fig = plot_pr_roc(y, {"perfect": np.array([0.1, 0.2, 0.8, 0.9])})
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert "perfect (AP 1.000)" in legend
    plt.close(fig)


def test_confusion_counts_drawn():
    fig = plot_confusion([0, 0, 1, 1], [0, 1, 1, 1])
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert "1\n(50.0%)" in texts
    assert "2\n(100.0%)" in texts
    plt.close(fig)


def test_confusion_grid_hides_spare_axes():
    predictions = {"a": np.array([0, 1]), "b": np.array([1, 1]), "c": np.array([0, 0])}
    fig = plot_confusion_grid(np.array([0, 1]), predictions, n_cols=2)
    visible = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert len(visible) == 3
    plt.close(fig)


def test_training_history_draws_each_key():
    fig = plot_training_history({"run": {"loss": [3, 2, 1], "val_loss": [4, 3, 2]}})
    assert len(fig.axes[0].lines) == 2
    plt.close(fig)
