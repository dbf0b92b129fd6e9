"""The two dependency lists, environment.yml and pyproject.toml, agree."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> tuple[str, str]:
    name, _, pin = requirement.partition("==")
    return re.sub(r"[-_.]+", "-", name.strip().lower()), pin.strip()


def _pyproject_pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return dict(_normalise(r) for r in project["dependencies"])


def _environment_pins() -> dict[str, str]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(
        item["pip"] for item in environment["dependencies"] if isinstance(item, dict)
    )
    return dict(_normalise(r) for r in pip_section if not r.startswith("-e"))


def test_dependency_names_match():
    assert sorted(_pyproject_pins()) == sorted(_environment_pins())


def test_dependency_pins_match():
    assert _pyproject_pins() == _environment_pins()


def test_every_dependency_is_pinned():
    unpinned = [name for name, pin in _pyproject_pins().items() if not pin]
    assert unpinned == []


def test_environment_installs_the_package():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(
        item["pip"] for item in environment["dependencies"] if isinstance(item, dict)
    )
    assert "-e ." in pip_section
