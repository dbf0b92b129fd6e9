"""Turn the ``random_state`` argument of the data functions into a generator."""

from __future__ import annotations

import numpy as np


def check_generator(random_state) -> np.random.Generator:
    """Return a NumPy generator for ``random_state``.

    Parameters
    ----------
    random_state : int, numpy.random.Generator, numpy.random.RandomState or None
        Seed source. An int gives the same draws on every call, a generator
        is used as is, and None draws fresh entropy, so results then vary.

    Raises
    ------
    ValueError
        If ``random_state`` is none of the types above or a negative int.
    """
    if random_state is None:
        return np.random.default_rng()
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, (int, np.integer)) and not isinstance(
        random_state, bool
    ):
        if random_state < 0:
            raise ValueError(
                f"random_state must be a non-negative integer, got {random_state}"
            )
        return np.random.default_rng(int(random_state))
    raise ValueError(
        "random_state must be an int, a NumPy Generator or RandomState, or None, "
        f"got {random_state!r}"
    )


def draw_seed(rng: np.random.Generator) -> int:
    """Draw an int seed from ``rng`` for scikit-learn functions."""
    return int(rng.integers(0, 2**31 - 1))
