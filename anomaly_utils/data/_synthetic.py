"""A synthetic stand-in for the credit-card data, in the Kaggle schema."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd

from ._random import check_generator

#: Last ``Time`` value of the real data, in seconds (two days).
MAX_TIME_SECONDS = 172_792
#: Fraud share of the real data (492 of 284,807 rows).
REAL_FRAUD_RATE = 492 / 284_807

# Components where synthetic frauds differ from normal rows, with the largest
# mean shift in standard deviations of normal rows. The signs follow the real
# data (frauds have low V3, V10, V12, V14, V17 and high V4, V11). The sizes
# are smaller, so Isolation Forest reaches a ROC-AUC of about 0.9 to 0.92
# (100,000 rows, three seeds) rather than 1.0.
_FRAUD_SHIFTS = {
    "V3": -2.8,
    "V4": 2.8,
    "V10": -2.6,
    "V11": 2.2,
    "V12": -3.0,
    "V14": -3.4,
    "V17": -2.6,
}
# Spread of frauds in the shifted components, relative to normal rows.
_FRAUD_SPREAD = 2.0
# Largest and smallest standard deviation of V1..V28 in the real data.
_FIRST_STD, _LAST_STD = 1.96, 0.33
_TAIL_DEGREES = 5


def make_synthetic_creditcard(
    n_rows: int = 284_807, fraud_rate: float = REAL_FRAUD_RATE, random_state=0
) -> pd.DataFrame:
    """Generate a synthetic table in the Kaggle credit-card schema.

    It is a stand-in for tests and for runs without the real file, not a
    model of real fraud. ``Time`` is sorted and uniform over two days and
    independent of the class. ``V1`` to ``V28`` are independent Student-t
    draws (5 degrees of freedom, so heavier tails than a Gaussian) whose
    standard deviations fall geometrically from 1.96 to 0.33, like the PCA
    components of the real data. Frauds are shifted in seven components (V3,
    V4, V10, V11, V12, V14, V17) by a random share of a fixed shift and have
    twice the spread there. Some frauds therefore sit among normal rows.
    ``Amount`` is log-normal (median about 20 for normal rows, about 10 for
    frauds), clipped to [0, about 27,000] and rounded to cents.

    Parameters
    ----------
    n_rows : int, default=284_807
        Number of rows, at least 100.
    fraud_rate : float, default=492 / 284_807
        Share of fraud rows, in (0, 0.5). At least 2 frauds are always made.
    random_state : int, numpy.random.Generator or None, default=0
        Seed for every draw.

    Returns
    -------
    pandas.DataFrame of shape (n_rows, 31)
        Columns ``Time, V1..V28, Amount, Class``, float64 features and int64
        ``Class`` (1 = fraud).

    Raises
    ------
    ValueError
        If ``n_rows`` is below 100 or ``fraud_rate`` is outside (0, 0.5).
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, Integral):
        raise ValueError(f"n_rows must be an integer, got {n_rows!r}")
    if n_rows < 100:
        raise ValueError(f"n_rows must be at least 100, got {n_rows}")
    if isinstance(fraud_rate, bool) or not isinstance(fraud_rate, Real):
        raise ValueError(f"fraud_rate must be a number in (0, 0.5), got {fraud_rate!r}")
    if not 0.0 < fraud_rate < 0.5:
        raise ValueError(
            f"fraud_rate must be in the open interval (0, 0.5), got {fraud_rate}"
        )
    n_rows = int(n_rows)
    rng = check_generator(random_state)

    n_frauds = max(2, round(n_rows * fraud_rate))
    labels = np.zeros(n_rows, dtype=np.int64)
    labels[rng.choice(n_rows, size=n_frauds, replace=False)] = 1
    is_fraud = labels == 1

    time = np.sort(rng.integers(0, MAX_TIME_SECONDS + 1, size=n_rows)).astype(
        np.float64
    )

    stds = _FIRST_STD * (_LAST_STD / _FIRST_STD) ** (np.arange(28) / 27)
    unit_t = rng.standard_t(_TAIL_DEGREES, size=(n_rows, 28))
    unit_t *= np.sqrt((_TAIL_DEGREES - 2) / _TAIL_DEGREES)
    components = unit_t * stds

    # Each fraud gets one strength in [0, 1] that scales all its shifts, so
    # weak frauds sit among normal rows in every component.
    strength = rng.uniform(0.0, 1.0, size=n_frauds)
    for name, shift in _FRAUD_SHIFTS.items():
        j = int(name[1:]) - 1
        spread = components[is_fraud, j] * _FRAUD_SPREAD
        components[is_fraud, j] = spread + strength * shift * stds[j]

    log_amount = np.where(
        is_fraud,
        rng.normal(2.3, 2.0, size=n_rows),
        rng.normal(3.0, 1.5, size=n_rows),
    )
    # The upper clip keeps amounts below about 27,000, near the largest real
    # amount (25,691.16). The lower clip turns negative draws into 0.00.
    amount = np.round(np.expm1(np.clip(log_amount, 0.0, 10.2)), 2)

    frame = pd.DataFrame(components, columns=[f"V{i}" for i in range(1, 29)])
    frame.insert(0, "Time", time)
    frame["Amount"] = amount
    frame["Class"] = labels
    return frame
