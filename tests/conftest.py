"""Shared fixtures: the real-data folder, the credit-card sample splits and
an environment in which no test downloads data or writes to the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA_DIR = REPO_ROOT.parent / "shared" / "data"
CREDITCARD_SAMPLE = Path("creditcard") / "creditcard_sample.csv"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch, tmp_path_factory):
    """Forbid downloads and send figures and records to a temporary folder."""
    monkeypatch.setenv("ANOMALY_UTILS_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv(
        "ANOMALY_UTILS_OUTPUT_DIR", str(tmp_path_factory.mktemp("outputs"))
    )
    monkeypatch.setenv("ANOMALY_UTILS_RAW_DIR", str(tmp_path_factory.mktemp("raw")))


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """Return the real-data folder ``<repo>/../shared/data``, or skip."""
    if not SHARED_DATA_DIR.is_dir():
        pytest.skip(
            f"real data folder {SHARED_DATA_DIR} not found; these tests run "
            "only where the shared data sits beside the repository"
        )
    return SHARED_DATA_DIR


@pytest.fixture(scope="session")
def creditcard_sample_splits(shared_data_dir):
    """Return train/validation/test splits of the real credit-card sample.

    A 60/20/20 stratified split from
    :func:`anomaly_utils.data.split_creditcard` with ``Time`` dropped (it
    separates the classes in this sample) and labels 1 = fraud.
    """
    from anomaly_utils.data import read_creditcard_csv, split_creditcard

    path = shared_data_dir / CREDITCARD_SAMPLE
    if not path.is_file():
        pytest.skip(f"credit-card sample {path} not found")
    frame = read_creditcard_csv(path)
    return split_creditcard(
        frame, time="drop", val_size=0.2, test_size=0.2, random_state=0
    )
