"""Thresholds, metrics and result records."""

import numpy as np
import pandas as pd
import pytest

from anomaly_utils.evaluation import (
    RECORD_COLUMNS,
    RecordBook,
    check_binary_labels,
    classification_metrics,
    evaluate_scores,
    mean_sd_table,
    ranking_metrics,
    read_records,
    report_text,
    threshold_for_recall,
    threshold_from_contamination,
    threshold_max_f1,
    write_records,
)


def test_contamination_threshold_flags_expected_share():
    scores = np.arange(1000, dtype=float)
    threshold = threshold_from_contamination(scores, 0.1)
    assert np.mean(scores >= threshold) == pytest.approx(0.1, abs=0.002)


@pytest.mark.parametrize("contamination", [0.0, -0.1, 0.6, 1.0])
def test_contamination_out_of_range_rejected(contamination):
    with pytest.raises(ValueError, match="contamination must be in"):
        threshold_from_contamination(np.arange(10.0), contamination)


def test_max_f1_threshold_separates_clean_classes():
    y = np.array([0, 0, 0, 0, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.8, 0.9])
    threshold = threshold_max_f1(y, scores)
    assert threshold == pytest.approx(0.8)
    assert classification_metrics(y, scores >= threshold)["f1"] == 1.0


def test_max_f1_needs_both_classes():
    with pytest.raises(ValueError, match="only one class"):
        threshold_max_f1(np.zeros(5), np.arange(5.0))


def test_recall_threshold_reaches_target():
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(200), np.ones(20)].astype(int)
    scores = np.r_[rng.normal(0, 1, 200), rng.normal(2, 1, 20)]
    threshold = threshold_for_recall(y, scores, 0.75)
    recall = np.mean(scores[y == 1] >= threshold)
    assert recall >= 0.75
    assert recall < 0.75 + 1 / 20 + 1e-9


def test_recall_target_out_of_range_rejected():
    with pytest.raises(ValueError, match="target_recall"):
        threshold_for_recall([0, 1], [0.0, 1.0], 1.5)


def test_ranking_metrics_perfect_and_random():
    y = np.array([0, 0, 1, 1])
    perfect = ranking_metrics(y, [0.1, 0.2, 0.8, 0.9])
    assert perfect["roc_auc"] == 1.0
    assert perfect["average_precision"] == 1.0
    reversed_scores = ranking_metrics(y, [0.9, 0.8, 0.2, 0.1])
    assert reversed_scores["roc_auc"] == 0.0


def test_scores_with_nan_rejected():
    with pytest.raises(ValueError, match="NaN or infinite"):
        ranking_metrics([0, 1], [0.0, np.nan])


def test_scores_shape_mismatch_rejected():
    with pytest.raises(ValueError, match="one score per sample"):
        ranking_metrics([0, 1, 1], [0.0, 1.0])


@pytest.mark.parametrize(
    "labels, message",
    [
        (["a", "b"], "numeric 0/1 labels"),
        ([0, 2], "only 0 \\(normal\\) and 1"),
        ([[0, 1]], "must be 1-D"),
    ],
)
def test_bad_labels_rejected(labels, message):
    with pytest.raises(ValueError, match=message):
        check_binary_labels(labels)


def test_boolean_labels_accepted():
    assert check_binary_labels(np.array([True, False])).tolist() == [1, 0]


def test_evaluate_scores_uses_threshold():
    y = np.array([0, 0, 1, 1])
    metrics = evaluate_scores(y, np.array([0.1, 0.6, 0.7, 0.9]), threshold=0.65)
    assert metrics["precision"] == 1.0
    assert metrics["recall"] == 1.0
    assert metrics["macro_f1"] == 1.0


def test_report_names_both_classes():
    text = report_text([0, 1, 0, 1], [0, 1, 1, 1])
    assert "normal" in text
    assert "anomaly" in text


def _book():
    book = RecordBook(notebook="99_test_records", profile="quick")
    for seed, value in [(0, 0.5), (1, 0.7)]:
        book.add(
            dataset="moons",
            model="lof",
            seed=seed,
            metrics={"macro_f1": value, "roc_auc": 0.9, "score_seconds": 0.01},
            fit_seconds=0.5,
        )
    return book


def test_record_book_schema():
    frame = _book().frame()
    assert list(frame.columns) == list(RECORD_COLUMNS)
    assert len(frame) == 4
    assert set(frame["metric"]) == {"macro_f1", "roc_auc"}
    assert frame["score_seconds"].tolist() == [0.01] * 4


def test_record_book_rejects_unknown_setting():
    with pytest.raises(ValueError, match="setting must be one of"):
        _book().add(dataset="d", model="m", seed=0, metrics={}, setting="magic")


def test_write_records_round_trip(tmp_path):
    path = _book().write(output_dir=tmp_path)
    assert path == tmp_path / "results" / "99_test_records.csv"
    frame = read_records([path])
    pd.testing.assert_frame_equal(frame, _book().frame(), check_dtype=False)


def test_write_records_is_byte_identical(tmp_path):
    first = _book().write(output_dir=tmp_path / "a").read_bytes()
    second = _book().write(output_dir=tmp_path / "b").read_bytes()
    assert first == second


def test_write_records_leaves_no_partial_file(tmp_path, monkeypatch):
    book = _book()
    target = book.write(output_dir=tmp_path)
    before = target.read_bytes()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", fail)
    with pytest.raises(OSError, match="disk full"):
        book.write(output_dir=tmp_path)
    assert target.read_bytes() == before
    assert [p.name for p in target.parent.iterdir()] == [target.name]


def test_write_records_rejects_missing_columns(tmp_path):
    with pytest.raises(ValueError, match="missing columns"):
        write_records(pd.DataFrame({"value": [1.0]}), "99_bad", output_dir=tmp_path)


def test_write_records_rejects_empty(tmp_path):
    empty = pd.DataFrame(columns=list(RECORD_COLUMNS))
    with pytest.raises(ValueError, match="no records"):
        write_records(empty, "99_empty", output_dir=tmp_path)


def test_read_records_rejects_foreign_csv(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="not a result record file"):
        read_records([path])


def test_mean_sd_table_formats_mean_and_sd():
    table = mean_sd_table(_book().frame(), "macro_f1")
    assert table.loc["lof", "moons"] == "0.600 ± 0.141"


def test_mean_sd_table_unknown_metric():
    with pytest.raises(ValueError, match="no records for metric"):
        mean_sd_table(_book().frame(), "accuracy")
