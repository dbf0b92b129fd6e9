"""Seconds per epoch: ``keras.Model.fit`` against the autoencoder's compiled epoch.

The autoencoder and the MLP train one ``tf.function`` per epoch instead of
calling ``keras.Model.fit``. This script measures what that buys, on random
float32 data with the credit-card notebook's autoencoder (29 features,
layers 24, 12, 6, 12, 24, dropout 0.05, L2 1e-5, Adam), for a toy-sized and
a full-size training set:

- ``keras fit``: the same Keras model compiled with MSE and trained with
  ``model.fit(X, X, batch_size=..., shuffle=True)``, with 10 % of the rows
  as validation data, as a plain Keras user would write it;
- ``compiled epoch``: ``AutoencoderDetector.fit`` with the same settings,
  early stopping off.

Each line reports the median seconds of the epochs after the first (the
first includes graph tracing). Run from the repository root::

    taskset -c 0,1 .venv/bin/python benchmarks/bench_epoch_loop.py
"""

from __future__ import annotations

import logging
import statistics
import sys
import time

import numpy as np
from common import markdown_table

logger = logging.getLogger("bench_epoch_loop")

#: (training rows, batch size, epochs) measured.
CASES = ((300, 256, 60), (227_451, 256, 4))
LAYERS = (24, 12, 6)


class EpochTimer:
    """Keras callback: wall seconds of every epoch."""

    def __init__(self):
        import keras

        class _Callback(keras.callbacks.Callback):
            def on_epoch_begin(inner, epoch, logs=None):
                self._start = time.perf_counter()

            def on_epoch_end(inner, epoch, logs=None):
                self.seconds.append(time.perf_counter() - self._start)

        self.seconds: list[float] = []
        self.callback = _Callback()


def keras_fit_epochs(X, batch_size: int, epochs: int) -> list[float]:
    """Return per-epoch seconds of a plain ``keras.Model.fit`` run."""
    import keras

    keras.utils.set_random_seed(0)
    n_features = X.shape[1]
    layers = [keras.Input(shape=(n_features,))]
    for units in LAYERS + LAYERS[-2::-1]:
        layers.append(
            keras.layers.Dense(
                units,
                activation="relu",
                kernel_regularizer=keras.regularizers.L2(1e-5),
            )
        )
        layers.append(keras.layers.Dropout(0.05))
    layers.append(keras.layers.Dense(n_features))
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(2e-3), loss="mse")
    n_val = len(X) // 10
    timer = EpochTimer()
    model.fit(
        X[n_val:],
        X[n_val:],
        validation_data=(X[:n_val], X[:n_val]),
        batch_size=batch_size,
        epochs=epochs,
        shuffle=True,
        callbacks=[timer.callback],
        verbose=0,
    )
    return timer.seconds


def compiled_epochs(X, batch_size: int, epochs: int) -> list[float]:
    """Return per-epoch seconds of ``AutoencoderDetector.fit``.

    The detector logs each epoch at INFO level with ``verbose=1``; a logging
    handler takes the time of each of those records.
    """
    from anomaly_utils.models import make_detector

    stamps: list[float] = []

    class _Stamp(logging.Handler):
        def emit(self, record):
            stamps.append(time.perf_counter())

    handler = _Stamp(level=logging.INFO)
    model_logger = logging.getLogger("anomaly_utils.models.autoencoder")
    model_logger.addHandler(handler)
    model_logger.setLevel(logging.INFO)
    detector = make_detector(
        "autoencoder",
        hidden_units=LAYERS,
        dropout=0.05,
        l2=1e-5,
        learning_rate=2e-3,
        batch_size=batch_size,
        epochs=epochs,
        patience=epochs,
        validation_fraction=0.1,
        random_state=0,
        verbose=1,
    )
    start = time.perf_counter()
    try:
        detector.fit(X)
    finally:
        model_logger.removeHandler(handler)
    # The last record is the summary line after training.
    epoch_ends = stamps[:epochs]
    return list(np.diff([start, *epoch_ends]))


def main() -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    rng = np.random.default_rng(0)
    rows = []
    for n_rows, batch_size, epochs in CASES:
        X = rng.normal(size=(int(n_rows / 0.9), 29)).astype(np.float32)
        for label, measure in (
            ("keras fit", keras_fit_epochs),
            ("compiled epoch", compiled_epochs),
        ):
            seconds = measure(X, batch_size, epochs)
            rows.append(
                {
                    "training rows": f"{n_rows:,}",
                    "batch": batch_size,
                    "loop": label,
                    "first epoch s": f"{seconds[0]:.3f}",
                    "median later epoch s": f"{statistics.median(seconds[1:]):.4f}",
                }
            )
            logger.warning("%s", rows[-1])
    print(markdown_table(rows, list(rows[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
