"""Detector registry: build any model of the suite by name.

Every detector follows :class:`~anomaly_utils.models.base.BaseDetector`:
``fit(X, y=None, validation_data=None)`` returns ``self``,
``score_samples`` returns higher values for more anomalous samples and
``predict`` returns 1 for anomalies, using ``threshold_`` fitted without
test data.
"""

from __future__ import annotations

import importlib
import importlib.util

from .base import BaseDetector, check_features

# Name -> (module, class). Modules import lazily so that the classical
# detectors work without loading TensorFlow.
_REGISTRY = {
    "autoencoder": ("anomaly_utils.models.autoencoder", "AutoencoderDetector"),
    "mlp": ("anomaly_utils.models.mlp", "MLPDetector"),
    "dql": ("anomaly_utils.models.dql", "DQLDetector"),
    "isolation_forest": ("anomaly_utils.models.classical", "IsolationForestDetector"),
    "lof": ("anomaly_utils.models.classical", "LOFDetector"),
    "ocsvm": ("anomaly_utils.models.classical", "OCSVMDetector"),
    "sgd_ocsvm": ("anomaly_utils.models.classical", "SGDOCSVMDetector"),
}

#: Display names used in tables and figures.
DISPLAY_NAMES = {
    "autoencoder": "Autoencoder",
    "mlp": "MLP (supervised)",
    "dql": "Deep Q-Learning",
    "isolation_forest": "Isolation Forest",
    "lof": "Local Outlier Factor",
    "ocsvm": "One-Class SVM",
    "sgd_ocsvm": "SGD One-Class SVM",
}


def available_detectors() -> list[str]:
    """Return the registered detector names whose module is installed."""
    names = []
    for name, (module, _) in _REGISTRY.items():
        if importlib.util.find_spec(module) is not None:
            names.append(name)
    return names


def detector_class(name: str) -> type[BaseDetector]:
    """Return the class registered under ``name``."""
    if name not in _REGISTRY:
        raise ValueError(
            f"Unknown detector {name!r}; choose one of {sorted(_REGISTRY)}"
        )
    module, attribute = _REGISTRY[name]
    return getattr(importlib.import_module(module), attribute)


def make_detector(name: str, **params) -> BaseDetector:
    """Build the detector registered under ``name`` with ``params``.

    Parameters
    ----------
    name : str
        One of ``autoencoder``, ``mlp``, ``dql``, ``isolation_forest``,
        ``lof``, ``ocsvm``, ``sgd_ocsvm``.
    **params
        Constructor parameters of that detector, such as ``random_state``.
    """
    cls = detector_class(name)
    valid = cls._get_param_names()
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise ValueError(
            f"Unknown parameters {unknown} for detector {name!r}; valid "
            f"parameters are {valid}"
        )
    return cls(**params)


def display_name(name: str) -> str:
    """Return the human-readable name of a detector or of one of its variants.

    Variants recorded as ``<detector>_<variant>`` (for example
    ``mlp_class_weight``) read as ``"MLP (supervised): class weight"``.
    """
    if name in DISPLAY_NAMES:
        return DISPLAY_NAMES[name]
    for base, title in DISPLAY_NAMES.items():
        if name.startswith(base + "_"):
            variant = name[len(base) + 1 :].replace("_", " ")
            return f"{title}: {variant}"
    return name


__all__ = [
    "BaseDetector",
    "available_detectors",
    "check_features",
    "detector_class",
    "display_name",
    "make_detector",
]
