"""The papermill runner: notebook discovery, parameters, failures, refresh."""

import json
import logging

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from anomaly_utils import runner
from anomaly_utils.config import OUTPUT_DIR_ENV


def _write_notebook(path, body, parameters='profile = "quick"\nseed = 0'):
    notebook = new_notebook()
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    params = new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    notebook.cells = [new_markdown_cell("# test"), params, new_code_cell(body)]
    nbformat.write(notebook, path)
    return path


def test_find_notebooks_sorted_and_filtered(tmp_path):
    for name in ["03_c.ipynb", "01_a.ipynb", "notes.ipynb", "02_b.ipynb"]:
        _write_notebook(tmp_path / name, "x = 1")
    found = runner.find_notebooks(tmp_path)
    assert [p.name for p in found] == ["01_a.ipynb", "02_b.ipynb", "03_c.ipynb"]
    chosen = runner.find_notebooks(tmp_path, ["03", "01_a"])
    assert [p.name for p in chosen] == ["01_a.ipynb", "03_c.ipynb"]


def test_find_notebooks_unknown_selection(tmp_path):
    _write_notebook(tmp_path / "01_a.ipynb", "x = 1")
    with pytest.raises(ValueError, match="no notebook matches \\['07'\\]"):
        runner.find_notebooks(tmp_path, ["07"])


def test_parameters_only_those_declared(tmp_path):
    path = _write_notebook(tmp_path / "01_a.ipynb", "x = 1")
    csv = tmp_path / "cc.csv"
    csv.write_text("x")
    parameters = runner.notebook_parameters(path, "full", str(csv), True, None)
    assert parameters == {"profile": "full"}
    path = _write_notebook(
        tmp_path / "02_b.ipynb",
        "x = 1",
        'profile = "quick"\ncreditcard_path = ""\nallow_download = False',
    )
    parameters = runner.notebook_parameters(path, "full", str(csv), False, None)
    assert parameters == {
        "profile": "full",
        "creditcard_path": str(csv.resolve()),
        "allow_download": False,
    }


def test_run_keeps_going_past_failure(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _write_notebook(notebooks / "01_fails.ipynb", "raise RuntimeError('boom')")
    _write_notebook(
        notebooks / "02_writes.ipynb",
        "import os, pathlib\n"
        f"root = pathlib.Path(os.environ['{OUTPUT_DIR_ENV}'])\n"
        "(root / 'marker.txt').write_text(profile)",
    )
    runs = runner.run_notebooks(
        runner.find_notebooks(notebooks),
        tmp_path / "executed",
        profile="quick",
        output_dir=str(tmp_path / "out"),
        progress=False,
    )
    assert [run.ok for run in runs] == [False, True]
    assert "boom" in runs[0].error
    assert runs[0].executed.is_file()
    assert (tmp_path / "out" / "marker.txt").read_text() == "quick"


def test_run_rejects_missing_creditcard_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="credit-card file not found"):
        runner.run_notebooks(
            [], tmp_path, creditcard_path=str(tmp_path / "absent.csv"), progress=False
        )


def test_run_rejects_unknown_profile(tmp_path):
    with pytest.raises(ValueError, match="profile must be one of"):
        runner.run_notebooks([], tmp_path, profile="medium", progress=False)


def test_benchmark_notebook_skipped_without_folder(tmp_path, caplog):
    path = _write_notebook(
        tmp_path / "06_bench.ipynb", "x = 1", 'profile = "quick"\nbenchmark_dir = ""'
    )
    with caplog.at_level(logging.WARNING):
        runs = runner.run_notebooks([path], tmp_path / "executed", progress=False)
    assert runs == []
    assert "BENCHMARK_DIR" in caplog.text


def test_main_exit_code_names_failure(tmp_path, monkeypatch, caplog):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    _write_notebook(notebooks / "01_fails.ipynb", "1 / 0")
    monkeypatch.setattr(runner, "project_root", lambda: tmp_path)
    with caplog.at_level(logging.INFO):
        status = runner.main(
            [
                "run",
                "--profile",
                "quick",
                "--no-progress",
                "--output-dir",
                str(tmp_path / "out"),
            ]
        )
    assert status == 1
    assert "01_fails.ipynb failed" in caplog.text
    assert (tmp_path / "build" / "executed" / "quick" / "01_fails.ipynb").is_file()


def test_main_unknown_notebook_exit_code(tmp_path, monkeypatch):
    (tmp_path / "notebooks").mkdir()
    _write_notebook(tmp_path / "notebooks" / "01_a.ipynb", "x = 1")
    monkeypatch.setattr(runner, "project_root", lambda: tmp_path)
    assert runner.main(["run", "09"]) == 2


def test_refresh_keeps_only_checked_outputs(tmp_path, monkeypatch):
    monkeypatch.delenv(OUTPUT_DIR_ENV, raising=False)
    path = _write_notebook(tmp_path / "01_a.ipynb", "print('not kept')")
    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(2 + 2)"))
    nbformat.write(notebook, path)
    runner.refresh_notebook(path)
    stored = json.loads(path.read_text())
    outputs = [
        cell.get("outputs") for cell in stored["cells"] if cell["cell_type"] == "code"
    ]
    assert outputs[0] == []
    assert outputs[1] == []
    assert "".join(outputs[2][0]["text"]) == "4\n"
    assert "papermill" not in stored["metadata"]
    assert stored["cells"][-1]["execution_count"] == 3


def test_parameters_with_equals_in_comment(tmp_path):
    path = _write_notebook(
        tmp_path / "03_c.ipynb",
        "x = 1",
        'profile = "quick"\ncreditcard_path = ""  # "" = data/raw, then download',
    )
    assert runner.declared_parameters(path) == {"profile", "creditcard_path"}
    parameters = runner.notebook_parameters(path, "full", None, True, None)
    assert parameters == {"profile": "full"}
