"""Shared parts of the benchmark scripts: machine facts, timers, memory probes.

The scripts import this module by name, which works because Python puts the
script's own folder first on ``sys.path`` when it runs
``python benchmarks/<script>.py``.
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
import threading
import time
from importlib import metadata
from pathlib import Path

#: Libraries whose versions every benchmark page reports.
REPORTED_PACKAGES = (
    "numpy",
    "pandas",
    "scikit-learn",
    "tensorflow-cpu",
    "keras",
    "pyod",
    "torch",
)

_PAGE_SIZE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def cpu_model() -> str:
    """Return the CPU model name from ``lscpu``, else ``platform.processor()``."""
    try:
        lscpu = subprocess.run(
            ["lscpu"], capture_output=True, text=True, check=True
        ).stdout
        return next(
            line.split(":", 1)[1].strip()
            for line in lscpu.splitlines()
            if line.startswith("Model name")
        )
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or "unknown"


def machine_facts() -> dict[str, str]:
    """Return the CPU, usable cores, memory, load and library versions."""
    with open("/proc/meminfo") as meminfo:
        total_kb = int(meminfo.readline().split()[1])
    facts = {
        "cpu": cpu_model(),
        "usable cores": str(len(os.sched_getaffinity(0))),
        "memory": f"{total_kb / 2**20:.1f} GiB",
        "load average (1 min) at start": f"{os.getloadavg()[0]:.1f}",
        "python": platform.python_version(),
    }
    for package in REPORTED_PACKAGES:
        try:
            facts[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            facts[package] = "not installed"
    return facts


def current_rss_mb() -> float:
    """Return the resident memory of this process in MiB."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE_SIZE_KB / 1024


def peak_rss_mb() -> float:
    """Return the highest resident memory this process has had, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children_of() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command name in field 2 may contain spaces. Fields after the last
        # ")" are fixed, and the parent pid is the second of them.
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    return children


def _process_memory_kb(pid: int) -> int:
    """Return a process's proportional set size (PSS) in KiB, else its RSS.

    PSS splits each shared page between the processes that map it, so the
    PSS of several processes adds up to the memory they use together.
    """
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * _PAGE_SIZE_KB


def tree_memory_mb(root: int) -> float:
    """Return the memory of ``root`` and its descendants together, in MiB.

    Linux only: reads ``/proc``. Each process counts with its proportional
    set size, so libraries shared by the processes count once in total.
    """
    children = _children_of()
    total_kb = 0
    stack = [root]
    while stack:
        pid = stack.pop()
        try:
            total_kb += _process_memory_kb(pid)
        except OSError:
            continue
        stack.extend(children.get(pid, []))
    return total_kb / 1024


class MemorySampler:
    """Sample resident memory in a background thread; keep the highest value.

    Parameters
    ----------
    pid : int or None, default=None
        Process whose tree (the process and its descendants) is sampled
        with :func:`tree_memory_mb`; None samples the resident memory of
        this process alone.
    interval : float, default=0.05
        Seconds between samples. Peaks shorter than this can be missed.
    """

    def __init__(self, pid: int | None = None, interval: float = 0.05):
        self.pid = pid
        self.interval = interval
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> float:
        if self.pid is None:
            return current_rss_mb()
        return tree_memory_mb(self.pid)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self._sample())
            self._stop.wait(self.interval)

    def __enter__(self):
        self.peak_mb = self._sample()
        self._thread.start()
        return self

    def __exit__(self, *exc_info):
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, self._sample())


class Stopwatch:
    """Wall and process CPU seconds of a ``with`` block."""

    def __enter__(self):
        self._wall = time.perf_counter()
        self._cpu = time.process_time()
        return self

    def __exit__(self, *exc_info):
        self.wall = time.perf_counter() - self._wall
        self.cpu = time.process_time() - self._cpu


def markdown_table(rows: list[dict], columns: list[str]) -> str:
    """Return ``rows`` as a Markdown table with the given column order."""
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join("---" for _ in columns) + "|",
    ]
    for row in rows:
        lines.append("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return "\n".join(lines)
