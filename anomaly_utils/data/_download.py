"""Stream an HTTP download into a local file with a progress bar."""

from __future__ import annotations

import logging
from pathlib import Path

import requests
from tqdm import tqdm

logger = logging.getLogger(__name__)

_CHUNK_BYTES = 1 << 16


class DownloadError(OSError):
    """A download ended early or returned something other than the file."""


def download_to_file(
    url: str, target: Path, *, timeout: float, description: str
) -> int:
    """Stream ``url`` into ``target`` and return the number of bytes written.

    ``target`` is overwritten. The caller owns it and removes it when this
    function raises, because a failed download leaves a partial file behind.

    Parameters
    ----------
    url : str
        HTTP or HTTPS address.
    target : Path
        File to write.
    timeout : float
        Seconds to wait for the connection and for each read.
    description : str
        Label of the progress bar.

    Raises
    ------
    requests.RequestException
        On a connection failure, a timeout, an HTTP error status (4xx, 5xx)
        or a connection closed before the announced length.
    DownloadError
        When fewer bytes arrive than the ``Content-Length`` header announced.
    """
    logger.info("Downloading %s to %s", url, target)
    with requests.get(url, stream=True, timeout=timeout) as response:
        response.raise_for_status()
        announced = response.headers.get("Content-Length")
        encoding = response.headers.get("Content-Encoding", "identity").lower()
        # With a compressed transfer, Content-Length counts compressed bytes
        # while iter_content yields decoded bytes, so only plain transfers can
        # be checked against it.
        expected = int(announced) if announced and encoding == "identity" else None
        written = 0
        with (
            open(target, "wb") as handle,
            tqdm(total=expected, unit="B", unit_scale=True, desc=description) as bar,
        ):
            for chunk in response.iter_content(chunk_size=_CHUNK_BYTES):
                handle.write(chunk)
                written += len(chunk)
                bar.update(len(chunk))
    if expected is not None and written != expected:
        raise DownloadError(
            f"download from {url} is truncated: received {written} of {expected} bytes"
        )
    logger.info("Downloaded %d bytes from %s", written, url)
    return written
