"""Fit and score time and peak memory of every detector against data size.

For each number of rows (10,000, 30,000, 100,000 and 284,807 by default)
and each detector, one fresh Python process:

1. loads the credit-card data (the file given with ``--creditcard``, or the
   loader's synthetic stand-in of 284,807 rows) and keeps a stratified
   subsample of that many rows;
2. splits it 80 / 10 / 10 (train / validation / test) with the scaler fitted
   on the training rows, so the full table gives the 227,845 training rows
   of the notebooks' full profile;
3. fits the detector on its training rows: the normal ones for the
   label-free detectors, all of them with labels for the MLP, and all of
   them for Deep Q-Learning with 20 frauds labelled (every fraud when there
   are fewer). The validation part sets thresholds and early stopping;
4. scores every row of the subsample, and computes ROC-AUC and average
   precision on the test part.

The process records fit and score seconds, its resident memory just before
the fit and the highest resident memory during fit and score (sampled every
20 ms). A fresh process per cell keeps one detector's memory out of the
next one's figure. The memory includes the Python, NumPy and TensorFlow
libraries loaded before the fit.

The detectors use the settings of the credit-card notebooks (03 and 04),
and the LOF and One-Class SVM fit on their documented subsamples of 20,000
and 10,000 rows. A log-log fit of seconds against rows gives each
detector's slope: 1 is linear, 2 quadratic.

With PyOD and PyTorch installed (``pip install pyod torch``), the script
also times PyOD's ``AutoEncoder`` against the suite's autoencoder at the
same architecture, batch size and number of epochs on the full training
part, and compares their test ROC-AUC. Without them that part is skipped
with a message.

Run from the repository root, pinned to two cores::

    taskset -c 0,1 .venv/bin/python benchmarks/bench_scaling.py

Outputs: ``benchmarks/results/scaling.csv``,
``benchmarks/results/autoencoder_vs_pyod.csv``,
``benchmarks/figures/scaling.png`` and the page ``benchmarks/scaling.md``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from common import MemorySampler, current_rss_mb, machine_facts, markdown_table

logger = logging.getLogger("bench_scaling")

HERE = Path(__file__).resolve().parent
#: Rows of the full Kaggle table.
FULL_ROWS = 284_807
#: Subsample sizes measured by default.
DEFAULT_ROWS = (10_000, 30_000, 100_000, FULL_ROWS)
#: Shares of the validation and test parts.
VALIDATION_SHARE = TEST_SHARE = 0.1
#: Labelled training frauds given to Deep Q-Learning.
DQL_LABELLED = 20
#: Settings of notebooks 03 (label-free detectors), 02 (MLP) and 04 (DQL)
#: at full size.
DETECTOR_PARAMS = {
    "autoencoder": {
        "hidden_units": (24, 12, 6),
        "dropout": 0.05,
        "l2": 1e-5,
        "batch_size": 256,
        "learning_rate": 2e-3,
        "epochs": 100,
        "patience": 5,
    },
    "isolation_forest": {"n_estimators": 200},
    "lof": {"n_neighbors": 35},
    "ocsvm": {"nu": 0.05},
    "sgd_ocsvm": {"nu": 0.05},
    "mlp": {
        "hidden_units": (16,),
        "dropout": 0.5,
        "batch_size": 2048,
        "epochs": 100,
        "patience": 10,
    },
    "dql": {"n_episodes": 10},
}
#: Target slope of fit seconds against rows ("about linear").
SLOPE_TARGET = 1.2
#: Epochs of the PyOD comparison; both models train exactly this many.
PYOD_EPOCHS = 10


def load_split(creditcard: str | None, n_rows: int, seed: int):
    """Return the scaled 80 / 10 / 10 split of an ``n_rows`` subsample."""
    from anomaly_utils.data import load_creditcard, split_creditcard

    data = load_creditcard(
        creditcard or None,
        allow_download=False,
        synthetic_rows=FULL_ROWS,
        random_state=seed,
    )
    available = len(data.frame)
    if n_rows > available:
        raise ValueError(
            f"{n_rows} rows asked for but {data.label} has {available}; "
            "pass smaller --rows or a larger file"
        )
    return split_creditcard(
        data,
        val_size=VALIDATION_SHARE,
        test_size=TEST_SHARE,
        max_rows=None if n_rows == available else n_rows,
        random_state=seed,
    )


def training_rows(name: str, splits, seed: int):
    """Return (X, y) a detector trains on, following the notebooks' settings."""
    from anomaly_utils.dql_experiments import keep_labelled_anomalies

    if name == "mlp":
        return splits.X_train, splits.y_train
    if name == "dql":
        # Small subsamples may hold fewer training frauds than DQL_LABELLED.
        k = min(DQL_LABELLED, int(splits.y_train.sum()))
        weak = keep_labelled_anomalies(splits.y_train, k, random_state=seed)
        return splits.X_train, weak
    return splits.normal_train(), None


def measure_cell(name: str, n_rows: int, creditcard: str | None, seed: int) -> dict:
    """Fit and score one detector on one subsample; return the measurements."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    from anomaly_utils.models import make_detector

    splits = load_split(creditcard, n_rows, seed)
    X_fit, y_fit = training_rows(name, splits, seed)
    X_all = np.concatenate([splits.X_train, splits.X_val, splits.X_test])
    params = dict(DETECTOR_PARAMS[name])
    if name == "mlp" and X_fit.shape[0] < 100_000:
        # Notebook 02's rule: batches of 256 below 100,000 training rows.
        params["batch_size"] = 256
    detector = make_detector(name, **params, random_state=seed)
    # Load TensorFlow before the baseline so that its libraries do not count
    # as memory of the first deep fit.
    if name in ("autoencoder", "mlp", "dql"):
        import tensorflow  # noqa: F401
    rss_before = current_rss_mb()
    with MemorySampler(interval=0.02) as memory:
        start = time.perf_counter()
        detector.fit(X_fit, y_fit, validation_data=(splits.X_val, splits.y_val))
        fit_seconds = time.perf_counter() - start
        start = time.perf_counter()
        scores = detector.score_samples(X_all)
        score_seconds = time.perf_counter() - start
    test_scores = scores[-splits.y_test.size :]
    epochs = getattr(detector, "n_epochs_", "")
    return {
        "detector": name,
        "rows": n_rows,
        "fit_rows": int(X_fit.shape[0]),
        "fit_seconds": fit_seconds,
        "score_seconds": score_seconds,
        "rss_before_mb": rss_before,
        "peak_rss_mb": memory.peak_mb,
        "roc_auc": roc_auc_score(splits.y_test, test_scores),
        "average_precision": average_precision_score(splits.y_test, test_scores),
        "epochs": epochs,
        "data": splits.source_label,
    }


def measure_pyod_side(side: str, creditcard: str | None, seed: int) -> dict:
    """Time one side of the PyOD comparison on the full training part.

    ``side`` is ``"ours"`` (the suite's autoencoder) or ``"pyod"`` (PyOD's
    ``AutoEncoder``). Each side runs in its own process because importing
    PyTorch and TensorFlow into one process crashed it (segmentation fault,
    PyTorch 2.14.1 with TensorFlow 2.21.0).
    """
    from sklearn.metrics import roc_auc_score

    splits = load_split(creditcard, FULL_ROWS, seed)
    X_fit = splits.normal_train().astype(np.float32)
    X_test = splits.X_test.astype(np.float32)
    params = DETECTOR_PARAMS["autoencoder"]
    if side == "ours":
        from anomaly_utils.models import make_detector

        label = "anomaly_utils autoencoder"
        model = make_detector(
            "autoencoder",
            **{**params, "epochs": PYOD_EPOCHS, "validation_fraction": 0.0},
            random_state=seed,
        )
        score = model.score_samples
    else:
        import torch
        from pyod.models.auto_encoder import AutoEncoder

        torch.set_num_threads(len(os.sched_getaffinity(0)))
        label = "PyOD AutoEncoder"
        # PyOD's defaults add batch normalisation and standardise the input
        # again; both are turned off to match the suite's model. Its Adam
        # weight decay plays the role of the suite's L2 penalty.
        model = AutoEncoder(
            hidden_neuron_list=list(params["hidden_units"]),
            hidden_activation_name="relu",
            batch_norm=False,
            dropout_rate=params["dropout"],
            batch_size=params["batch_size"],
            epoch_num=PYOD_EPOCHS,
            lr=params["learning_rate"],
            optimizer_params={"weight_decay": params["l2"]},
            preprocessing=False,
            random_state=seed,
            verbose=0,
        )
        score = model.decision_function
    start = time.perf_counter()
    model.fit(X_fit)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    scores = score(X_test)
    score_seconds = time.perf_counter() - start
    return {
        "model": label,
        "fit_rows": int(X_fit.shape[0]),
        "epochs": PYOD_EPOCHS,
        "batch_size": params["batch_size"],
        "fit_seconds": fit_seconds,
        "score_seconds": score_seconds,
        "total_seconds": fit_seconds + score_seconds,
        "roc_auc": roc_auc_score(splits.y_test, scores),
        "data": splits.source_label,
    }


def run_worker(args) -> int:
    """Measure one cell (or one side of the PyOD comparison); print it as JSON."""
    logging.disable(logging.WARNING)
    if args.worker in ("pyod-ours", "pyod-pyod"):
        side = args.worker.removeprefix("pyod-")
        result = measure_pyod_side(side, args.creditcard, args.seed)
    else:
        result = measure_cell(args.worker, args.worker_rows, args.creditcard, args.seed)
    print("RESULT " + json.dumps(result))
    return 0


def spawn(worker_args: list[str]) -> dict | list | None:
    """Run this script as a worker process and return its parsed result."""
    command = [sys.executable, str(Path(__file__).resolve()), *worker_args]
    completed = subprocess.run(command, capture_output=True, text=True)
    for line in completed.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    logger.error(
        "worker %s failed (exit %d):\n%s",
        " ".join(worker_args),
        completed.returncode,
        completed.stderr[-3000:],
    )
    return None


def pyod_available() -> str | None:
    """Return None when PyOD and PyTorch import, else the reason they do not."""
    try:
        import pyod.models.auto_encoder  # noqa: F401
        import torch  # noqa: F401
    except ImportError as error:
        return f"{error}; install them with `pip install pyod torch`"
    return None


def fitted_slopes(frame):
    """Return the log-log slope of fit and score seconds against rows."""
    import pandas as pd

    slopes = {}
    for name, group in frame.groupby("detector", sort=False):
        if group["rows"].nunique() < 2:
            continue
        log_rows = np.log10(group["rows"].to_numpy(float))
        slopes[name] = {
            column: np.polyfit(log_rows, np.log10(group[column].to_numpy(float)), 1)[0]
            for column in ("fit_seconds", "score_seconds")
        }
    return pd.DataFrame(slopes).T


def plot_scaling(frame, slopes, title: str, path: Path) -> None:
    """Draw fit seconds, score seconds and peak memory against rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from anomaly_utils.models import DISPLAY_NAMES

    fig, axes = plt.subplots(1, 3, figsize=(16, 5.2))
    panels = (
        ("fit_seconds", "fit seconds", True),
        ("score_seconds", "score seconds (all rows)", True),
        ("peak_rss_mb", "peak resident memory (MiB)", False),
    )
    for ax, (column, label, with_slope) in zip(axes, panels):
        for name, group in frame.groupby("detector", sort=False):
            legend = DISPLAY_NAMES.get(name, name)
            if with_slope and name in slopes.index:
                legend += f" (slope {slopes.loc[name, column]:.2f})"
            ax.plot(group["rows"], group[column], marker="o", label=legend)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("rows in the subsample")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_title("Fit time (log-log slope in the legend)")
    axes[1].set_title("Scoring time")
    axes[2].set_title("Peak memory of the process")
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp.png")
    fig.savefig(temporary, dpi=110)
    plt.close(fig)
    os.replace(temporary, path)


def write_page(frame, slopes, pyod_rows, pyod_note, facts, command, path) -> None:
    """Write the Markdown page with tables, target checks and the figure."""
    from anomaly_utils.models import DISPLAY_NAMES

    table_rows = []
    for row in frame.itertuples():
        table_rows.append(
            {
                "detector": DISPLAY_NAMES.get(row.detector, row.detector),
                "rows": f"{row.rows:,}",
                "fit rows": f"{row.fit_rows:,}",
                "fit s": f"{row.fit_seconds:.2f}",
                "score s": f"{row.score_seconds:.2f}",
                "RSS before fit (MiB)": f"{row.rss_before_mb:.0f}",
                "peak RSS (MiB)": f"{row.peak_rss_mb:.0f}",
                "epochs": row.epochs,
                "test ROC-AUC": f"{row.roc_auc:.3f}",
                "test AP": f"{row.average_precision:.3f}",
            }
        )
    slope_rows = [
        {
            "detector": DISPLAY_NAMES.get(name, name),
            "fit slope": f"{values['fit_seconds']:.2f}",
            "score slope": f"{values['score_seconds']:.2f}",
            f"fit slope <= {SLOPE_TARGET}": (
                "met" if values["fit_seconds"] <= SLOPE_TARGET else "missed"
            ),
        }
        for name, values in slopes.iterrows()
    ]
    lines = [
        "# Detector scaling on the credit-card data",
        "",
        "Written by `benchmarks/bench_scaling.py`; do not edit by hand.",
        "",
        "Command:",
        "",
        "```",
        command,
        "```",
        "",
        f"Data: {frame['data'].iloc[0]}.",
        "",
        "## Machine",
        "",
        markdown_table(
            [{"what": key, "value": value} for key, value in facts.items()],
            ["what", "value"],
        ),
        "",
        "## Time and memory per detector and size",
        "",
        "![fit and score time and peak memory against rows](figures/scaling.png)",
        "",
        markdown_table(table_rows, list(table_rows[0])),
        "",
        "## Fitted slopes of log seconds against log rows",
        "",
        "A slope of 1 is linear growth. The LOF and the One-Class SVM fit on "
        "at most 20,000 and 10,000 rows, so their fit time levels off above "
        "those sizes while their scoring time keeps growing.",
        "",
        markdown_table(slope_rows, list(slope_rows[0])) if slope_rows else "",
        "",
    ]
    autoencoder = frame.query("detector == 'autoencoder' and rows == @FULL_ROWS")
    if len(autoencoder):
        seconds = float(autoencoder["fit_seconds"].iloc[0])
        lines += [
            "## Full credit-card autoencoder training",
            "",
            f"Training on {int(autoencoder['fit_rows'].iloc[0]):,} normal rows to "
            f"early stopping ({autoencoder['epochs'].iloc[0]} epochs) took "
            f"{seconds:.1f} s: target under 30 s "
            f"{'met' if seconds < 30 else 'missed'}.",
            "",
        ]
    lines += ["## Autoencoder against PyOD's AutoEncoder", ""]
    if pyod_rows:
        ours, theirs = pyod_rows
        speed_up = theirs["total_seconds"] / ours["total_seconds"]
        difference = ours["roc_auc"] - theirs["roc_auc"]
        auc_verdict = "met" if abs(difference) <= 0.01 else "missed"
        if difference > 0.01:
            auc_verdict += ", in the suite's favour"
        lines += [
            f"Both train {PYOD_EPOCHS} epochs, batch {ours['batch_size']}, on "
            f"{ours['fit_rows']:,} normal rows with the same layers (24, 12, 6 "
            "and the mirror), ReLU, dropout 0.05 and Adam; PyOD without batch "
            "normalisation and without its own standardisation. Scores are on "
            "the test part.",
            "",
            markdown_table(
                [
                    {
                        "model": row["model"],
                        "fit s": f"{row['fit_seconds']:.1f}",
                        "score s": f"{row['score_seconds']:.2f}",
                        "fit + score s": f"{row['total_seconds']:.1f}",
                        "test ROC-AUC": f"{row['roc_auc']:.4f}",
                    }
                    for row in pyod_rows
                ],
                ["model", "fit s", "score s", "fit + score s", "test ROC-AUC"],
            ),
            "",
            f"Speed-up {speed_up:.1f}x (target at least 3x: "
            f"{'met' if speed_up >= 3 else 'missed'}). ROC-AUC difference, "
            f"suite minus PyOD: {difference:+.4f} (target within 0.01: "
            f"{auc_verdict}).",
            "",
        ]
    else:
        lines += [f"Skipped: {pyod_note}.", ""]
    temporary = path.with_suffix(".tmp")
    temporary.write_text("\n".join(lines))
    os.replace(temporary, path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--creditcard",
        default="",
        help="Kaggle creditcard.csv; empty uses the full-size synthetic stand-in",
    )
    parser.add_argument(
        "--rows",
        type=int,
        nargs="+",
        default=list(DEFAULT_ROWS),
        help="subsample sizes (default: 10000 30000 100000 284807)",
    )
    parser.add_argument(
        "--detectors",
        nargs="+",
        default=list(DETECTOR_PARAMS),
        choices=list(DETECTOR_PARAMS),
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--no-pyod", action="store_true", help="skip the PyOD comparison"
    )
    parser.add_argument(
        "--pyod-only",
        action="store_true",
        help="rerun only the PyOD comparison, reusing results/scaling.csv",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--worker-rows", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return run_worker(args)

    import pandas as pd

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("ANOMALY_UTILS_OFFLINE", "1")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    facts = machine_facts()
    if args.pyod_only:
        frame = pd.read_csv(HERE / "results" / "scaling.csv")
    else:
        rows = []
        for n_rows in sorted(args.rows):
            for name in args.detectors:
                extra = ["--creditcard", args.creditcard] if args.creditcard else []
                result = spawn(
                    [
                        "--worker",
                        name,
                        "--worker-rows",
                        str(n_rows),
                        "--seed",
                        str(args.seed),
                        *extra,
                    ]
                )
                if result is None:
                    return 1
                logger.info(
                    "%s, %d rows: fit %.2f s, score %.2f s, peak %.0f MiB, "
                    "ROC-AUC %.3f",
                    name,
                    n_rows,
                    result["fit_seconds"],
                    result["score_seconds"],
                    result["peak_rss_mb"],
                    result["roc_auc"],
                )
                rows.append(result)
        frame = pd.DataFrame(rows)
        # Saved before the PyOD comparison, so a failure there loses nothing.
        (HERE / "results").mkdir(exist_ok=True)
        frame.to_csv(HERE / "results" / "scaling.csv", index=False)
    slopes = fitted_slopes(frame)

    pyod_rows, pyod_note = [], "not run (--no-pyod)"
    if not args.no_pyod:
        pyod_note = pyod_available()
        if pyod_note is None:
            extra = ["--creditcard", args.creditcard] if args.creditcard else []
            for side in ("ours", "pyod"):
                row = spawn(
                    ["--worker", f"pyod-{side}", "--seed", str(args.seed), *extra]
                )
                if row is None:
                    return 1
                logger.info(
                    "%s: fit %.1f s, score %.2f s, ROC-AUC %.4f",
                    row["model"],
                    row["fit_seconds"],
                    row["score_seconds"],
                    row["roc_auc"],
                )
                pyod_rows.append(row)
        else:
            logger.warning("PyOD comparison skipped: %s", pyod_note)

    results = HERE / "results"
    if pyod_rows:
        pd.DataFrame(pyod_rows).to_csv(results / "autoencoder_vs_pyod.csv", index=False)
    plot_scaling(
        frame,
        slopes,
        f"Detector cost against rows, credit-card data ({frame['data'].iloc[0]}), "
        f"{facts['usable cores']} CPU cores",
        HERE / "figures" / "scaling.png",
    )
    script = "taskset -c 0,1 .venv/bin/python benchmarks/bench_scaling.py"
    options = argv if argv is not None else sys.argv[1:]
    command = " ".join([script, *[a for a in options if a != "--pyod-only"]])
    if args.pyod_only:
        # The scaling rows come from an earlier run of the same command.
        command += f"\n{script} --pyod-only  # the PyOD part, rerun later"
    write_page(
        frame, slopes, pyod_rows, pyod_note, facts, command.strip(), HERE / "scaling.md"
    )
    logger.info("wrote %s", HERE / "scaling.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
