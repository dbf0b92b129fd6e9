"""Wall time and peak memory of the whole notebook suite, as `make figures` runs it.

The script runs ``python -m anomaly_utils run --profile PROFILE`` (the command
behind ``make figures``) with every output sent to a temporary folder, so the
committed figures and records stay as they are, and the benchmark grid of
notebook 06 starts without reusable cells. With ``--in-place`` the outputs go
to the repository as with ``make figures``, after the reusable cells of
notebook 06 are removed. A background thread sums the
memory of the runner and all its descendants (the Jupyter kernel and, in
notebook 06, the worker processes) every 0.2 s, each process with its
proportional set size, so shared libraries count once. Each notebook's
own wall time comes from papermill's record in the executed notebook.

Run from the repository root, pinned to two cores::

    taskset -c 0,1 .venv/bin/python benchmarks/bench_suite.py --profile quick \\
        --creditcard ../shared/data/creditcard/creditcard_sample.csv \\
        --benchmark-dir ../shared/data/adbench

Without ``--creditcard`` the notebooks use ``data/raw/creditcard.csv`` when it
exists and otherwise the full-size synthetic stand-in (no download). Each run
writes ``benchmarks/results/suite_<profile>_<data>.csv``; the page
``benchmarks/suite.md`` and the figure ``benchmarks/figures/suite.png`` are
redrawn from every such file.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import MemorySampler, machine_facts, markdown_table

logger = logging.getLogger("bench_suite")

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
#: Targets on two CPU cores: wall seconds and peak MiB per profile.
TARGETS = {"quick": (180.0, None), "full": (900.0, 3 * 1024.0)}


def notebook_durations(executed_dir: Path) -> dict[str, float]:
    """Return papermill's wall seconds of every executed notebook."""
    durations = {}
    for path in sorted(executed_dir.glob("*.ipynb")):
        metadata = json.loads(path.read_text())["metadata"].get("papermill", {})
        if metadata.get("duration") is not None:
            durations[path.stem] = float(metadata["duration"])
    return durations


def run_suite(args) -> dict:
    """Run the suite once and return its measurements."""
    command = [
        sys.executable,
        "-m",
        "anomaly_utils",
        "run",
        "--profile",
        args.profile,
        "--creditcard",
        args.creditcard,
        "--allow-download",
        "0",
        "--benchmark-dir",
        args.benchmark_dir,
        "--no-progress",
    ]
    with tempfile.TemporaryDirectory(prefix="suite_bench_") as scratch:
        scratch = Path(scratch)
        if args.in_place:
            # As `make figures`: outputs replace the repository's figures and
            # records. Reusable benchmark cells are removed first, so that
            # notebook 06 computes every cell.
            shutil.rmtree(ROOT / "results" / "06_real_benchmark_cells", True)
            executed = ROOT / "build" / "executed" / args.profile
        else:
            executed = scratch / "executed"
            command += ["--output-dir", str(scratch)]
        command += ["--executed-dir", str(executed)]
        env = {**os.environ, "MPLBACKEND": "Agg", "TF_CPP_MIN_LOG_LEVEL": "2"}
        log_path = HERE / "results" / f"suite_{args.profile}.log"
        logger.info("running: %s", " ".join(command))
        start = time.perf_counter()
        with open(log_path, "w") as log:
            process = subprocess.Popen(
                command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
            )
            with MemorySampler(pid=process.pid, interval=0.2) as memory:
                returncode = process.wait()
        wall = time.perf_counter() - start
        if returncode != 0:
            raise SystemExit(
                f"the suite failed with exit code {returncode}; see {log_path}"
            )
        durations = notebook_durations(executed)
    return {"wall_seconds": wall, "peak_mb": memory.peak_mb, "notebooks": durations}


def data_label(creditcard: str) -> str:
    """Return a short name of the credit-card source for file names and tables."""
    if creditcard:
        return Path(creditcard).stem
    if (ROOT / "data" / "raw" / "creditcard.csv").exists():
        return "creditcard"
    return "synthetic"


def write_results(result: dict, args, facts: dict) -> Path:
    """Write one run's per-notebook and total figures to a CSV file."""
    import pandas as pd

    label = data_label(args.creditcard)
    rows = [
        {"part": name, "wall_seconds": seconds}
        for name, seconds in result["notebooks"].items()
    ]
    rows.append({"part": "whole suite", "wall_seconds": result["wall_seconds"]})
    frame = pd.DataFrame(rows)
    frame["peak_mb"] = [None] * (len(rows) - 1) + [result["peak_mb"]]
    frame["profile"] = args.profile
    frame["credit_card_data"] = label
    frame["benchmark_dir"] = "yes" if args.benchmark_dir else "no"
    frame["cores"] = facts["usable cores"]
    frame["date"] = time.strftime("%Y-%m-%d")
    path = HERE / "results" / f"suite_{args.profile}_{label}.csv"
    frame.to_csv(path, index=False)
    return path


def redraw(facts: dict) -> None:
    """Redraw ``suite.md`` and ``figures/suite.png`` from every results file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    files = sorted((HERE / "results").glob("suite_*_*.csv"))
    if not files:
        return
    runs = {path.stem.removeprefix("suite_"): pd.read_csv(path) for path in files}

    fig, (ax, memory_ax) = plt.subplots(
        1,
        2,
        figsize=(14, 1.6 + 0.4 * 7 * len(runs)),
        gridspec_kw={"width_ratios": [2.2, 1]},
    )
    labels, values, colors = [], [], []
    palette = plt.get_cmap("tab10")
    for index, (name, frame) in enumerate(runs.items()):
        for row in frame.itertuples():
            labels.append(f"{name}: {row.part}")
            values.append(row.wall_seconds / 60)
            colors.append(palette(index))
    positions = range(len(labels))
    ax.barh(positions, values, color=colors)
    ax.set_yticks(list(positions), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("wall minutes")
    for (profile, (seconds, _)), style in zip(TARGETS.items(), (":", "--")):
        ax.axvline(
            seconds / 60,
            color="grey",
            linestyle=style,
            label=f"{profile} target, {seconds / 60:.0f} min",
        )
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(f"Wall time per notebook and in total, {facts['usable cores']} cores")

    names = list(runs)
    peaks = [
        runs[name].query("part == 'whole suite'")["peak_mb"].iloc[0] / 1024
        for name in names
    ]
    memory_ax.barh(range(len(names)), peaks, color=palette.colors[: len(names)])
    memory_ax.set_yticks(range(len(names)), names, fontsize=8)
    memory_ax.invert_yaxis()
    memory_ax.axvline(
        TARGETS["full"][1] / 1024,
        color="grey",
        linestyle="--",
        label=f"full target, {TARGETS['full'][1] / 1024:.0f} GiB",
    )
    memory_ax.legend(fontsize=8, loc="lower right")
    memory_ax.set_xlabel("peak memory of the whole suite (GiB, PSS)")
    memory_ax.set_title("Peak memory per run")
    fig.tight_layout()
    figure = HERE / "figures" / "suite.png"
    figure.parent.mkdir(exist_ok=True)
    temporary = figure.with_suffix(".tmp.png")
    fig.savefig(temporary, dpi=110)
    plt.close(fig)
    os.replace(temporary, figure)

    table, checks = [], []
    for name, frame in runs.items():
        total = frame[frame["part"] == "whole suite"].iloc[0]
        profile = total["profile"]
        for row in frame.itertuples():
            table.append(
                {
                    "run": name,
                    "part": row.part,
                    "wall": f"{row.wall_seconds / 60:.1f} min",
                    "peak memory": (
                        "" if pd.isna(row.peak_mb) else f"{row.peak_mb / 1024:.2f} GiB"
                    ),
                }
            )
        seconds, megabytes = TARGETS[profile]
        verdict = "met" if total["wall_seconds"] <= seconds else "missed"
        check = (
            f"- {name} ({total['date']}): {total['wall_seconds'] / 60:.1f} min "
            f"against {seconds / 60:.0f} min, {verdict}"
        )
        if megabytes is not None:
            verdict = "met" if total["peak_mb"] <= megabytes else "missed"
            check += (
                f"; peak {total['peak_mb'] / 1024:.2f} GiB against "
                f"{megabytes / 1024:.0f} GiB, {verdict}"
            )
        checks.append(check + ".")
    lines = [
        "# Whole-suite wall time and peak memory",
        "",
        "Written by `benchmarks/bench_suite.py`; do not edit by hand. Runs "
        "are named `<profile>_<credit-card data>`; `synthetic` is the "
        "full-size synthetic stand-in, `creditcard_sample` the real sample "
        "file of 5,332 rows.",
        "",
        "Commands (one per run):",
        "",
        "```",
        "# quick_creditcard_sample",
        "taskset -c 0,1 .venv/bin/python benchmarks/bench_suite.py --profile quick \\",
        "    --creditcard ../shared/data/creditcard/creditcard_sample.csv \\",
        "    --benchmark-dir ../shared/data/adbench",
        "# quick_synthetic (the data `make test` and CI give the notebooks)",
        "taskset -c 0,1 .venv/bin/python benchmarks/bench_suite.py --profile quick \\",
        "    --benchmark-dir ../shared/data/adbench",
        "# full_creditcard_sample (wrote the committed figures and records)",
        "taskset -c 0,1 .venv/bin/python benchmarks/bench_suite.py --profile full \\",
        "    --creditcard ../shared/data/creditcard/creditcard_sample.csv \\",
        "    --benchmark-dir ../shared/data/adbench --in-place",
        "# full_synthetic (full-size data: 284,807 rows)",
        "taskset -c 0,1 .venv/bin/python benchmarks/bench_suite.py --profile full \\",
        "    --benchmark-dir ../shared/data/adbench",
        "```",
        "",
        "Peak memory is the summed proportional set size (PSS) of the "
        "runner, the Jupyter kernel and its workers, sampled every 0.2 s: "
        "memory shared between them, such as the TensorFlow libraries, "
        "counts once.",
        "",
        "![wall time per notebook](figures/suite.png)",
        "",
        "## Targets",
        "",
        *checks,
        "",
        "## Per notebook",
        "",
        markdown_table(table, ["run", "part", "wall", "peak memory"]),
        "",
        "## Machine of the latest run",
        "",
        markdown_table(
            [{"what": key, "value": value} for key, value in facts.items()],
            ["what", "value"],
        ),
        "",
    ]
    page = HERE / "suite.md"
    temporary = page.with_suffix(".tmp")
    temporary.write_text("\n".join(lines))
    os.replace(temporary, page)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=sorted(TARGETS), default="quick")
    parser.add_argument(
        "--creditcard",
        default="",
        help="Kaggle creditcard.csv; empty: data/raw, then the synthetic stand-in",
    )
    parser.add_argument(
        "--benchmark-dir",
        default="",
        help="ADBench/ODDS folder for notebook 06; empty skips notebook 06",
    )
    parser.add_argument(
        "--in-place",
        action="store_true",
        help="write figures and records into the repository, as make figures does",
    )
    parser.add_argument(
        "--redraw-only",
        action="store_true",
        help="redraw the page and figure from the saved results",
    )
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    facts = machine_facts()
    if not args.redraw_only:
        (HERE / "results").mkdir(exist_ok=True)
        result = run_suite(args)
        path = write_results(result, args, facts)
        logger.info(
            "whole suite: %.1f min, peak %.2f GiB; wrote %s",
            result["wall_seconds"] / 60,
            result["peak_mb"] / 1024,
            path,
        )
    redraw(facts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
