"""Run the numbered notebooks headless with papermill.

``python -m anomaly_utils run`` executes every ``notebooks/NN_*.ipynb`` in
order, passes the profile and data parameters each notebook declares, keeps
going past a failing notebook and exits non-zero at the end, naming the
failures and where their executed copies are. ``python -m anomaly_utils
refresh NN`` re-executes one notebook with its stored quick defaults and
writes it back with outputs kept only in the cells nbval compares.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .config import OFFLINE_ENV, OUTPUT_DIR_ENV, PROFILES, RAW_DIR_ENV, project_root

logger = logging.getLogger(__name__)

NOTEBOOK_NAME = re.compile(r"^(\d{2})_[a-z0-9_]+\.ipynb$")
#: First line of a cell whose stored output nbval compares.
CHECK_MARK = "# NBVAL_CHECK_OUTPUT"
#: Kernel used to execute notebooks: the Python that runs this command.
KERNEL_NAME = "python3"
#: Notebooks that need a benchmark folder and are skipped without one.
NEEDS_BENCHMARK_DIR = "benchmark_dir"


@dataclass
class NotebookRun:
    """Outcome of executing one notebook."""

    notebook: Path
    executed: Path
    seconds: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the notebook ran to the end."""
        return self.error is None


def configure_notebook_logging(level: int = logging.INFO) -> None:
    """Show the package's log lines (data source, fits, files written) in a notebook.

    Only the ``anomaly_utils`` logger gets a handler, so library chatter from
    TensorFlow or matplotlib stays out of the output.
    """
    package_logger = logging.getLogger("anomaly_utils")
    package_logger.setLevel(level)
    if not any(getattr(h, "_anomaly_utils", False) for h in package_logger.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handler._anomaly_utils = True
        package_logger.addHandler(handler)
    package_logger.propagate = False


def find_notebooks(notebook_dir: Path, only: Sequence[str] | None = None) -> list[Path]:
    """Return the numbered notebooks in ``notebook_dir``, sorted by number.

    Parameters
    ----------
    notebook_dir : pathlib.Path
        Folder with ``NN_slug.ipynb`` files.
    only : sequence of str, default=None
        Two-digit numbers (``"01"``) or stems to keep; None keeps all.
    """
    notebooks = sorted(
        path for path in notebook_dir.glob("*.ipynb") if NOTEBOOK_NAME.match(path.name)
    )
    if only:
        wanted = set(only)
        chosen = [
            path
            for path in notebooks
            if path.stem in wanted or path.name[:2] in wanted or path.name in wanted
        ]
        found = {path.name[:2] for path in chosen} | {path.stem for path in chosen}
        found |= {path.name for path in chosen}
        missing = sorted(wanted - found)
        if missing:
            names = ", ".join(path.name for path in notebooks)
            raise ValueError(f"no notebook matches {missing}; available: {names}")
        notebooks = chosen
    return notebooks


def declared_parameters(notebook: Path) -> set[str]:
    """Return the names assigned in the notebook's cell tagged ``parameters``.

    The cell is parsed with :mod:`ast` rather than papermill's inspector,
    which skips a parameter whose comment contains an ``=`` sign.
    """
    import ast

    import nbformat

    document = nbformat.read(notebook, as_version=4)
    for cell in document.cells:
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            tree = ast.parse(cell.source)
            return {
                target.id
                for node in tree.body
                if isinstance(node, (ast.Assign, ast.AnnAssign))
                for target in (
                    node.targets if isinstance(node, ast.Assign) else [node.target]
                )
                if isinstance(target, ast.Name)
            }
    return set()


def notebook_parameters(
    notebook: Path,
    profile: str,
    creditcard_path: str | None,
    allow_download: bool,
    benchmark_dir: str | None,
) -> dict:
    """Return the papermill parameters that ``notebook`` declares."""
    declared = declared_parameters(notebook)
    candidates = {"profile": profile, "allow_download": allow_download}
    if creditcard_path:
        candidates["creditcard_path"] = str(Path(creditcard_path).resolve())
    if benchmark_dir:
        candidates[NEEDS_BENCHMARK_DIR] = str(Path(benchmark_dir).resolve())
    return {key: value for key, value in candidates.items() if key in declared}


def run_notebooks(
    notebooks: Sequence[Path],
    executed_dir: Path,
    *,
    profile: str = "full",
    creditcard_path: str | None = None,
    allow_download: bool = True,
    benchmark_dir: str | None = None,
    output_dir: str | None = None,
    progress: bool = True,
) -> list[NotebookRun]:
    """Execute notebooks in order with papermill; keep going past failures.

    Parameters
    ----------
    notebooks : sequence of pathlib.Path
        Notebooks to run, in order.
    executed_dir : pathlib.Path
        Folder for the executed copies (kept for failed notebooks too).
    profile : {"quick", "full"}, default="full"
        Passed to every notebook.
    creditcard_path : str, default=None
        Credit-card CSV passed to notebooks that take ``creditcard_path``.
    allow_download : bool, default=True
        Whether notebooks may download the credit-card data when no file
        is found.
    benchmark_dir : str, default=None
        Folder of benchmark ``.npz``/``.mat`` files. Notebooks that take a
        ``benchmark_dir`` parameter are skipped when it is not given.
    output_dir : str, default=None
        Output root for figures and results (default: the repository).
    progress : bool, default=True
        Show a progress bar over notebooks and cells.
    """
    import papermill
    from tqdm import tqdm

    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    if creditcard_path and not Path(creditcard_path).is_file():
        raise FileNotFoundError(
            f"credit-card file not found: {creditcard_path}; pass the path of "
            "creditcard.csv (CREDITCARD=path/to/creditcard.csv)"
        )
    executed_dir.mkdir(parents=True, exist_ok=True)
    runs = []
    environment = {}
    if output_dir:
        Path(output_dir).mkdir(parents=True, exist_ok=True)
        environment[OUTPUT_DIR_ENV] = str(Path(output_dir).resolve())
    bar = tqdm(notebooks, desc="notebooks", unit="nb", disable=not progress)
    for notebook in bar:
        bar.set_postfix_str(notebook.name)
        executed = executed_dir / notebook.name
        parameters = notebook_parameters(
            notebook, profile, creditcard_path, allow_download, benchmark_dir
        )
        if NEEDS_BENCHMARK_DIR in declared_parameters(notebook) and not benchmark_dir:
            logger.warning(
                "Skipping %s: it needs a benchmark folder of ADBench .npz or ODDS "
                ".mat files; run `make figures BENCHMARK_DIR=path/to/folder` "
                "to include it",
                notebook.name,
            )
            continue
        logger.info("Running %s with %s", notebook.name, parameters)
        start = time.perf_counter()
        error = None
        try:
            with _environment(environment):
                papermill.execute_notebook(
                    str(notebook),
                    str(executed),
                    parameters=parameters,
                    kernel_name=KERNEL_NAME,
                    cwd=str(notebook.parent),
                    progress_bar=progress,
                    log_output=False,
                )
        except Exception as exc:  # noqa: BLE001 - report and continue
            error = f"{type(exc).__name__}: {_first_line(exc)}"
            logger.error("%s failed: %s", notebook.name, error)
        seconds = time.perf_counter() - start
        runs.append(NotebookRun(notebook, executed, seconds, error))
        logger.info("%s finished in %.0f s", notebook.name, seconds)
    return runs


def refresh_notebook(
    notebook: Path, keep_all_outputs: bool = False, scratch: str | None = None
) -> Path:
    """Execute ``notebook`` with its stored defaults and store selected outputs.

    The run writes figures and records to a temporary output root, so the
    repository's ``figures/`` and ``results/`` stay untouched. Outputs are
    kept only in cells starting with ``# NBVAL_CHECK_OUTPUT`` (unless
    ``keep_all_outputs``), so the stored notebook stays small and its diff
    readable.

    Parameters
    ----------
    notebook : pathlib.Path
        Notebook to execute and rewrite.
    keep_all_outputs : bool, default=False
        Keep every cell's output.
    scratch : str, default=None
        Output root shared with notebooks refreshed before this one, so that
        notebook 05 finds the records of 01-04 as it does under ``make
        test``. None uses a fresh temporary folder.
    """
    import nbformat
    import papermill

    with contextlib.ExitStack() as stack:
        if scratch is None:
            scratch = stack.enter_context(tempfile.TemporaryDirectory())
        executed = Path(scratch) / "executed" / notebook.name
        executed.parent.mkdir(parents=True, exist_ok=True)
        # The same environment as `make test`: no downloads and an empty
        # data/raw, so the stored outputs are the ones nbval will see.
        raw = Path(scratch) / "raw"
        raw.mkdir(exist_ok=True)
        isolated = {OUTPUT_DIR_ENV: scratch, RAW_DIR_ENV: str(raw), OFFLINE_ENV: "1"}
        with _environment(isolated):
            papermill.execute_notebook(
                str(notebook),
                str(executed),
                kernel_name=KERNEL_NAME,
                cwd=str(notebook.parent),
                progress_bar=False,
            )
        result = nbformat.read(executed, as_version=4)
    original = nbformat.read(notebook, as_version=4)
    executed_sources = [cell.source for cell in result.cells if not _is_injected(cell)]
    if executed_sources != [cell.source for cell in original.cells]:
        raise RuntimeError(f"{notebook.name} changed while it ran; refresh it again")
    executed_cells = [cell for cell in result.cells if not _is_injected(cell)]
    for cell, ran in zip(original.cells, executed_cells):
        if cell.cell_type != "code":
            continue
        keep = keep_all_outputs or cell.source.lstrip().startswith(CHECK_MARK)
        # nbval rejects stored outputs without an execution count, and the
        # count of a top-to-bottom run is the same every time.
        cell.execution_count = ran.execution_count if keep else None
        cell.outputs = (
            _stable_outputs(ran.outputs, cell.execution_count) if keep else []
        )
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    original.metadata.pop("papermill", None)
    nbformat.write(original, notebook)
    logger.info("Refreshed %s", notebook)
    return notebook


def _stable_outputs(outputs, execution_count):
    # Stderr chatter (TensorFlow start-up lines) varies from run to run.
    kept = []
    for output in outputs:
        if output.get("output_type") == "stream" and output.get("name") == "stderr":
            continue
        if "execution_count" in output:
            output["execution_count"] = execution_count
        kept.append(output)
    return kept


def _is_injected(cell) -> bool:
    return "injected-parameters" in cell.get("metadata", {}).get("tags", [])


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[-1] if text else ""


@contextlib.contextmanager
def _environment(values: dict):
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise argparse.ArgumentTypeError(f"expected 1/0 or true/false, got {text!r}")


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser of ``python -m anomaly_utils``."""
    parser = argparse.ArgumentParser(
        prog="python -m anomaly_utils",
        description="Run the anomaly detection notebooks headless.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="execute the numbered notebooks in order")
    run.add_argument(
        "notebooks",
        nargs="*",
        help="two-digit numbers or names to run (default: all, in order)",
    )
    run.add_argument("--profile", choices=PROFILES, default="full")
    run.add_argument(
        "--creditcard", default="", help="path of the credit-card CSV (Kaggle format)"
    )
    run.add_argument(
        "--allow-download",
        type=_parse_bool,
        default=True,
        help="1 lets notebooks download OpenML 1597 when no file is found (default 1)",
    )
    run.add_argument(
        "--benchmark-dir",
        default="",
        help="folder of ADBench .npz / ODDS .mat files for notebook 06",
    )
    run.add_argument(
        "--output-dir",
        default="",
        help="output root for figures/ and results/ (default: the repository)",
    )
    run.add_argument(
        "--executed-dir",
        default="",
        help="folder for executed notebooks (default: build/executed/<profile>)",
    )
    run.add_argument("--no-progress", action="store_true", help="hide progress bars")

    refresh = commands.add_parser(
        "refresh",
        help="re-execute notebooks with stored defaults, keep checked outputs",
    )
    refresh.add_argument("notebooks", nargs="*", help="numbers or names (default: all)")
    refresh.add_argument(
        "--all-outputs", action="store_true", help="keep every cell's output"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(levelname)s %(name)s: %(message)s"
    )
    root = project_root()
    try:
        notebooks = find_notebooks(root / "notebooks", args.notebooks or None)
    except ValueError as error:
        logger.error("%s", error)
        return 2
    if not notebooks:
        logger.error("no numbered notebooks found in %s", root / "notebooks")
        return 2

    if args.command == "refresh":
        with tempfile.TemporaryDirectory() as scratch:
            for notebook in notebooks:
                refresh_notebook(
                    notebook, keep_all_outputs=args.all_outputs, scratch=scratch
                )
        return 0

    executed_dir = (
        Path(args.executed_dir)
        if args.executed_dir
        else root / "build" / "executed" / args.profile
    )
    try:
        runs = run_notebooks(
            notebooks,
            executed_dir,
            profile=args.profile,
            creditcard_path=args.creditcard or None,
            allow_download=args.allow_download,
            benchmark_dir=args.benchmark_dir or None,
            output_dir=args.output_dir or None,
            progress=not args.no_progress,
        )
    except (ValueError, FileNotFoundError) as error:
        logger.error("%s", error)
        return 2
    for run in runs:
        status = "ok" if run.ok else f"FAILED ({run.error})"
        logger.info("%-40s %6.0f s  %s", run.notebook.name, run.seconds, status)
    failed = [run for run in runs if not run.ok]
    if failed:
        for run in failed:
            logger.error(
                "%s failed; its executed copy with the traceback is %s",
                run.notebook.name,
                run.executed,
            )
        return 1
    logger.info("All %d notebooks ran; executed copies in %s", len(runs), executed_dir)
    return 0
