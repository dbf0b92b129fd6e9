"""Final comparison: record checks, deduplication, summary and figures."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from anomaly_utils.comparison import (  # noqa: E402
    REQUIRED_NOTEBOOKS,
    MissingResultsError,
    deduplicate,
    load_suite_records,
    metric_matrix,
    ordered_datasets,
    plot_creditcard_metrics,
    plot_metric_heatmap,
    plot_quality_vs_time,
    summary_markdown,
    write_summary,
)
from anomaly_utils.evaluation import RecordBook  # noqa: E402

MODELS = {
    "01_synthetic_autoencoder": [("moons", "autoencoder"), ("moons", "lof")],
    "02_imbalanced_mlp": [("imbalanced_1pct", "mlp"), ("creditcard", "mlp")],
    "03_creditcard_autoencoder": [
        ("creditcard", "autoencoder"),
        ("creditcard", "isolation_forest"),
    ],
    "04_deep_q_learning": [
        ("creditcard", "dql"),
        ("creditcard", "isolation_forest"),
        ("moons", "dql"),
    ],
}
SETTING = {"mlp": "supervised", "dql": "weakly-supervised"}


def _write_suite(folder, profile="quick", skip=(), source="synthetic"):
    for notebook, pairs in MODELS.items():
        if notebook in skip:
            continue
        book = RecordBook(notebook=notebook, profile=profile)
        for index, (dataset, model) in enumerate(pairs):
            offset = 0.1 if notebook == "04_deep_q_learning" else 0.0
            for seed in (0, 1):
                book.add(
                    dataset=dataset,
                    model=model,
                    seed=seed,
                    metrics={
                        "macro_f1": 0.5 + 0.05 * index + 0.01 * seed,
                        "average_precision": 0.4 + 0.1 * index + offset,
                        "roc_auc": 0.8 + 0.02 * index,
                    },
                    data_source=source if dataset == "creditcard" else "synthetic",
                    setting=SETTING.get(model, "unsupervised"),
                    fit_seconds=1.0 + index,
                )
        book.write(output_dir=folder)


def test_load_suite_records_reads_all(tmp_path):
    _write_suite(tmp_path)
    records = load_suite_records("quick", output_dir=tmp_path)
    assert set(records["notebook"]) == set(REQUIRED_NOTEBOOKS)


@pytest.mark.parametrize("missing", sorted(REQUIRED_NOTEBOOKS))
def test_missing_notebook_records_named(tmp_path, missing):
    _write_suite(tmp_path, skip=(missing,))
    with pytest.raises(MissingResultsError) as error:
        load_suite_records("quick", output_dir=tmp_path)
    message = str(error.value)
    assert f"results/{missing}.csv not found" in message
    assert f"python -m anomaly_utils run {missing[:2]} --profile quick" in message


def test_records_of_other_profile_are_stale(tmp_path):
    _write_suite(tmp_path, profile="quick")
    with pytest.raises(MissingResultsError, match="stale.*profile \\['quick'\\]"):
        load_suite_records("full", output_dir=tmp_path)


def test_mixed_creditcard_sources_rejected(tmp_path):
    _write_suite(tmp_path, source="real")
    book = RecordBook(notebook="04_deep_q_learning", profile="quick")
    book.add(
        dataset="creditcard",
        model="dql",
        seed=0,
        metrics={"average_precision": 0.5},
        data_source="synthetic",
    )
    book.write(output_dir=tmp_path)
    with pytest.raises(MissingResultsError, match="mix real and synthetic"):
        load_suite_records("quick", output_dir=tmp_path)


def test_empty_record_file_named(tmp_path):
    _write_suite(tmp_path)
    path = tmp_path / "results" / "02_imbalanced_mlp.csv"
    header = path.read_text().splitlines()[0]
    path.write_text(header + "\n")
    with pytest.raises(MissingResultsError, match="02_imbalanced_mlp.csv has no"):
        load_suite_records("quick", output_dir=tmp_path)


def test_deduplicate_keeps_lowest_notebook(tmp_path):
    _write_suite(tmp_path)
    records = deduplicate(load_suite_records("quick", output_dir=tmp_path))
    forest = records[
        (records["model"] == "isolation_forest") & (records["dataset"] == "creditcard")
    ]
    assert set(forest["notebook"]) == {"03_creditcard_autoencoder"}
    dql = records[records["model"] == "dql"]
    assert set(dql["notebook"]) == {"04_deep_q_learning"}


def test_datasets_ordered_by_kind():
    names = ["creditcard", "imbalanced_1pct", "moons", "one_blob"]
    assert ordered_datasets(names) == [
        "one_blob",
        "moons",
        "imbalanced_1pct",
        "creditcard",
    ]


def test_metric_matrix_mean_and_sd(tmp_path):
    _write_suite(tmp_path)
    records = deduplicate(load_suite_records("quick", output_dir=tmp_path))
    mean, sd = metric_matrix(records, "macro_f1")
    assert mean.loc["autoencoder", "moons"] == pytest.approx(0.505)
    assert sd.loc["autoencoder", "moons"] == pytest.approx(0.00707, abs=1e-4)
    assert list(mean.columns) == ["moons", "imbalanced_1pct", "creditcard"]


def test_summary_names_best_model(tmp_path):
    _write_suite(tmp_path)
    records = deduplicate(load_suite_records("quick", output_dir=tmp_path))
    text = summary_markdown(records)
    credit = text.split("## creditcard")[1]
    assert "Best by average precision: **Deep Q-Learning** (0.500 ± 0.000)" in credit
    assert "| Isolation Forest | unsupervised | 0.555 ± 0.007 (2)" in credit


def test_summary_written_identically(tmp_path):
    _write_suite(tmp_path)
    records = deduplicate(load_suite_records("quick", output_dir=tmp_path))
    first = write_summary(summary_markdown(records), tmp_path / "a").read_bytes()
    second = write_summary(summary_markdown(records), tmp_path / "b").read_bytes()
    assert first == second


def test_figures_draw_every_model(tmp_path):
    _write_suite(tmp_path)
    records = deduplicate(load_suite_records("quick", output_dir=tmp_path))
    heatmap = plot_metric_heatmap(records)
    labels = {t.get_text() for t in heatmap.axes[0].get_yticklabels()}
    assert "Deep Q-Learning" in labels
    bars = plot_creditcard_metrics(records)
    assert len(bars.axes[0].patches) == 4
    scatter = plot_quality_vs_time(records)
    assert scatter.axes[0].get_xscale() == "log"
    for fig in (heatmap, bars, scatter):
        plt.close(fig)


def test_creditcard_plot_without_records():
    empty = pd.DataFrame(columns=["dataset", "model", "setting", "metric", "value"])
    with pytest.raises(ValueError, match="no credit-card records"):
        plot_creditcard_metrics(empty)


def test_display_name_of_variants():
    from anomaly_utils.models import display_name

    assert display_name("mlp_class_weight") == "MLP (supervised): class weight"
    assert display_name("isolation_forest") == "Isolation Forest"
    assert display_name("unknown_model") == "unknown_model"


def test_two_runs_write_identical_records(tmp_path):
    """Wall-clock seconds differ between runs; every other column must not."""
    from anomaly_utils.data import make_toy_datasets
    from anomaly_utils.experiments import run_toy_comparison

    params = {
        "autoencoder": {"hidden_units": (8, 1), "epochs": 3, "batch_size": 32},
        "isolation_forest": {},
        "lof": {},
    }
    written = []
    for run in ("first", "second"):
        train = make_toy_datasets(120, random_state=0)
        test = make_toy_datasets(120, random_state=1)
        book = RecordBook(notebook="01_synthetic_autoencoder", profile="quick")
        run_toy_comparison(train, test, params, [0], book)
        frame = book.frame().assign(fit_seconds=0.0, score_seconds=0.0)
        from anomaly_utils.evaluation import write_records

        path = write_records(frame, "01_synthetic_autoencoder", tmp_path / run)
        written.append(path.read_bytes())
    assert written[0] == written[1]


def test_benchmark_records_left_out(tmp_path):
    _write_suite(tmp_path)
    book = RecordBook(notebook="06_real_benchmark", profile="quick")
    book.add(dataset="cardio", model="lof", seed=0, metrics={"roc_auc": 0.9})
    book.write(output_dir=tmp_path)
    records = load_suite_records("quick", output_dir=tmp_path)
    assert "cardio" not in set(records["dataset"])
