"""Project paths, output locations and run profiles."""

from __future__ import annotations

import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

#: Environment variable that moves ``figures/`` and ``results/`` elsewhere.
OUTPUT_DIR_ENV = "ANOMALY_UTILS_OUTPUT_DIR"
#: Environment variable that forbids network downloads when set to ``1``.
OFFLINE_ENV = "ANOMALY_UTILS_OFFLINE"
#: Environment variable that replaces ``data/raw`` (tests point it at an
#: empty folder so that a user's own data file cannot change their results).
RAW_DIR_ENV = "ANOMALY_UTILS_RAW_DIR"

PROFILES = ("quick", "full")


def project_root() -> Path:
    """Return the repository root, where ``notebooks/`` and ``data/`` live.

    The package is installed in editable mode, so the root is the folder
    above the package. When the package is installed elsewhere, the current
    working directory is used instead.
    """
    candidate = Path(__file__).resolve().parents[1]
    if (candidate / "notebooks").is_dir():
        return candidate
    return Path.cwd()


def output_root(output_dir: str | os.PathLike | None = None) -> Path:
    """Return the folder that contains ``figures/`` and ``results/``.

    Parameters
    ----------
    output_dir : str or path-like, default=None
        Explicit folder. When None, the ``ANOMALY_UTILS_OUTPUT_DIR``
        environment variable is used, then the repository root.
    """
    if output_dir:
        return Path(output_dir)
    from_env = os.environ.get(OUTPUT_DIR_ENV)
    if from_env:
        return Path(from_env)
    return project_root()


def figures_dir(output_dir: str | os.PathLike | None = None) -> Path:
    """Return (and create) the folder figures are saved to."""
    path = output_root(output_dir) / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path


def results_dir(output_dir: str | os.PathLike | None = None) -> Path:
    """Return (and create) the folder result records are written to."""
    path = output_root(output_dir) / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def raw_data_dir() -> Path:
    """Return ``data/raw`` under the repository root, or ``$ANOMALY_UTILS_RAW_DIR``."""
    from_env = os.environ.get(RAW_DIR_ENV)
    if from_env:
        return Path(from_env)
    return project_root() / "data" / "raw"


def downloads_allowed() -> bool:
    """Return False when ``ANOMALY_UTILS_OFFLINE=1`` forbids network access."""
    return os.environ.get(OFFLINE_ENV, "0") not in ("1", "true", "yes")


def check_profile(profile: str) -> str:
    """Validate a run profile name and return it.

    Raises
    ------
    ValueError
        If ``profile`` is not ``"quick"`` or ``"full"``.
    """
    if profile not in PROFILES:
        raise ValueError(
            f"Unknown profile {profile!r}; use one of {PROFILES} "
            "(quick for a few-minute run, full for full-size data)."
        )
    return profile
