"""Classical detectors: scikit-learn estimators behind the suite's contract.

scikit-learn's outlier detectors return ``score_samples`` with higher values
for more normal samples. The wrappers here negate those scores once, in
:class:`_SklearnDetector`, so that every detector of the suite scores
anomalies higher. The wrapped estimator is kept in ``estimator_``.
"""

from __future__ import annotations

import logging
import numbers

import numpy as np
from sklearn.ensemble import IsolationForest
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import SGDOneClassSVM
from sklearn.neighbors import LocalOutlierFactor
from sklearn.pipeline import Pipeline
from sklearn.svm import OneClassSVM

from ..seeding import derive_seed
from .base import BaseDetector

logger = logging.getLogger(__name__)

# Offsets passed to derive_seed, so that the subsample and the estimator
# draw from separate streams of one random_state.
_SUBSAMPLE_SEED_OFFSET = 0
_ESTIMATOR_SEED_OFFSET = 1


def _check_max_train_samples(max_train_samples) -> None:
    if max_train_samples is None:
        return
    if (
        isinstance(max_train_samples, bool)
        or not isinstance(max_train_samples, numbers.Integral)
        or max_train_samples < 2
    ):
        raise ValueError(
            "max_train_samples must be an integer >= 2 or None (no cap), got "
            f"{max_train_samples!r}"
        )


class _SklearnDetector(BaseDetector):
    """Shared base of the classical wrappers: subsampling and the score flip.

    Subclasses implement ``_build_estimator(X, seed)`` and may set
    ``max_train_samples``. This class fits the estimator on at most that
    many rows and scores with the negated ``score_samples`` of the estimator.
    """

    def _build_estimator(self, X: np.ndarray, seed: int):  # pragma: no cover
        raise NotImplementedError

    def _fit(self, X, y, validation_data):
        max_train_samples = getattr(self, "max_train_samples", None)
        _check_max_train_samples(max_train_samples)

        X_fit = X
        if max_train_samples is not None and X.shape[0] > max_train_samples:
            rng = np.random.default_rng(
                derive_seed(self.random_state, _SUBSAMPLE_SEED_OFFSET)
            )
            rows = np.sort(rng.choice(X.shape[0], max_train_samples, replace=False))
            X_fit = X[rows]
            logger.info(
                "%s: fitting on a random subsample of %d of %d training rows "
                "(max_train_samples=%d)",
                type(self).__name__,
                max_train_samples,
                X.shape[0],
                max_train_samples,
            )
        self.n_train_samples_ = X_fit.shape[0]

        seed = derive_seed(self.random_state, _ESTIMATOR_SEED_OFFSET)
        self.estimator_ = self._build_estimator(X_fit, seed)
        self.estimator_.fit(X_fit)

    def _score(self, X):
        # scikit-learn scores normal samples higher; negate once, here.
        return -self.estimator_.score_samples(X)


class IsolationForestDetector(_SklearnDetector):
    """Isolation Forest scored by the negated scikit-learn ``score_samples``.

    The score of a sample is the average path-length anomaly score of
    Liu et al. (2008), in (0, 1]. Values near 1 are anomalous and values
    well below 0.5 are normal.

    Parameters
    ----------
    n_estimators : int, default=100
        Number of trees.
    max_samples : "auto", int or float, default="auto"
        Rows drawn for each tree; ``"auto"`` uses ``min(256, n_samples)``.
    n_jobs : int, default=None
        Parallel jobs for fit and scoring; None means 1, -1 all cores.
    contamination : float, default=0.1
        Expected share of anomalies in the training data, used by the
        ``"contamination"`` threshold.
    threshold_method : {"auto", "contamination", "max_f1", "recall"}, default="auto"
        How ``threshold_`` is fitted; see
        :class:`~anomaly_utils.models.base.BaseDetector`.
    target_recall : float, default=0.8
        Validation recall reached by the ``"recall"`` threshold.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the tree construction.

    Attributes
    ----------
    estimator_ : sklearn.ensemble.IsolationForest
        The fitted forest.
    n_train_samples_ : int
        Number of rows the forest was fitted on.
    threshold_ : float
        Scores at or above it are predicted as anomalies.
    """

    def __init__(
        self,
        n_estimators=100,
        max_samples="auto",
        n_jobs=None,
        contamination=0.1,
        threshold_method="auto",
        target_recall=0.8,
        random_state=None,
    ):
        self.n_estimators = n_estimators
        self.max_samples = max_samples
        self.n_jobs = n_jobs
        self.contamination = contamination
        self.threshold_method = threshold_method
        self.target_recall = target_recall
        self.random_state = random_state

    def _build_estimator(self, X, seed):
        return IsolationForest(
            n_estimators=self.n_estimators,
            max_samples=self.max_samples,
            n_jobs=self.n_jobs,
            random_state=seed,
        )


class LOFDetector(_SklearnDetector):
    """Local Outlier Factor in novelty mode, scored by the LOF itself.

    Scores near 1 mean a local density like that of the neighbours, and
    larger values are anomalous.

    Parameters
    ----------
    n_neighbors : int, default=20
        Neighbours used for the local density.
    max_train_samples : int or None, default=20_000
        Fit on a random subsample of this many rows when the training set is
        larger; None fits on every row.
    n_jobs : int, default=None
        Parallel jobs for the neighbour search; None means 1, -1 all cores.
    contamination : float, default=0.1
        Expected share of anomalies in the training data, used by the
        ``"contamination"`` threshold.
    threshold_method : {"auto", "contamination", "max_f1", "recall"}, default="auto"
        How ``threshold_`` is fitted; see
        :class:`~anomaly_utils.models.base.BaseDetector`.
    target_recall : float, default=0.8
        Validation recall reached by the ``"recall"`` threshold.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the training subsample.

    Attributes
    ----------
    estimator_ : sklearn.neighbors.LocalOutlierFactor
        The fitted estimator (``novelty=True``).
    n_train_samples_ : int
        Number of rows the estimator was fitted on.
    threshold_ : float
        Scores at or above it are predicted as anomalies.

    Notes
    -----
    Fitting computes the neighbours of every fitted row and scoring computes
    the neighbours of every scored row among the fitted rows, so both cost
    about (rows) x ``n_train_samples_`` distances. With the default cap of
    20,000 rows, scoring the 57,000 test rows of the full credit-card data
    takes about 10**9 distances. Without the cap, fitting its 227,000
    training rows alone would take about 5 x 10**10.

    The ``"contamination"`` threshold uses the leave-one-out LOF of the
    fitted rows (``-negative_outlier_factor_``), not ``score_samples`` on
    them: in novelty mode each fitted row would count itself as a neighbour
    and score too low.
    """

    def __init__(
        self,
        n_neighbors=20,
        max_train_samples=20_000,
        n_jobs=None,
        contamination=0.1,
        threshold_method="auto",
        target_recall=0.8,
        random_state=None,
    ):
        self.n_neighbors = n_neighbors
        self.max_train_samples = max_train_samples
        self.n_jobs = n_jobs
        self.contamination = contamination
        self.threshold_method = threshold_method
        self.target_recall = target_recall
        self.random_state = random_state

    def _build_estimator(self, X, seed):
        return LocalOutlierFactor(
            n_neighbors=self.n_neighbors, novelty=True, n_jobs=self.n_jobs
        )

    def _training_scores(self, X):
        # The fitted rows are all of X or a uniform random subsample of it,
        # so their quantile estimates the training quantile.
        return -self.estimator_.negative_outlier_factor_


class OCSVMDetector(_SklearnDetector):
    """One-Class SVM with an RBF kernel, scored by the negated SVM score.

    Parameters
    ----------
    nu : float in (0, 1], default=0.1
        Upper bound on the share of training rows outside the boundary and
        lower bound on the share of support vectors.
    gamma : "scale", "auto" or float, default="scale"
        RBF kernel coefficient; ``"scale"`` is ``1 / (n_features * X.var())``.
    max_train_samples : int or None, default=10_000
        Fit on a random subsample of this many rows when the training set is
        larger; None fits on every row.
    contamination : float, default=0.1
        Expected share of anomalies in the training data, used by the
        ``"contamination"`` threshold.
    threshold_method : {"auto", "contamination", "max_f1", "recall"}, default="auto"
        How ``threshold_`` is fitted; see
        :class:`~anomaly_utils.models.base.BaseDetector`.
    target_recall : float, default=0.8
        Validation recall reached by the ``"recall"`` threshold.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the training subsample.

    Attributes
    ----------
    estimator_ : sklearn.svm.OneClassSVM
        The fitted SVM.
    n_train_samples_ : int
        Number of rows the SVM was fitted on.
    threshold_ : float
        Scores at or above it are predicted as anomalies.

    Notes
    -----
    libsvm's fit time grows faster than quadratically with the number of
    rows, and scoring costs one kernel evaluation per support vector (at
    least ``nu * n_train_samples_`` of them) for every scored row. On 29
    heavy-tailed features, fits took about 1 s for 10,000 rows, 6 s for
    20,000 and 80 s for 40,000 (scikit-learn 1.9, two shared CPU cores).
    By that trend, the 227,000 training rows of the full credit-card data
    would take hours (an extrapolation, not measured). The default cap of
    10,000 rows keeps the fit short and scoring 57,000 rows to seconds. For
    more rows, use :class:`SGDOCSVMDetector`, which is linear in the number
    of rows.
    """

    def __init__(
        self,
        nu=0.1,
        gamma="scale",
        max_train_samples=10_000,
        contamination=0.1,
        threshold_method="auto",
        target_recall=0.8,
        random_state=None,
    ):
        self.nu = nu
        self.gamma = gamma
        self.max_train_samples = max_train_samples
        self.contamination = contamination
        self.threshold_method = threshold_method
        self.target_recall = target_recall
        self.random_state = random_state

    def _build_estimator(self, X, seed):
        return OneClassSVM(kernel="rbf", nu=self.nu, gamma=self.gamma)


class SGDOCSVMDetector(_SklearnDetector):
    """Linear One-Class SVM trained by SGD on a Nystroem approximation of RBF.

    The pipeline ``Nystroem -> SGDOneClassSVM`` approximates
    :class:`OCSVMDetector` in time linear in the number of rows, as in
    scikit-learn's example "Comparing anomaly detection algorithms for
    outlier detection on toy datasets". The score is the negated
    ``score_samples`` of the pipeline.

    Parameters
    ----------
    nu : float in (0, 1], default=0.1
        Share of training rows allowed outside the boundary.
    gamma : "scale" or float, default="scale"
        RBF kernel coefficient of the Nystroem map; ``"scale"`` is
        ``1 / (n_features * X.var())``, the same value :class:`OCSVMDetector`
        uses.
    n_components : int, default=150
        Number of Nystroem landmark rows, the dimension of the feature map.
    max_iter : int, default=1000
        Maximum passes over the training data.
    tol : float, default=1e-6
        Stopping tolerance of SGD.
    contamination : float, default=0.1
        Expected share of anomalies in the training data, used by the
        ``"contamination"`` threshold.
    threshold_method : {"auto", "contamination", "max_f1", "recall"}, default="auto"
        How ``threshold_`` is fitted; see
        :class:`~anomaly_utils.models.base.BaseDetector`.
    target_recall : float, default=0.8
        Validation recall reached by the ``"recall"`` threshold.
    random_state : int, numpy.random.Generator or None, default=None
        Seed of the landmark choice and the SGD shuffling.

    Attributes
    ----------
    estimator_ : sklearn.pipeline.Pipeline
        Steps ``"nystroem"`` and ``"sgd_ocsvm"``.
    gamma_ : float
        Kernel coefficient used, after resolving ``"scale"``.
    n_train_samples_ : int
        Number of rows the pipeline was fitted on.
    threshold_ : float
        Scores at or above it are predicted as anomalies.

    Notes
    -----
    The pipeline has no ``StandardScaler``: with ``gamma="scale"`` the
    kernel width follows the overall variance of the data, as in
    :class:`OCSVMDetector`, so both detectors see the same kernel on the
    same input. Standardise the features first when their scales differ,
    for both detectors alike.
    """

    def __init__(
        self,
        nu=0.1,
        gamma="scale",
        n_components=150,
        max_iter=1000,
        tol=1e-6,
        contamination=0.1,
        threshold_method="auto",
        target_recall=0.8,
        random_state=None,
    ):
        self.nu = nu
        self.gamma = gamma
        self.n_components = n_components
        self.max_iter = max_iter
        self.tol = tol
        self.contamination = contamination
        self.threshold_method = threshold_method
        self.target_recall = target_recall
        self.random_state = random_state

    def _resolve_gamma(self, X) -> float:
        if isinstance(self.gamma, str):
            if self.gamma != "scale":
                raise ValueError(
                    f"gamma must be 'scale' or a positive float, got {self.gamma!r}"
                )
            variance = float(X.var())
            # Constant data has no scale, so use 1 / n_features, which
            # scikit-learn's SVC also falls back to in that case.
            return 1.0 / (X.shape[1] * variance) if variance > 0 else 1.0 / X.shape[1]
        if (
            isinstance(self.gamma, bool)
            or not isinstance(self.gamma, numbers.Real)
            or not self.gamma > 0
        ):
            raise ValueError(
                f"gamma must be 'scale' or a positive float, got {self.gamma!r}"
            )
        return float(self.gamma)

    def _build_estimator(self, X, seed):
        self.gamma_ = self._resolve_gamma(X)
        return Pipeline(
            [
                (
                    "nystroem",
                    Nystroem(
                        kernel="rbf",
                        gamma=self.gamma_,
                        n_components=self.n_components,
                        random_state=seed,
                    ),
                ),
                (
                    "sgd_ocsvm",
                    SGDOneClassSVM(
                        nu=self.nu,
                        max_iter=self.max_iter,
                        tol=self.tol,
                        shuffle=True,
                        fit_intercept=True,
                        random_state=seed,
                    ),
                ),
            ]
        )
