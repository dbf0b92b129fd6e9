"""One call that makes a run repeatable: Python, NumPy and Keras seeds."""

from __future__ import annotations

import logging
import random

import numpy as np

logger = logging.getLogger(__name__)

_DETERMINISM_ON = False


def enable_determinism() -> None:
    """Turn on TensorFlow op determinism once per process.

    Deterministic kernels make two fits with the same seeds give identical
    weights on CPU. Calling it again does nothing.
    """
    global _DETERMINISM_ON
    if _DETERMINISM_ON:
        return
    import tensorflow as tf

    tf.config.experimental.enable_op_determinism()
    _DETERMINISM_ON = True
    logger.debug("TensorFlow op determinism enabled")


def seed_everything(seed: int) -> np.random.Generator:
    """Seed Python, NumPy and Keras and enable op determinism.

    Call this once at the top of a notebook or script with its ``SEED``;
    detectors take their own ``random_state`` and do not reseed global state.

    Parameters
    ----------
    seed : int
        Non-negative integer seed.

    Returns
    -------
    numpy.random.Generator
        A generator seeded with ``seed`` for the caller's own draws.
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    seed = int(seed)
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - legacy global state used by old code
    import keras

    keras.utils.set_random_seed(seed)
    enable_determinism()
    logger.info("Seeded Python, NumPy and Keras with %d", seed)
    return np.random.default_rng(seed)


def derive_seed(random_state, offset: int = 0) -> int:
    """Return an integer seed from ``random_state`` for Keras layers and tf.data.

    Parameters
    ----------
    random_state : int, numpy.random.Generator, RandomState or None
        Seed source. None draws a fresh seed, so results then vary.
    offset : int, default=0
        Added to the seed, to give separate layers separate streams.
    """
    if random_state is None:
        base = int(np.random.default_rng().integers(0, 2**31 - 1))
    elif isinstance(random_state, (int, np.integer)) and not isinstance(
        random_state, bool
    ):
        base = int(random_state)
    elif isinstance(random_state, np.random.Generator):
        base = int(random_state.integers(0, 2**31 - 1))
    elif isinstance(random_state, np.random.RandomState):
        base = int(random_state.randint(0, 2**31 - 1))
    else:
        raise ValueError(
            f"random_state must be an int, a NumPy generator or None, "
            f"got {random_state!r}"
        )
    return (base + offset) % (2**31 - 1)
