"""The detector contract shared by every model in the suite."""

from __future__ import annotations

import logging
import numbers
import time

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError

from ..evaluation import (
    check_binary_labels,
    threshold_for_recall,
    threshold_from_contamination,
    threshold_max_f1,
)

logger = logging.getLogger(__name__)

THRESHOLD_METHODS = ("auto", "contamination", "max_f1", "recall")


def check_features(X, name: str = "X", n_features: int | None = None) -> np.ndarray:
    """Return ``X`` as a finite 2-D float64 array or raise ``ValueError``.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Feature matrix.
    name : str, default="X"
        Name used in error messages.
    n_features : int, default=None
        Expected number of columns (the number seen at ``fit``).
    """
    if hasattr(X, "to_numpy"):
        X = X.to_numpy()
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must be numeric; convert or drop non-numeric columns "
            f"first ({error})"
        ) from None
    if X.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D (n_samples, n_features), got shape {X.shape}; "
            "use X.reshape(-1, 1) for a single feature"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} has no rows")
    if not np.all(np.isfinite(X)):
        bad = int(np.sum(~np.isfinite(X)))
        raise ValueError(
            f"{name} contains {bad} NaN or infinite values; impute or drop them"
        )
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features but the detector was fitted "
            f"with {n_features}"
        )
    return X


class BaseDetector(BaseEstimator):
    """Base class: scores are higher for more anomalous samples, label 1 = anomaly.

    Subclasses implement ``_fit(X, y)`` and ``_score(X)``; this class checks
    inputs, times the fit and fits the decision threshold.

    The threshold is chosen once, at ``fit`` time, and never from test data:

    - ``threshold_method="contamination"``: the ``1 - contamination``
      quantile of the training scores.
    - ``threshold_method="max_f1"``: the score that maximises anomaly-class F1
      on ``validation_data``.
    - ``threshold_method="recall"``: the highest score that reaches
      ``target_recall`` on ``validation_data``.
    - ``threshold_method="auto"`` (default): ``max_f1`` when labelled
      validation data with both classes is passed, otherwise
      ``contamination``.

    Attributes
    ----------
    threshold_ : float
        Scores at or above it are predicted as anomalies.
    threshold_source_ : str
        Which rule set ``threshold_``.
    n_features_in_ : int
        Number of features seen at ``fit``.
    fit_seconds_ : float
        Wall time of the last ``fit``, threshold included.
    """

    #: Whether ``fit`` learns from the labels ``y``.
    uses_labels = False

    def fit(self, X, y=None, validation_data=None):
        """Fit the detector and its threshold.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,), default=None
            Labels, 1 = anomaly. Unsupervised detectors ignore them.
        validation_data : tuple (X_val, y_val), default=None
            Labelled validation data for the threshold (and, for deep models,
            early stopping). Never pass test data here.

        Returns
        -------
        self : object
            The fitted detector.
        """
        start = time.perf_counter()
        X = check_features(X)
        if y is not None:
            y = check_binary_labels(y)
            if y.shape[0] != X.shape[0]:
                raise ValueError(
                    f"X has {X.shape[0]} rows but y has {y.shape[0]} labels"
                )
        if validation_data is not None:
            validation_data = self._check_validation(validation_data, X.shape[1])
        # Settings are checked before the model is fitted, so that a bad
        # contamination or threshold_method fails before a long fit.
        self._threshold_settings()
        self.n_features_in_ = X.shape[1]
        self._fit(X, y, validation_data)
        self._fit_threshold(X, validation_data)
        self.fit_seconds_ = time.perf_counter() - start
        return self

    def score_samples(self, X) -> np.ndarray:
        """Return anomaly scores of shape (n_samples,), higher = more anomalous."""
        self._check_fitted()
        X = check_features(X, n_features=self.n_features_in_)
        scores = np.asarray(self._score(X), dtype=np.float64).reshape(-1)
        return scores

    def decision_function(self, X) -> np.ndarray:
        """Return ``score_samples(X) - threshold_``; positive means anomaly."""
        return self.score_samples(X) - self.threshold_

    def predict(self, X) -> np.ndarray:
        """Return 1 for anomalies (score at or above ``threshold_``), else 0."""
        return (self.score_samples(X) >= self.threshold_).astype(np.int64)

    def fit_threshold(self, X_val, y_val, method: str = "max_f1") -> BaseDetector:
        """Refit ``threshold_`` on labelled validation data, keeping the model.

        Parameters
        ----------
        X_val : array-like of shape (n_samples, n_features)
            Validation data (never test data).
        y_val : array-like of shape (n_samples,)
            Validation labels, 1 = anomaly, both classes present.
        method : {"max_f1", "recall"}, default="max_f1"
            ``"recall"`` uses the detector's ``target_recall``.
        """
        X_val, y_val = self._check_validation((X_val, y_val), self.n_features_in_)
        scores = self.score_samples(X_val)
        self.threshold_, self.threshold_source_ = self._threshold_from_labels(
            y_val, scores, method
        )
        return self

    # ------------------------------------------------------------------
    # To implement in subclasses
    # ------------------------------------------------------------------

    def _fit(self, X, y, validation_data):  # pragma: no cover - abstract
        raise NotImplementedError

    def _score(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------

    def _check_fitted(self) -> None:
        if not hasattr(self, "threshold_"):
            raise NotFittedError(
                f"This {type(self).__name__} is not fitted yet; call fit(X) first"
            )

    def _check_validation(self, validation_data, n_features):
        try:
            X_val, y_val = validation_data
        except (TypeError, ValueError):
            raise ValueError("validation_data must be a tuple (X_val, y_val)") from None
        X_val = check_features(X_val, "X_val", n_features=n_features)
        y_val = check_binary_labels(y_val, "y_val")
        if y_val.shape[0] != X_val.shape[0]:
            raise ValueError(
                f"X_val has {X_val.shape[0]} rows but y_val has {y_val.shape[0]}"
            )
        return X_val, y_val

    def _threshold_settings(self) -> tuple[str, float, float]:
        method = getattr(self, "threshold_method", "auto")
        if method not in THRESHOLD_METHODS:
            raise ValueError(
                f"threshold_method must be one of {THRESHOLD_METHODS}, got {method!r}"
            )
        contamination = getattr(self, "contamination", 0.1)
        if isinstance(contamination, bool) or not isinstance(
            contamination, numbers.Real
        ):
            raise ValueError(
                f"contamination must be a float in (0, 0.5], got {contamination!r}"
            )
        if not 0.0 < contamination <= 0.5:
            raise ValueError(
                f"contamination must be in (0, 0.5], got {contamination!r}; it is "
                "the expected share of anomalies in the training data"
            )
        target_recall = getattr(self, "target_recall", 0.8)
        if (
            isinstance(target_recall, bool)
            or not isinstance(target_recall, numbers.Real)
            or not 0.0 < target_recall <= 1.0
        ):
            raise ValueError(
                f"target_recall must be a float in (0, 1], got {target_recall!r}"
            )
        return method, contamination, target_recall

    def _threshold_from_labels(self, y_val, scores, method):
        _, _, target_recall = self._threshold_settings()
        if method == "recall":
            return threshold_for_recall(y_val, scores, target_recall), "recall"
        return threshold_max_f1(y_val, scores), "max_f1"

    def _fit_threshold(self, X, validation_data) -> None:
        method, contamination, _ = self._threshold_settings()
        has_both = False
        if validation_data is not None:
            counts = np.bincount(validation_data[1], minlength=2)
            has_both = bool(counts[0] and counts[1])
        if method == "auto":
            method = "max_f1" if has_both else "contamination"
        if method in ("max_f1", "recall"):
            if not has_both:
                raise ValueError(
                    f"threshold_method={method!r} needs validation_data=(X_val, "
                    "y_val) with both classes; pass it, or use "
                    "threshold_method='contamination'"
                )
            X_val, y_val = validation_data
            # A provisional threshold lets score_samples pass the fitted check.
            self.threshold_ = np.inf
            scores = self.score_samples(X_val)
            self.threshold_, self.threshold_source_ = self._threshold_from_labels(
                y_val, scores, method
            )
        else:
            self.threshold_ = threshold_from_contamination(
                self._training_scores(X), contamination
            )
            self.threshold_source_ = "contamination"
        logger.debug(
            "%s threshold %.6g from %s",
            type(self).__name__,
            self.threshold_,
            self.threshold_source_,
        )

    def _training_scores(self, X) -> np.ndarray:
        # Set a provisional threshold so score_samples passes the fitted check.
        self.threshold_ = np.inf
        return self.score_samples(X)
