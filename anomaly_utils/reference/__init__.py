"""Published ROC-AUC of classical detectors on the ADBench datasets.

The table ``adbench_semisupervised_rocauc.csv`` copies, for Isolation Forest,
LOF, One-Class SVM, KNN and a VAE on the 57 ADBench datasets, the ROC-AUC
(mean and standard deviation over seeds 0-4) of Table 1 of the README of the
official code of "On Diffusion Modeling for Anomaly Detection" (Livernoche,
Jain, Hezaveh and Rabbany, ICLR 2024; repository vicliv/DTE, commit
2aef173). Its protocol is semi-supervised: each seed trains on a random half
of the normal points and tests on the other half plus all anomalies. The
detectors came from PyOD through ADBench with their default hyperparameters.
The CSV's first lines (starting with ``#``) name that source.
"""

from __future__ import annotations

import logging
from importlib import resources

import pandas as pd

logger = logging.getLogger(__name__)

#: File name of the published table inside this package.
REFERENCE_FILE = "adbench_semisupervised_rocauc.csv"
#: Short citation for figure titles and table captions.
REFERENCE_SOURCE = (
    "Livernoche et al., ICLR 2024 (DTE), Table 1: ADBench datasets, "
    "semi-supervised protocol, mean of 5 seeds"
)
#: Detector names of the published table, in table order.
REFERENCE_DETECTORS = ("IForest", "LOF", "OCSVM", "KNN", "VAE")
#: Registry name of each detector of this suite -> published detector it is
#: compared with. The autoencoder is a plain (not variational) autoencoder,
#: so its match with the VAE is the closest published one, not the same model.
REGISTRY_TO_REFERENCE = {
    "isolation_forest": "IForest",
    "lof": "LOF",
    "ocsvm": "OCSVM",
    "autoencoder": "VAE",
}
#: Columns of the table returned by :func:`load_reference`.
REFERENCE_COLUMNS = ("dataset", "detector", "roc_auc_mean", "roc_auc_sd")


def load_reference() -> pd.DataFrame:
    """Read the published ROC-AUC table.

    Returns
    -------
    pandas.DataFrame
        One row per (dataset, detector) with columns ``dataset`` (lower-case
        ADBench name without number prefix, such as ``"cardio"``),
        ``detector`` (one of ``REFERENCE_DETECTORS``), ``roc_auc_mean`` and
        ``roc_auc_sd`` (fractions in [0, 1]).
    """
    source = resources.files(__name__).joinpath(REFERENCE_FILE)
    with source.open("r", encoding="utf-8") as handle:
        table = pd.read_csv(handle, comment="#")
    return table.loc[:, list(REFERENCE_COLUMNS)]


def reference_source() -> str:
    """Return the source lines (without ``#``) at the top of the reference CSV."""
    source = resources.files(__name__).joinpath(REFERENCE_FILE)
    lines = []
    with source.open("r", encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            lines.append(line.lstrip("#").strip())
    return "\n".join(lines)


def published_for_registry(detectors=None) -> pd.DataFrame:
    """Return the published ROC-AUC keyed by this suite's registry names.

    Parameters
    ----------
    detectors : iterable of str, default=None
        Registry names to keep; None keeps every name in
        ``REGISTRY_TO_REFERENCE``. Names without a published counterpart
        are skipped.

    Returns
    -------
    pandas.DataFrame
        Columns ``dataset``, ``model`` (registry name), ``reference``
        (published detector name), ``published`` (mean ROC-AUC) and
        ``published_sd``.
    """
    names = REGISTRY_TO_REFERENCE if detectors is None else detectors
    mapping = {n: REGISTRY_TO_REFERENCE[n] for n in names if n in REGISTRY_TO_REFERENCE}
    table = load_reference()
    frames = []
    for model, published in mapping.items():
        rows = table[table["detector"] == published]
        frames.append(
            pd.DataFrame(
                {
                    "dataset": rows["dataset"].to_numpy(),
                    "model": model,
                    "reference": published,
                    "published": rows["roc_auc_mean"].to_numpy(),
                    "published_sd": rows["roc_auc_sd"].to_numpy(),
                }
            )
        )
    if not frames:
        return pd.DataFrame(
            columns=["dataset", "model", "reference", "published", "published_sd"]
        )
    return pd.concat(frames, ignore_index=True)


__all__ = [
    "REFERENCE_COLUMNS",
    "REFERENCE_DETECTORS",
    "REFERENCE_FILE",
    "REFERENCE_SOURCE",
    "REGISTRY_TO_REFERENCE",
    "load_reference",
    "published_for_registry",
    "reference_source",
]
