"""Read a dense ARFF file, as served by OpenML, into a table of raw cells."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

_ATTRIBUTE = re.compile(
    r"""^@attribute\s+(?:'([^']*)'|"([^"]*)"|(\S+))""", re.IGNORECASE
)


def read_dense_arff(path: Path) -> tuple[pd.DataFrame, int]:
    """Read the ``@attribute`` names and the ``@data`` rows of an ARFF file.

    Values quoted with single quotes (such as OpenML's ``'0'`` labels) are
    unquoted; ``%`` starts a comment. Sparse ARFF rows (``{index value}``)
    are not supported and come back as text cells.

    Parameters
    ----------
    path : Path
        UTF-8 ARFF file.

    Returns
    -------
    frame : pandas.DataFrame
        One column per attribute, named as in the header, with numbers or
        text cells.
    first_line : int
        Line number of the first line after ``@data``, for error messages.

    Raises
    ------
    ValueError
        If an ``@attribute`` line cannot be parsed, the ``@data`` line is
        missing or the data rows do not parse; the message states which.
    """
    names = []
    header_lines = 0
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            header_lines += 1
            stripped = line.strip()
            lowered = stripped.lower()
            if lowered.startswith("@attribute"):
                match = _ATTRIBUTE.match(stripped)
                if match is None:
                    raise ValueError(
                        f"line {header_lines} is not a valid @attribute line: "
                        f"{stripped[:80]!r}"
                    )
                names.append(next(group for group in match.groups() if group))
            elif lowered.startswith("@data"):
                break
        else:
            raise ValueError("the ARFF header has no @data line")

    try:
        frame = pd.read_csv(
            path,
            skiprows=header_lines,
            header=None,
            names=names,
            index_col=False,
            quotechar="'",
            comment="%",
            skipinitialspace=True,
            encoding="utf-8",
            low_memory=False,
        )
    except (pd.errors.ParserError, ValueError) as error:
        raise ValueError(
            f"the ARFF data section could not be parsed ({str(error).strip()})"
        ) from None
    return frame, header_lines + 1
