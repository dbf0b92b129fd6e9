"""Time the DQL detector and the per-sample loop it replaces.

Three measurements, printed as a Markdown table for ``benchmarks/dql.md``:

1. A full ``DQLDetector`` fit with default parameters on the 300-point toy
   set of the original study (one Gaussian blob, 255 inliers and 45 uniform
   outliers), without labels. The first fit in the process includes
   TensorFlow's start-up and is reported apart; the warm fits are repeated.
2. One episode of the original study's method on the same 300 points: one
   ``model.predict`` per sample (and one for the next sample), one
   ``model.fit`` per sample, pseudo-labels from the distance to the median,
   no replay memory and no target network. The episode time times 20 (the
   study's episodes) is the extrapolated baseline, and the ratio to the warm
   DQL fit is the speed-up.
3. A full fit on the credit-card training split: 80 % of 284,807 rows
   (227,845 rows), 20 labelled frauds, 10 % validation rows for the
   threshold and the per-episode validation average precision. Without a
   data file the loader's synthetic stand-in of the same shape is used, and
   the output table names the data source.

Run from the repository root::

    .venv/bin/python benchmarks/bench_dql.py --creditcard data/raw/creditcard.csv

Pin the run to two cores with ``taskset -c 0,1`` to match the targets.
Next to wall time, the table gives the process CPU time (user + system, all
threads). On a machine shared with other jobs the wall time grows with the
load, while the CPU time changes much less, so the page reports both.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import subprocess
import time

import numpy as np

logger = logging.getLogger("bench_dql")

#: Episodes of the original study's training loop.
STUDY_EPISODES = 20


def machine_description() -> dict[str, str]:
    """Return CPU model, usable cores, load and library versions."""
    import keras
    import sklearn
    import tensorflow as tf

    try:
        lscpu = subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=True
        ).stdout
        model = next(
            line.split(":", 1)[1].strip()
            for line in lscpu.splitlines()
            if line.startswith("Model name")
        )
    except (OSError, subprocess.CalledProcessError, StopIteration):
        model = platform.processor() or "unknown"
    return {
        "cpu": model,
        "usable cores": str(len(os.sched_getaffinity(0))),
        "load average (1 min) at start": f"{os.getloadavg()[0]:.1f}",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "scikit-learn": sklearn.__version__,
    }


def toy_data(random_state: int):
    """Return the study's toy set: one blob, 255 inliers, 45 uniform outliers."""
    from anomaly_utils.data import make_toy_dataset

    return make_toy_dataset(
        "one_blob", n_samples=300, outlier_fraction=0.15, random_state=random_state
    )


class Stopwatch:
    """Wall and process CPU seconds of a ``with`` block."""

    def __enter__(self):
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        return self

    def __exit__(self, *exc_info):
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def time_dql_toy(repeats: int) -> dict[str, float]:
    """Return cold and warm fit seconds of the default DQL on the toy set."""
    from sklearn.metrics import average_precision_score

    from anomaly_utils.models import make_detector

    X, y = toy_data(0)
    X_test, y_test = toy_data(1)
    with Stopwatch() as cold:
        make_detector("dql", random_state=0, contamination=0.15).fit(X)

    warm, precisions = [], []
    for repeat in range(repeats):
        detector = make_detector("dql", random_state=repeat, contamination=0.15)
        with Stopwatch() as watch:
            detector.fit(X)
        warm.append(watch)
        scores = detector.score_samples(X_test)
        precisions.append(average_precision_score(y_test, scores))
        logger.info(
            "toy fit %d: %.2f s wall, %.2f s CPU", repeat + 1, watch.wall, watch.cpu
        )
    return {
        "cold_seconds": cold.wall,
        "cold_cpu_seconds": cold.cpu,
        "warm_median_seconds": statistics.median(w.wall for w in warm),
        "warm_max_seconds": max(w.wall for w in warm),
        "warm_median_cpu_seconds": statistics.median(w.cpu for w in warm),
        "test_average_precision": float(np.mean(precisions)),
    }


def time_per_sample_episode(gamma: float = 0.9, epsilon: float = 0.1) -> Stopwatch:
    """Return wall and CPU seconds of one episode of the study's per-sample loop.

    Each of the 300 steps calls ``model.predict`` on the current and on the
    next sample and ``model.fit`` on one sample, with the Q-learning target
    ``r + gamma * max Q(next)`` from the same network (no target network,
    no replay memory). The reward is +1 when the action matches the
    pseudo-label (distance to the median above its 85th percentile means
    anomaly) and -1 otherwise.
    """
    import keras

    X, _ = toy_data(0)
    X = X.astype(np.float32)
    # The DQL fits turned on TensorFlow op determinism, under which Keras'
    # own random ops need a global seed.
    keras.utils.set_random_seed(0)
    distance = np.linalg.norm(X - np.median(X, axis=0), axis=1)
    pseudo_labels = (distance > np.quantile(distance, 0.85)).astype(int)
    rng = np.random.default_rng(0)

    model = keras.Sequential(
        [
            keras.Input(shape=(X.shape[1],)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(32, activation="relu"),
            keras.layers.Dense(2),
        ]
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    # One warm-up call each, so the episode time excludes graph building.
    model.predict(X[:1], verbose=0)
    model.fit(X[:1], np.zeros((1, 2)), epochs=1, verbose=0, shuffle=False)

    with Stopwatch() as watch:
        for index in range(X.shape[0]):
            state = X[index : index + 1]
            next_state = X[(index + 1) % X.shape[0]][None, :]
            q_values = model.predict(state, verbose=0)[0]
            if rng.random() < epsilon:
                action = int(rng.integers(0, 2))
            else:
                action = int(np.argmax(q_values))
            reward = 1.0 if action == pseudo_labels[index] else -1.0
            next_q = model.predict(next_state, verbose=0)[0]
            target = q_values.copy()
            target[action] = reward + gamma * float(np.max(next_q))
            model.fit(state, target[None, :], epochs=1, verbose=0, shuffle=False)
    return watch


def time_dql_creditcard(path: str | None, k: int = 20) -> dict[str, object]:
    """Return fit and score seconds of the DQL on the full-size training split."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    from anomaly_utils.data import load_creditcard, split_creditcard
    from anomaly_utils.dql_experiments import keep_labelled_anomalies
    from anomaly_utils.models import make_detector

    data = load_creditcard(path, allow_download=False, random_state=0)
    splits = split_creditcard(data, val_size=0.1, test_size=0.1, random_state=0)
    weak = keep_labelled_anomalies(splits.y_train, k, random_state=0)
    detector = make_detector("dql", random_state=0)
    with Stopwatch() as fit_watch:
        detector.fit(splits.X_train, weak, validation_data=(splits.X_val, splits.y_val))
    with Stopwatch() as score_watch:
        scores = detector.score_samples(splits.X_test)
    return {
        "source": splits.source_label,
        "train_rows": int(splits.X_train.shape[0]),
        "labelled_frauds": k,
        "fit_seconds": fit_watch.wall,
        "fit_cpu_seconds": fit_watch.cpu,
        "score_seconds": score_watch.wall,
        "test_rows": int(splits.X_test.shape[0]),
        "test_average_precision": float(average_precision_score(splits.y_test, scores)),
        "test_roc_auc": float(roc_auc_score(splits.y_test, scores)),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--creditcard",
        default="",
        help="path of creditcard.csv; empty = the loader's search order, "
        "then the synthetic stand-in (no download)",
    )
    parser.add_argument(
        "--repeats", type=int, default=3, help="warm toy fits to time (default 3)"
    )
    parser.add_argument(
        "--skip-creditcard",
        action="store_true",
        help="time only the toy fit and the per-sample loop",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    machine = machine_description()
    toy = time_dql_toy(args.repeats)
    episode = time_per_sample_episode()
    card = None
    if not args.skip_creditcard:
        card = time_dql_creditcard(args.creditcard or None)
    machine["load average (1 min) at end"] = f"{os.getloadavg()[0]:.1f}"

    rows = [
        (
            "DQL toy fit, first in process (s)",
            toy["cold_seconds"],
            toy["cold_cpu_seconds"],
        ),
        (
            f"DQL toy fit, warm, median of {args.repeats} (s)",
            toy["warm_median_seconds"],
            toy["warm_median_cpu_seconds"],
        ),
        ("DQL toy fit, warm, slowest (s)", toy["warm_max_seconds"], None),
        ("per-sample loop, one episode (s)", episode.wall, episode.cpu),
        (
            f"per-sample loop, {STUDY_EPISODES} episodes extrapolated (s)",
            STUDY_EPISODES * episode.wall,
            STUDY_EPISODES * episode.cpu,
        ),
        (
            "speed-up: extrapolated loop / warm DQL fit",
            STUDY_EPISODES * episode.wall / toy["warm_median_seconds"],
            STUDY_EPISODES * episode.cpu / toy["warm_median_cpu_seconds"],
        ),
    ]
    if card is not None:
        rows.append(
            (
                f"DQL credit-card fit, {card['train_rows']:,} rows, "
                f"{card['labelled_frauds']} labelled frauds (s)",
                card["fit_seconds"],
                card["fit_cpu_seconds"],
            )
        )
        rows.append(
            (
                f"DQL credit-card scoring, {card['test_rows']:,} rows (s)",
                card["score_seconds"],
                None,
            )
        )

    print("| machine | |\n|---|---|")
    for key, value in machine.items():
        print(f"| {key} | {value} |")
    print("\n| measurement | wall | CPU |\n|---|---|---|")
    for name, wall, cpu in rows:
        cpu_text = "" if cpu is None else f"{cpu:.1f}"
        print(f"| {name} | {wall:.1f} | {cpu_text} |")
    print(
        f"\nDQL toy test average precision (mean of {args.repeats} fits): "
        f"{toy['test_average_precision']:.3f}"
    )
    if card is not None:
        print(
            f"Credit-card data: {card['source']}; test AP "
            f"{card['test_average_precision']:.3f}, ROC-AUC {card['test_roc_auc']:.3f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
