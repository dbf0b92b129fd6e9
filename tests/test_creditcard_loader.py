"""Tests for the credit-card reader, the resolution order, the download and the
synthetic stand-in.

Downloads go only to an HTTP server started on 127.0.0.1 inside the test.
"""

from __future__ import annotations

import gzip
import http.server
import logging
import socket
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

from anomaly_utils import config
from anomaly_utils.data import (
    CREDITCARD_COLUMNS,
    CreditCardData,
    CreditCardDataError,
    load_creditcard,
    make_synthetic_creditcard,
    read_creditcard_csv,
)

SAMPLE_FILE = (
    Path(__file__).resolve().parents[1].parent
    / "shared"
    / "data"
    / "creditcard"
    / "creditcard_sample.csv"
)
LOGGER_NAME = "anomaly_utils.data.creditcard"

N_ROWS = 20
N_FRAUDS = 3


# --------------------------------------------------------------------------
# Building small credit-card files
# --------------------------------------------------------------------------


def _cells(n_rows: int = N_ROWS, n_frauds: int = N_FRAUDS, seed: int = 0):
    """Return a valid table as text cells, labels unquoted."""
    rng = np.random.default_rng(seed)
    values = pd.DataFrame(
        rng.normal(size=(n_rows, 28)).round(6),
        columns=[f"V{i}" for i in range(1, 29)],
    )
    values.insert(0, "Time", np.arange(n_rows) * 10.0)
    values["Amount"] = rng.uniform(1, 100, size=n_rows).round(2)
    labels = np.zeros(n_rows, dtype=int)
    labels[np.linspace(1, n_rows - 1, n_frauds).astype(int)] = 1
    cells = values.astype(str)
    cells["Class"] = labels.astype(str)
    return cells


def _render(cells, header=None, sep=",", label_quote='"', header_quote='"'):
    """Return CSV text in the Kaggle layout: quoted header, quoted labels."""
    names = list(cells.columns) if header is None else header
    lines = [sep.join(f"{header_quote}{name}{header_quote}" for name in names)]
    for row in cells.itertuples(index=False):
        *features, label = row
        lines.append(sep.join([*features, f"{label_quote}{label}{label_quote}"]))
    return "\n".join(lines) + "\n"


def _write(tmp_path: Path, text: str, name: str = "creditcard.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _with_cell(column: str, row: int, value: str):
    def build(tmp_path):
        cells = _cells()
        cells.loc[row, column] = value
        return _write(tmp_path, _render(cells))

    return build


def _with_labels(labels):
    def build(tmp_path):
        cells = _cells()
        for row, value in labels.items():
            cells.loc[row, "Class"] = value
        return _write(tmp_path, _render(cells, label_quote=""))

    return build


def _with_header(change):
    def build(tmp_path):
        cells = _cells()
        header = change(list(cells.columns))
        return _write(tmp_path, _render(cells, header=header))

    return build


def _without_column(tmp_path):
    cells = _cells().drop(columns=["V5"])
    return _write(tmp_path, _render(cells))


def _with_extra_column(tmp_path):
    cells = _cells()
    cells.insert(30, "Merchant", "shop")
    return _write(tmp_path, _render(cells))


def _with_index_column(tmp_path):
    frame = _cells().astype({"Class": int})
    path = tmp_path / "creditcard.csv"
    frame.to_csv(path, index=True)
    return path


def _with_delimiter(sep):
    def build(tmp_path):
        return _write(tmp_path, _render(_cells(), sep=sep))

    return build


def _empty_file(tmp_path):
    return _write(tmp_path, "")


def _header_only(tmp_path):
    return _write(tmp_path, _render(_cells().iloc[:0]))


def _blank_first_line(tmp_path):
    return _write(tmp_path, "\n" + _render(_cells()))


def _missing_file(tmp_path):
    return tmp_path / "no_such_file.csv"


def _directory(tmp_path):
    folder = tmp_path / "creditcard"
    folder.mkdir()
    return folder


def _one_class(tmp_path):
    return _write(tmp_path, _render(_cells(n_frauds=0)))


def _too_many_fields(tmp_path):
    text = _render(_cells()).splitlines()
    text[5] += ",7.5"
    return _write(tmp_path, "\n".join(text) + "\n")


def _gzip_file(tmp_path):
    path = tmp_path / "creditcard.csv"
    path.write_bytes(gzip.compress(_render(_cells()).encode()))
    return path


def _rename(old, new):
    return lambda names: [new if name == old else name for name in names]


MALFORMED = [
    pytest.param(_without_column, ["missing column(s) V5"], id="missing-column"),
    pytest.param(
        _with_header(_rename("V7", "V7_scaled")),
        ["missing column(s) V7", "'V7_scaled'"],
        id="renamed-column",
    ),
    pytest.param(
        _with_header(_rename("Class", "class")),
        ["Rename 'class' to 'Class'"],
        id="renamed-column-case",
    ),
    pytest.param(
        _with_index_column, ["row index", "Drop the index column"], id="index-column"
    ),
    pytest.param(
        _with_extra_column, ["unexpected column(s) 'Merchant'"], id="extra-column"
    ),
    pytest.param(
        _with_header(_rename("V2", "V1")),
        ["duplicate column names: 'V1' (2 times)"],
        id="duplicate-column-names",
    ),
    pytest.param(
        _with_labels({4: "fraud", 6: "normal", 9: "fraud"}),
        ["'fraud' (line 6)", "'normal' (line 8)", "3 row(s)", "Map the labels"],
        id="string-labels",
    ),
    pytest.param(_with_labels({2: "yes"}), ["'yes' (line 4)"], id="yes-no-labels"),
    pytest.param(_with_labels({3: "2"}), ["other values", "(line 5)"], id="label-two"),
    pytest.param(
        _with_labels({0: "-1"}), ["other values", "(line 2)"], id="label-minus-one"
    ),
    pytest.param(_with_labels({5: ""}), ["missing label", "line 7"], id="empty-label"),
    pytest.param(_one_class, ["all 20 rows have Class 0"], id="one-class-only"),
    pytest.param(
        _with_cell("V3", 5, ""),
        ["missing (empty or NaN)", "line 7", "V3"],
        id="empty-cell",
    ),
    pytest.param(
        _with_cell("V12", 0, "NaN"),
        ["missing (empty or NaN)", "line 2", "V12"],
        id="nan-cell",
    ),
    pytest.param(
        _with_cell("Amount", 8, "inf"),
        ["infinite", "line 10", "Amount"],
        id="infinite-cell",
    ),
    pytest.param(
        _with_cell("V20", 2, "-inf"), ["infinite", "line 4", "V20"], id="minus-inf"
    ),
    pytest.param(
        _with_cell("Amount", 2, "12,50 EUR"),
        ["CSV parser failed"],
        id="comma-inside-cell",
    ),
    pytest.param(
        _with_cell("V9", 3, "abc"),
        ["column 'V9'", "'abc' on line 5"],
        id="non-numeric-cell",
    ),
    pytest.param(_empty_file, ["empty (0 bytes)"], id="empty-file"),
    pytest.param(_header_only, ["no data rows"], id="header-only"),
    pytest.param(_blank_first_line, ["first line is blank"], id="blank-first-line"),
    pytest.param(
        _with_delimiter(";"), ["semicolons (';')", "sep=';'"], id="semicolon-delimiter"
    ),
    pytest.param(_with_delimiter("\t"), ["tabs ('\\t')"], id="tab-delimiter"),
    pytest.param(_too_many_fields, ["CSV parser failed"], id="too-many-fields"),
    pytest.param(_gzip_file, ["not UTF-8 text"], id="compressed-file"),
    pytest.param(_missing_file, ["not found", "data/raw/creditcard.csv"], id="missing"),
    pytest.param(_directory, ["is a directory"], id="directory"),
]


@pytest.mark.parametrize(("build", "fragments"), MALFORMED)
def test_malformed_file_rejected(tmp_path, build, fragments):
    path = build(tmp_path)
    with pytest.raises(CreditCardDataError) as info:
        read_creditcard_csv(path)
    message = str(info.value)
    assert str(path) in message
    for fragment in fragments:
        assert fragment in message


def test_error_is_value_error():
    assert issubclass(CreditCardDataError, ValueError)


def _spaced_header(names):
    return [f' "{name}" ' for name in names]


ACCEPTED = [
    pytest.param(lambda tmp: _write(tmp, _render(_cells())), id="kaggle-quoted"),
    pytest.param(
        lambda tmp: _write(tmp, _render(_cells(), header_quote="", label_quote="")),
        id="plain-integers",
    ),
    pytest.param(
        lambda tmp: _write(
            tmp,
            _render(_cells(), header=_spaced_header(_cells().columns), header_quote=""),
        ),
        id="header-with-spaces-and-quotes",
    ),
    pytest.param(
        lambda tmp: _write(tmp, _render(_cells(), label_quote="'")),
        id="openml-quoted-labels",
    ),
    pytest.param(
        _with_labels({i: f"{int(v)}.0" for i, v in enumerate(_cells()["Class"])}),
        id="float-labels",
    ),
    pytest.param(
        lambda tmp: _write(tmp, _render(_cells()) + "\n\n"),
        id="trailing-blank-lines",
    ),
    pytest.param(
        lambda tmp: _write(tmp, "\ufeff" + _render(_cells())), id="byte-order-mark"
    ),
]


@pytest.mark.parametrize("build", ACCEPTED)
def test_valid_variant_accepted(tmp_path, build):
    frame = read_creditcard_csv(build(tmp_path))
    assert tuple(frame.columns) == CREDITCARD_COLUMNS
    assert frame.shape == (N_ROWS, 31)
    assert frame["Class"].dtype == np.int64
    assert (frame.drop(columns="Class").dtypes == np.float64).all()
    assert int(frame["Class"].sum()) == N_FRAUDS
    expected = _cells()["V1"].astype(float).to_numpy()
    np.testing.assert_allclose(frame["V1"].to_numpy(), expected)


def test_columns_in_other_order_reordered(tmp_path):
    cells = _cells()
    order = list(cells.columns[::-1])
    text = "\n".join(
        [",".join(order)] + [",".join(row) for row in cells[order].to_numpy()]
    )
    frame = read_creditcard_csv(_write(tmp_path, text + "\n"))
    assert tuple(frame.columns) == CREDITCARD_COLUMNS
    np.testing.assert_allclose(
        frame["Amount"].to_numpy(), cells["Amount"].astype(float).to_numpy()
    )


def test_duplicated_rows_kept_and_logged(tmp_path, caplog):
    cells = _cells()
    cells = pd.concat([cells, cells.iloc[[2, 5]]], ignore_index=True)
    path = _write(tmp_path, _render(cells))
    with caplog.at_level(logging.INFO, logger=LOGGER_NAME):
        frame = read_creditcard_csv(path)
    assert len(frame) == N_ROWS + 2
    assert "2 duplicated row(s) kept" in caplog.text


@pytest.mark.realdata
def test_real_sample_loads():
    if not SAMPLE_FILE.is_file():
        pytest.skip(f"real credit-card sample {SAMPLE_FILE} not found")
    frame = read_creditcard_csv(SAMPLE_FILE)
    assert frame.shape == (5_332, 31)
    assert int(frame["Class"].sum()) == 376
    assert tuple(frame.columns) == CREDITCARD_COLUMNS
    data = load_creditcard(SAMPLE_FILE, allow_download=False)
    assert data.source == "file"
    assert data.label == "real (creditcard_sample.csv)"
    assert not data.is_synthetic


# --------------------------------------------------------------------------
# Resolution order
# --------------------------------------------------------------------------


@pytest.fixture
def raw_dir(tmp_path, monkeypatch):
    """Point ``config.raw_data_dir`` at an empty folder and allow downloads."""
    folder = tmp_path / "raw"
    folder.mkdir()
    monkeypatch.setattr(config, "raw_data_dir", lambda: folder)
    monkeypatch.delenv(config.OFFLINE_ENV, raising=False)
    return folder


def test_explicit_path_wins(tmp_path, raw_dir):
    _write(raw_dir, _render(_cells(n_rows=30)))
    explicit = _write(tmp_path, _render(_cells()), name="mine.csv")
    data = load_creditcard(explicit, allow_download=False)
    assert data.source == "file"
    assert data.path == explicit
    assert len(data.frame) == N_ROWS


def test_explicit_missing_path_raises(tmp_path, raw_dir):
    _write(raw_dir, _render(_cells()))
    with pytest.raises(CreditCardDataError, match="not found"):
        load_creditcard(tmp_path / "absent.csv", allow_download=False)


def test_raw_file_used_when_present(raw_dir):
    path = _write(raw_dir, _render(_cells(n_rows=30)))
    data = load_creditcard(allow_download=False)
    assert data.source == "file"
    assert data.path == path
    assert data.label == "real (creditcard.csv)"
    assert len(data.frame) == 30


def test_invalid_raw_file_raises(raw_dir):
    _write(raw_dir, _render(_cells(n_frauds=0)))
    with pytest.raises(CreditCardDataError, match="Class 0"):
        load_creditcard(allow_download=False)


def test_offline_gives_synthetic(raw_dir, monkeypatch, caplog, http_server):
    monkeypatch.setenv(config.OFFLINE_ENV, "1")
    url = http_server.url("/creditcard.arff")
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        data = load_creditcard(synthetic_rows=500, url=url)
    assert data.is_synthetic
    assert data.source == "synthetic"
    assert data.path is None
    assert data.label == "SYNTHETIC stand-in"
    assert len(data.frame) == 500
    assert "SYNTHETIC" in caplog.text
    assert http_server.hits == {}


def test_download_disallowed_gives_synthetic(raw_dir, http_server):
    url = http_server.url("/creditcard.arff")
    data = load_creditcard(allow_download=False, synthetic_rows=300, url=url)
    assert data.is_synthetic
    assert http_server.hits == {}


def test_cached_download_read_offline(raw_dir, monkeypatch):
    monkeypatch.setenv(config.OFFLINE_ENV, "1")
    cache = _write(raw_dir, _render(_cells()), name="creditcard_openml.csv")
    data = load_creditcard()
    assert data.source == "download"
    assert data.path == cache
    assert data.label == "real (creditcard_openml.csv)"


def test_invalid_cached_download_raises(raw_dir):
    _write(raw_dir, _render(_cells(), sep=";"), name="creditcard_openml.csv")
    with pytest.raises(CreditCardDataError, match="creditcard_openml.csv"):
        load_creditcard(allow_download=False)


def test_invalid_timeout_rejected(raw_dir):
    with pytest.raises(ValueError, match="timeout"):
        load_creditcard(allow_download=False, timeout=0)


def test_invalid_source_rejected():
    with pytest.raises(ValueError, match="source must be one of"):
        CreditCardData(pd.DataFrame(), "kaggle")


# --------------------------------------------------------------------------
# Download against a local server
# --------------------------------------------------------------------------


def _arff_text(cells) -> str:
    lines = ["% OpenML-style ARFF", "@relation creditcard", ""]
    for name in cells.columns[:-1]:
        lines.append(f"@attribute '{name}' numeric")
    lines.append("@attribute 'Class' {'0','1'}")
    lines += ["", "@data"]
    for row in cells.itertuples(index=False):
        *features, label = row
        lines.append(",".join([*features, f"'{label}'"]))
    return "\n".join(lines) + "\n"


class _Server:
    """Routes of a local HTTP server: path -> (status, body, announced length)."""

    def __init__(self):
        self.routes: dict[str, tuple[int, bytes, int | None]] = {}
        self.hits: dict[str, int] = {}
        self.port = 0

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def http_server(monkeypatch):
    """Serve ``routes`` on 127.0.0.1 from a thread; count requests per path."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    state = _Server()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            state.hits[self.path] = state.hits.get(self.path, 0) + 1
            status, body, announced = state.routes.get(self.path, (404, b"", None))
            self.send_response(status)
            length = len(body) if announced is None else announced
            self.send_header("Content-Length", str(length))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def _cache_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_download_success_and_cache_reuse(tmp_path, raw_dir, http_server):
    cells = _cells(n_rows=40, n_frauds=4)
    http_server.routes["/data.arff"] = (200, _arff_text(cells).encode(), None)
    cache = tmp_path / "cache"
    url = http_server.url("/data.arff")

    first = load_creditcard(cache_dir=cache, url=url, timeout=5)
    assert first.source == "download"
    assert first.path == cache / "creditcard_openml.csv"
    assert first.label == "real (creditcard_openml.csv)"
    assert first.frame.shape == (40, 31)
    assert int(first.frame["Class"].sum()) == 4
    np.testing.assert_allclose(
        first.frame["V28"].to_numpy(), cells["V28"].astype(float).to_numpy()
    )
    assert _cache_files(cache) == ["creditcard_openml.csv"]
    assert http_server.hits == {"/data.arff": 1}

    second = load_creditcard(cache_dir=cache, url=url, timeout=5)
    assert http_server.hits == {"/data.arff": 1}
    assert second.source == "download"
    pd.testing.assert_frame_equal(first.frame, second.frame)


def test_download_of_csv_accepted(tmp_path, raw_dir, http_server):
    http_server.routes["/data.csv"] = (200, _render(_cells()).encode(), None)
    cache = tmp_path / "cache"
    data = load_creditcard(cache_dir=cache, url=http_server.url("/data.csv"))
    assert data.source == "download"
    assert len(data.frame) == N_ROWS


def test_download_cache_defaults_to_raw_dir(raw_dir, http_server):
    http_server.routes["/data.arff"] = (200, _arff_text(_cells()).encode(), None)
    data = load_creditcard(url=http_server.url("/data.arff"), timeout=5)
    assert data.path == raw_dir / "creditcard_openml.csv"
    assert _cache_files(raw_dir) == ["creditcard_openml.csv"]


@pytest.mark.parametrize("status", [404, 500])
def test_server_error_falls_back(tmp_path, raw_dir, http_server, caplog, status):
    http_server.routes["/data.arff"] = (status, b"error page", None)
    cache = tmp_path / "cache"
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        data = load_creditcard(
            cache_dir=cache,
            url=http_server.url("/data.arff"),
            synthetic_rows=400,
            timeout=5,
        )
    assert data.is_synthetic
    assert str(status) in caplog.text
    assert "download from" in caplog.text
    assert _cache_files(cache) == []


def test_truncated_download_leaves_nothing(tmp_path, raw_dir, http_server, caplog):
    body = _arff_text(_cells(n_rows=60)).encode()
    http_server.routes["/data.arff"] = (200, body[: len(body) // 2], len(body))
    cache = tmp_path / "cache"
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        data = load_creditcard(
            cache_dir=cache,
            url=http_server.url("/data.arff"),
            synthetic_rows=400,
            timeout=5,
        )
    assert data.is_synthetic
    assert "failed" in caplog.text
    assert _cache_files(cache) == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"<html><body>Service unavailable</body></html>", "neither ARFF nor CSV"),
        (
            _arff_text(_cells()).replace("'1'\n", "'fraud'\n", 1).encode(),
            "'fraud'",
        ),
        (
            _arff_text(_cells()).replace("@data\n", "").encode(),
            "no @data line",
        ),
        (
            _arff_text(_cells()).replace("'V4'", "'V4x'").encode(),
            "missing column(s) V4",
        ),
    ],
    ids=["html-page", "bad-label", "no-data-section", "wrong-attribute"],
)
def test_malformed_download_leaves_nothing(
    tmp_path, raw_dir, http_server, caplog, body, fragment
):
    http_server.routes["/data.arff"] = (200, body, None)
    cache = tmp_path / "cache"
    url = http_server.url("/data.arff")
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        data = load_creditcard(cache_dir=cache, url=url, synthetic_rows=400)
    assert data.is_synthetic
    assert fragment in caplog.text
    assert url in caplog.text
    assert _cache_files(cache) == []


def test_connection_refused_falls_back(tmp_path, raw_dir, caplog, http_server):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cache = tmp_path / "cache"
    with caplog.at_level(logging.WARNING, logger=LOGGER_NAME):
        data = load_creditcard(
            cache_dir=cache,
            url=f"http://127.0.0.1:{port}/data.arff",
            synthetic_rows=400,
            timeout=5,
        )
    assert data.is_synthetic
    assert "failed" in caplog.text
    assert _cache_files(cache) == []


# --------------------------------------------------------------------------
# Synthetic stand-in
# --------------------------------------------------------------------------


def test_synthetic_schema():
    frame = make_synthetic_creditcard(5_000, random_state=0)
    assert tuple(frame.columns) == CREDITCARD_COLUMNS
    assert frame.shape == (5_000, 31)
    assert (frame.drop(columns="Class").dtypes == np.float64).all()
    assert frame["Class"].dtype == np.int64
    time = frame["Time"].to_numpy()
    assert np.all(np.diff(time) >= 0)
    assert time.min() >= 0
    assert time.max() <= 172_792
    assert (frame["Amount"] >= 0).all()
    assert frame.notna().all().all()


def test_synthetic_passes_validation(tmp_path):
    path = tmp_path / "synthetic.csv"
    make_synthetic_creditcard(500, fraud_rate=0.05, random_state=1).to_csv(
        path, index=False
    )
    assert len(read_creditcard_csv(path)) == 500


def test_synthetic_fraud_rate():
    frame = make_synthetic_creditcard(100_000, random_state=0)
    assert int(frame["Class"].sum()) == round(100_000 * 492 / 284_807)
    frame = make_synthetic_creditcard(1_000, fraud_rate=0.05, random_state=0)
    assert int(frame["Class"].sum()) == 50


def test_synthetic_at_least_two_frauds():
    frame = make_synthetic_creditcard(100, fraud_rate=0.001, random_state=0)
    assert int(frame["Class"].sum()) == 2


def test_synthetic_components_decrease():
    frame = make_synthetic_creditcard(20_000, random_state=0)
    normal = frame[frame["Class"] == 0]
    stds = normal[[f"V{i}" for i in range(1, 29)]].std().to_numpy()
    assert 1.7 < stds[0] < 2.2
    assert 0.25 < stds[-1] < 0.4
    assert stds[0] > stds[13] > stds[-1]


def test_synthetic_same_seed_same_frame():
    first = make_synthetic_creditcard(1_000, random_state=3)
    second = make_synthetic_creditcard(1_000, random_state=3)
    other = make_synthetic_creditcard(1_000, random_state=4)
    pd.testing.assert_frame_equal(first, second)
    assert not first.equals(other)


def test_synthetic_frauds_findable_not_perfect():
    frame = make_synthetic_creditcard(20_000, fraud_rate=0.01, random_state=0)
    X = frame.drop(columns=["Time", "Class"]).to_numpy()
    X[:, -1] = np.log1p(X[:, -1])
    forest = IsolationForest(random_state=0).fit(X)
    auc = roc_auc_score(frame["Class"], -forest.score_samples(X))
    assert 0.8 < auc < 0.98


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"n_rows": 99}, "at least 100"),
        ({"n_rows": 500.0}, "must be an integer"),
        ({"n_rows": 500, "fraud_rate": 0.0}, "(0, 0.5)"),
        ({"n_rows": 500, "fraud_rate": 0.5}, "(0, 0.5)"),
        ({"n_rows": 500, "fraud_rate": None}, "must be a number"),
        ({"n_rows": 500, "random_state": "zero"}, "random_state"),
    ],
)
def test_synthetic_invalid_arguments(kwargs, fragment):
    with pytest.raises(ValueError) as info:
        make_synthetic_creditcard(**kwargs)
    assert fragment in str(info.value)
