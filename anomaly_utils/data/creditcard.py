"""The credit-card fraud data: a validating reader, a loader and a synthetic stand-in.

The data is the Kaggle "Credit Card Fraud Detection" set (mlg-ulb/creditcardfraud,
also OpenML dataset 1597): 284,807 card transactions over two days with 492
frauds. Columns are ``Time`` (seconds since the first transaction), ``V1`` to
``V28`` (PCA components), ``Amount`` and ``Class`` (1 = fraud).

:func:`load_creditcard` resolves the data in this order: an explicit path, the
file ``data/raw/creditcard.csv``, a cached or new download from OpenML, and a
synthetic stand-in with the same schema as the last resort.
"""

from __future__ import annotations

import csv
import logging
import os
import tempfile
from collections import Counter
from dataclasses import dataclass
from numbers import Real
from pathlib import Path

import numpy as np
import pandas as pd
import requests

from .. import config
from ._arff import read_dense_arff
from ._download import DownloadError, download_to_file
from ._synthetic import (
    MAX_TIME_SECONDS,
    REAL_FRAUD_RATE,
    make_synthetic_creditcard,
)

__all__ = [
    "CREDITCARD_COLUMNS",
    "FEATURE_COLUMNS",
    "LABEL_COLUMN",
    "MAX_TIME_SECONDS",
    "OPENML_URL",
    "REAL_FRAUD_RATE",
    "CreditCardData",
    "CreditCardDataError",
    "load_creditcard",
    "make_synthetic_creditcard",
    "read_creditcard_csv",
    "validate_creditcard_frame",
]

logger = logging.getLogger(__name__)

#: Columns of the Kaggle file, in order.
CREDITCARD_COLUMNS = (
    ("Time",) + tuple(f"V{i}" for i in range(1, 29)) + ("Amount", "Class")
)
#: Numeric input columns (every column but ``Class``).
FEATURE_COLUMNS = CREDITCARD_COLUMNS[:-1]
#: Label column: 1 = fraud, 0 = normal transaction.
LABEL_COLUMN = "Class"

#: File name looked up under ``data/raw/``.
KAGGLE_FILE_NAME = "creditcard.csv"
#: File name of the converted OpenML download in the cache folder.
OPENML_CACHE_NAME = "creditcard_openml.csv"
#: OpenML dataset id of the same data.
OPENML_DATASET_ID = 1597
#: Download address of OpenML dataset 1597 (file id 1673544). It returns the
#: data as dense ARFF text, about as large as the 150 MB Kaggle CSV:
#: ``@attribute`` lines naming the 31 columns, then one comma-separated row
#: per transaction, where the nominal ``Class`` value may be quoted (``'0'``).
#: NOTE: the address and format come from published code that downloads this
#: file, not from a run against the live server. The reader also accepts a
#: CSV response.
OPENML_URL = "https://www.openml.org/data/v1/download/1673544/creditcard.arff"

#: Values of ``CreditCardData.source``.
SOURCES = ("file", "download", "synthetic")

_INDEX_COLUMN_NAMES = ("", "unnamed: 0", "index")
_OTHER_DELIMITERS = {";": "semicolons", "\t": "tabs", "|": "pipes"}
_MAX_LISTED = 5


class CreditCardDataError(ValueError):
    """A credit-card file is missing, unreadable or breaks the expected schema.

    Every message names the file, the problem (column, line, value) and how
    to fix it.
    """


def _fail(source, problem: str, fix: str) -> CreditCardDataError:
    return CreditCardDataError(f"Invalid credit-card file {source}: {problem}. {fix}")


# --------------------------------------------------------------------------
# Reading and validating a file
# --------------------------------------------------------------------------


def _check_is_file(path: Path) -> None:
    if not path.exists():
        raise CreditCardDataError(
            f"Credit-card file {path} not found. Check the path, or put the Kaggle "
            f"file at data/raw/{KAGGLE_FILE_NAME} (see data/raw/README.md)."
        )
    if not path.is_file():
        raise _fail(
            path,
            "the path is a directory, not a file",
            f"Pass the CSV file inside it, such as {path / KAGGLE_FILE_NAME}.",
        )
    if path.stat().st_size == 0:
        raise _fail(
            path,
            "the file is empty (0 bytes)",
            "Download the file again; the Kaggle file is about 150 MB.",
        )


def _read_header(path: Path, source) -> list[str]:
    """Return the raw column names of the first line of ``path``."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            line = handle.readline()
    except UnicodeDecodeError as error:
        raise _fail(
            source,
            f"the header is not UTF-8 text ({error.reason} at byte {error.start})",
            "Pass the CSV file, not a compressed or binary file.",
        ) from None
    if not line.strip():
        raise _fail(
            source,
            "the first line is blank",
            "The first line must be the header Time,V1,...,V28,Amount,Class.",
        )
    fields = next(csv.reader([line]))
    if len(fields) == 1:
        for delimiter, word in _OTHER_DELIMITERS.items():
            if delimiter in line:
                raise _fail(
                    source,
                    f"the header has one column because the fields are separated "
                    f"by {word} ({delimiter!r}), not commas",
                    f"Rewrite it with commas, for example "
                    f"pandas.read_csv(path, sep={delimiter!r}).to_csv(path, "
                    "index=False).",
                )
        raise _fail(
            source,
            f"the header has a single column {fields[0].strip()!r} and no "
            "delimiter was detected",
            "The file must be comma-separated with the header "
            "Time,V1,...,V28,Amount,Class.",
        )
    return fields


def _normalise_name(name: str) -> str:
    return name.strip().strip("\"'").strip()


def _check_columns(names: list[str], source) -> None:
    """Raise unless ``names`` are the 31 expected columns, in any order."""
    duplicates = {name: n for name, n in Counter(names).items() if n > 1}
    if duplicates:
        listed = ", ".join(f"{name!r} ({n} times)" for name, n in duplicates.items())
        raise _fail(
            source,
            f"duplicate column names: {listed}",
            "Keep one column of each name.",
        )

    expected = set(CREDITCARD_COLUMNS)
    if (
        len(names) == len(CREDITCARD_COLUMNS) + 1
        and names[0].lower() in _INDEX_COLUMN_NAMES
        and set(names[1:]) == expected
    ):
        raise _fail(
            source,
            f"the first column {names[0]!r} is a row index, as written by "
            "DataFrame.to_csv(index=True)",
            "Drop the index column: write the file with to_csv(path, index=False) "
            "or read it with pandas.read_csv(path, index_col=0).",
        )

    missing = [name for name in CREDITCARD_COLUMNS if name not in names]
    unexpected = [name for name in names if name not in expected]
    if not missing and not unexpected:
        return
    problems = []
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if unexpected:
        problems.append(f"unexpected column(s) {', '.join(map(repr, unexpected))}")
    by_lower = {name.lower(): name for name in missing}
    renames = [
        f"{name!r} to {by_lower[name.lower()]!r}"
        for name in unexpected
        if name.lower() in by_lower
    ]
    fix = (
        f"The file must have exactly the {len(CREDITCARD_COLUMNS)} columns "
        "Time, V1..V28, Amount, Class."
    )
    if renames:
        fix += f" Rename {', '.join(renames)}."
    raise _fail(source, "; ".join(problems), fix)


def read_creditcard_csv(path) -> pd.DataFrame:
    """Read and validate a credit-card CSV file in the Kaggle schema.

    Header names are stripped of surrounding spaces and quotes, so both the
    Kaggle header ``"Time","V1",...`` and a plain ``Time,V1,...`` are read.
    Columns may come in any order and are returned in
    :data:`CREDITCARD_COLUMNS` order. Labels may be ``0``/``1`` as integers,
    floats (``0.0``, ``1.0``) or quoted strings (``"0"`` or ``'0'``).
    Duplicated rows are kept (the Kaggle file has 1,081) and counted in an
    INFO log line.

    Parameters
    ----------
    path : str or path-like
        CSV file with the header ``Time,V1,...,V28,Amount,Class``.

    Returns
    -------
    pandas.DataFrame of shape (n_rows, 31)
        Float64 feature columns and an int64 ``Class`` column (1 = fraud),
        with a fresh ``RangeIndex``.

    Raises
    ------
    CreditCardDataError
        If the file is missing, a directory, empty or has no data rows. If it
        is not comma-separated, or its columns are not exactly the 31
        expected names (missing, renamed, extra, duplicated or an index
        column). If a feature cell is non-numeric, missing or infinite, a
        label is not 0 or 1, or only one class is present. The message names
        the file, the column, the first bad line (the header is line 1) and
        the fix.
    """
    path = Path(path)
    _check_is_file(path)
    return _read_csv(path, source=path)


def _read_csv(path: Path, source) -> pd.DataFrame:
    """Read the CSV file ``path``; error messages name ``source``."""
    names = [_normalise_name(name) for name in _read_header(path, source)]
    _check_columns(names, source)
    try:
        frame = pd.read_csv(
            path,
            header=0,
            index_col=False,
            skip_blank_lines=False,
            encoding="utf-8-sig",
            low_memory=False,
        )
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as error:
        raise _fail(
            source,
            f"the CSV parser failed ({str(error).strip()})",
            "Check that every line has 31 comma-separated fields.",
        ) from None
    if frame.shape[1] != len(names):
        raise _fail(
            source,
            f"the header has {len(names)} fields but pandas read "
            f"{frame.shape[1]} columns",
            "Check the header line for stray quotes or delimiters.",
        )
    frame.columns = names
    return validate_creditcard_frame(frame, source)


def _line_numbers(mask: np.ndarray, first_line: int) -> np.ndarray:
    return np.flatnonzero(mask) + first_line


def _check_feature_text(frame: pd.DataFrame, source, first_line: int) -> None:
    """Raise for the first feature column that contains a non-numeric cell."""
    for column in FEATURE_COLUMNS:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values):
            continue
        converted = pd.to_numeric(values, errors="coerce")
        bad = (converted.isna() & values.notna()).to_numpy()
        if not bad.any():
            frame[column] = converted
            continue
        lines = _line_numbers(bad, first_line)
        first = np.flatnonzero(bad)[0]
        raise _fail(
            source,
            f"column {column!r} has {bad.sum()} non-numeric cell(s), the first "
            f"{values.iloc[first]!r} on line {lines[0]}",
            "Fix or remove those rows; every column but Class must hold numbers.",
        )


def _check_finite(features: np.ndarray, source, first_line: int) -> None:
    for kind, mask, fix in (
        (
            "missing (empty or NaN)",
            np.isnan(features),
            "Fill or drop those rows; the loader does not impute.",
        ),
        (
            "infinite",
            np.isinf(features),
            "Replace or drop those rows.",
        ),
    ):
        if not mask.any():
            continue
        bad_rows = mask.any(axis=1)
        first = np.flatnonzero(bad_rows)[0]
        columns = [FEATURE_COLUMNS[j] for j in np.flatnonzero(mask[first])]
        raise _fail(
            source,
            f"{int(mask.sum())} {kind} value(s) in {int(bad_rows.sum())} row(s), "
            f"the first on line {first + first_line} in column(s) "
            f"{', '.join(columns)}",
            fix,
        )


def _parse_labels(labels: pd.Series, source, first_line: int) -> np.ndarray:
    """Return ``labels`` as int64 0/1 or raise, naming the bad values and lines."""
    missing = labels.isna().to_numpy()
    if missing.any():
        lines = _line_numbers(missing, first_line)
        raise _fail(
            source,
            f"column 'Class' has {missing.sum()} missing label(s), the first on "
            f"line {lines[0]}",
            "Every row needs a label 0 (normal) or 1 (fraud).",
        )
    if pd.api.types.is_numeric_dtype(labels):
        numbers = labels.astype(np.float64)
    else:
        text = labels.astype(str).str.strip().str.strip("\"'").str.strip()
        numbers = pd.to_numeric(text, errors="coerce")
    bad = ~numbers.isin([0.0, 1.0]).to_numpy()
    if bad.any():
        offending = labels[bad]
        first_seen = offending.drop_duplicates()
        listed = ", ".join(
            f"{value!r} (line {index + first_line})"
            for index, value in first_seen.iloc[:_MAX_LISTED].items()
        )
        raise _fail(
            source,
            f"column 'Class' must be 0 (normal) or 1 (fraud), but {bad.sum()} "
            f"row(s) hold other values: {listed}",
            "Map the labels to 0 and 1 before loading.",
        )
    return numbers.to_numpy(dtype=np.int64)


def validate_creditcard_frame(
    frame: pd.DataFrame, source, first_line: int = 2
) -> pd.DataFrame:
    """Validate a raw credit-card table and return it in the checked schema.

    :func:`read_creditcard_csv` calls this after reading a file; the OpenML
    download goes through it too.

    Parameters
    ----------
    frame : pandas.DataFrame
        Table with exactly the columns of :data:`CREDITCARD_COLUMNS`, in any
        order, with numbers or text cells.
    source : str or path-like
        File or address named in error messages.
    first_line : int, default=2
        Line number of ``frame``'s first row in the file (2 below a header).

    Returns
    -------
    pandas.DataFrame of shape (n_rows, 31)
        Float64 features and int64 ``Class``, with a fresh ``RangeIndex``.

    Raises
    ------
    CreditCardDataError
        As listed in :func:`read_creditcard_csv`.
    """
    _check_columns([str(name) for name in frame.columns], source)
    frame = frame.reset_index(drop=True)
    # A file that ends in blank lines gives all-empty rows at the end.
    filled = frame.notna().any(axis=1).to_numpy()
    n_kept = np.flatnonzero(filled)[-1] + 1 if filled.any() else 0
    if n_kept < len(frame):
        frame = frame.iloc[:n_kept]
    if frame.empty:
        raise _fail(
            source,
            "the file has a header but no data rows",
            "Use the full data file; a header alone cannot be used.",
        )

    _check_feature_text(frame, source, first_line)
    features = frame[list(FEATURE_COLUMNS)].to_numpy(dtype=np.float64)
    _check_finite(features, source, first_line)
    labels = _parse_labels(frame[LABEL_COLUMN], source, first_line)

    classes = np.unique(labels)
    if classes.size < 2:
        raise _fail(
            source,
            f"all {labels.size} rows have Class {classes[0]}",
            "The data needs both normal (0) and fraud (1) rows; use the full "
            "file, not a one-class extract.",
        )

    result = pd.DataFrame(features, columns=list(FEATURE_COLUMNS))
    result[LABEL_COLUMN] = labels
    # Comparing 64-bit row hashes is several times faster than
    # DataFrame.duplicated on 31 float columns; a collision is improbable.
    row_hashes = pd.util.hash_pandas_object(result, index=False)
    n_duplicates = int(row_hashes.duplicated().sum())
    if n_duplicates:
        logger.info(
            "%s: %d duplicated row(s) kept (the Kaggle file has 1,081)",
            source,
            n_duplicates,
        )
    logger.debug("%s: %d rows, %d frauds", source, len(result), int(labels.sum()))
    return result


# --------------------------------------------------------------------------
# The OpenML download
# --------------------------------------------------------------------------


def _read_arff(path: Path, source: str) -> pd.DataFrame:
    """Parse an ARFF file with the 31 credit-card attributes into the schema."""
    try:
        frame, first_line = read_dense_arff(path)
    except ValueError as error:
        raise _fail(
            source, str(error), "Download the file again; it may be incomplete."
        ) from None
    # OpenML may spell attribute names in its own case; match them
    # case-insensitively to the Kaggle names.
    canonical = {name.lower(): name for name in CREDITCARD_COLUMNS}
    frame.columns = [canonical.get(str(name).lower(), name) for name in frame.columns]
    return validate_creditcard_frame(frame, source, first_line=first_line)


def _read_download(path: Path, source: str) -> pd.DataFrame:
    """Parse a downloaded file, ARFF or CSV, into the validated schema."""
    with open(path, encoding="utf-8", errors="replace") as handle:
        first = ""
        for line in handle:
            if line.strip() and not line.lstrip().startswith("%"):
                first = line.strip()
                break
    if first.lower().startswith("@relation"):
        return _read_arff(path, source)
    if first.strip("\"'").startswith("Time"):
        return _read_csv(path, source)
    raise _fail(
        source,
        f"the download is neither ARFF nor CSV; it starts with {first[:80]!r}",
        "Check the download address, or download the file by hand "
        "(see data/raw/README.md).",
    )


def _write_csv_atomically(frame: pd.DataFrame, target: Path) -> None:
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    os.close(handle)
    try:
        frame.to_csv(temporary, index=False)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _fetch_openml(url: str, target: Path, timeout: float) -> pd.DataFrame:
    """Download ``url``, validate it and save it to ``target`` as a Kaggle CSV.

    Nothing is left in ``target``'s folder when any step fails.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, download = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".download", dir=target.parent
    )
    os.close(handle)
    download = Path(download)
    try:
        download_to_file(
            url, download, timeout=timeout, description=f"OpenML {OPENML_DATASET_ID}"
        )
        frame = _read_download(download, source=url)
        _write_csv_atomically(frame, target)
    finally:
        download.unlink(missing_ok=True)
    logger.info("Saved the OpenML credit-card data to %s", target)
    return frame


# --------------------------------------------------------------------------
# Resolution
# --------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CreditCardData:
    """Credit-card data together with where it came from.

    Attributes
    ----------
    frame : pandas.DataFrame of shape (n_rows, 31)
        Validated table with :data:`CREDITCARD_COLUMNS`.
    source : {"file", "download", "synthetic"}
        ``"file"`` for an explicit path or ``data/raw/creditcard.csv``,
        ``"download"`` for the OpenML download (new or cached) and
        ``"synthetic"`` for :func:`make_synthetic_creditcard`.
    path : Path or None
        File the data was read from; None for synthetic data.
    """

    frame: pd.DataFrame
    source: str
    path: Path | None = None

    def __post_init__(self):
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")

    @property
    def is_synthetic(self) -> bool:
        """Whether the data is the synthetic stand-in."""
        return self.source == "synthetic"

    @property
    def label(self) -> str:
        """Short description for figure titles and log lines."""
        if self.is_synthetic:
            return "SYNTHETIC stand-in"
        return f"real ({self.path.name})" if self.path is not None else "real"


def load_creditcard(
    path=None,
    *,
    allow_download: bool = True,
    synthetic_rows: int = 284_807,
    random_state=0,
    cache_dir=None,
    url: str = OPENML_URL,
    timeout: float = 30,
) -> CreditCardData:
    """Load the credit-card data from the first source that has it.

    Resolution order:

    1. ``path``, when given. A missing or invalid file raises; there is no
       fallback.
    2. ``data/raw/creditcard.csv`` under :func:`anomaly_utils.config.raw_data_dir`.
       An invalid file there raises too.
    3. The OpenML download cached as ``creditcard_openml.csv`` in
       ``cache_dir``. A cached file is read even when downloads are
       disabled, because reading it needs no network.
    4. A new download from ``url`` (OpenML dataset 1597), when
       ``allow_download`` is true and ``ANOMALY_UTILS_OFFLINE`` is not set.
       The file is parsed, validated and saved to the cache in the Kaggle
       CSV schema through a temporary file and a rename, so a failed or
       malformed download leaves nothing behind. A failure logs a WARNING
       with the reason and moves on to the next step.
    5. :func:`make_synthetic_creditcard` with ``synthetic_rows`` rows, with a
       WARNING that results are on synthetic data.

    Parameters
    ----------
    path : str or path-like, default=None
        Explicit CSV file in the Kaggle schema.
    allow_download : bool, default=True
        Whether step 4 may use the network.
    synthetic_rows : int, default=284_807
        Rows of the synthetic stand-in.
    random_state : int, numpy.random.Generator or None, default=0
        Seed of the synthetic stand-in.
    cache_dir : str or path-like, default=None
        Folder of the cached download; None means ``data/raw``.
    url : str, default=OPENML_URL
        Download address; ARFF or CSV with the 31 credit-card columns.
    timeout : float, default=30
        Seconds to wait for the connection and for each read.

    Returns
    -------
    CreditCardData
        The validated table, its source and file.

    Raises
    ------
    CreditCardDataError
        If ``path``, ``data/raw/creditcard.csv`` or the cached download is
        missing (``path`` only) or invalid.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, Real) or timeout <= 0:
        raise ValueError(
            f"timeout must be a positive number of seconds, got {timeout!r}"
        )

    if path is not None:
        path = Path(path)
        frame = read_creditcard_csv(path)
        logger.info("Loaded %d credit-card rows from %s", len(frame), path)
        return CreditCardData(frame, "file", path)

    raw_file = config.raw_data_dir() / KAGGLE_FILE_NAME
    if raw_file.is_file():
        frame = read_creditcard_csv(raw_file)
        logger.info("Loaded %d credit-card rows from %s", len(frame), raw_file)
        return CreditCardData(frame, "file", raw_file)

    cache_folder = Path(cache_dir) if cache_dir is not None else config.raw_data_dir()
    cache_file = cache_folder / OPENML_CACHE_NAME
    if cache_file.is_file():
        frame = read_creditcard_csv(cache_file)
        logger.info(
            "Loaded %d credit-card rows from the cached download %s",
            len(frame),
            cache_file,
        )
        return CreditCardData(frame, "download", cache_file)

    if not allow_download:
        logger.info("Credit-card download skipped: allow_download=False")
    elif not config.downloads_allowed():
        logger.info("Credit-card download skipped: %s=1", config.OFFLINE_ENV)
    else:
        try:
            frame = _fetch_openml(url, cache_file, timeout)
        except (
            requests.RequestException,
            DownloadError,
            OSError,
            CreditCardDataError,
        ) as error:
            logger.warning(
                "Credit-card download from %s failed, so it is skipped: %s",
                url,
                error,
            )
        else:
            return CreditCardData(frame, "download", cache_file)

    frame = make_synthetic_creditcard(synthetic_rows, random_state=random_state)
    logger.warning(
        "No credit-card data found, so the results below are on a SYNTHETIC "
        "stand-in (%d rows, %d frauds) and say nothing about real fraud. To use "
        "the real data, put the Kaggle file at %s, pass path=..., or allow the "
        "OpenML download (see data/raw/README.md).",
        len(frame),
        int(frame[LABEL_COLUMN].sum()),
        raw_file,
    )
    return CreditCardData(frame, "synthetic", None)
