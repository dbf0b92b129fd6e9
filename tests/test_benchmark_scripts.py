"""The helpers of the benchmark scripts, without running any benchmark."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SAMPLE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "creditcard"
    / "creditcard_sample.csv"
)


@pytest.fixture(scope="module")
def scripts():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import bench_scaling
        import bench_suite
        import common

        yield {"common": common, "scaling": bench_scaling, "suite": bench_suite}
    finally:
        sys.path.remove(str(BENCHMARKS))


def test_tree_memory_counts_a_child_process(scripts):
    common = scripts["common"]
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; block = b'x' * (200 * 2**20); print('ready', flush=True);"
            " time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline().strip() == "ready"
        child_memory = common.tree_memory_mb(child.pid)
        assert 190 < child_memory < 400
        assert common.tree_memory_mb(os.getpid()) >= child_memory
    finally:
        child.kill()
        child.wait()


def test_memory_sampler_sees_a_large_allocation(scripts):
    common = scripts["common"]
    with common.MemorySampler(interval=0.01) as sampler:
        before = common.current_rss_mb()
        block = np.ones(200 * 2**20 // 8)  # 200 MiB
        block.sum()
        del block
    assert sampler.peak_mb >= before + 150


def test_fitted_slopes_recover_linear_and_quadratic_growth(scripts):
    rows = np.array([10_000, 30_000, 100_000, 284_807])
    frame = pd.DataFrame(
        {
            "detector": ["linear"] * 4 + ["quadratic"] * 4,
            "rows": np.concatenate([rows, rows]),
            "fit_seconds": np.concatenate([rows * 1e-4, (rows / 1e4) ** 2]),
            "score_seconds": np.concatenate([rows * 1e-5, rows * 1e-5]),
        }
    )
    slopes = scripts["scaling"].fitted_slopes(frame)
    assert slopes.loc["linear", "fit_seconds"] == pytest.approx(1.0)
    assert slopes.loc["quadratic", "fit_seconds"] == pytest.approx(2.0)
    assert slopes.loc["quadratic", "score_seconds"] == pytest.approx(1.0)


@pytest.mark.skipif(not SAMPLE.exists(), reason=f"{SAMPLE} not found")
def test_scaling_rejects_more_rows_than_the_file_has(scripts):
    with pytest.raises(ValueError, match="5332"):
        scripts["scaling"].load_split(str(SAMPLE), 10_000, seed=0)


@pytest.mark.skipif(not SAMPLE.exists(), reason=f"{SAMPLE} not found")
def test_scaling_split_is_80_10_10(scripts):
    splits = scripts["scaling"].load_split(str(SAMPLE), 5_000, seed=0)
    sizes = [splits.y_train.size, splits.y_val.size, splits.y_test.size]
    assert sum(sizes) == 5_000
    assert sizes == pytest.approx([4_000, 500, 500], abs=2)


def test_notebook_durations_read_papermill_metadata(scripts, tmp_path):
    for name, duration in (("01_a", 12.5), ("02_b", None)):
        notebook = {"metadata": {"papermill": {"duration": duration}}, "cells": []}
        (tmp_path / f"{name}.ipynb").write_text(json.dumps(notebook))
    assert scripts["suite"].notebook_durations(tmp_path) == {"01_a": 12.5}
