"""What users check first: the license, the package metadata, and bounds on fast-moving dependencies."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

FAST_MOVING = {
    "typer",
    "rich",
    "numpy",
    "pandas",
    "xarray",
    "dask",
    "odc-stac",
    "odc-geo",
    "numba",
    "pyarrow",
    "pystac",
    "pystac-client",
    "pydantic",
    "scikit-learn",
    "quantile-forest",
}
"""Libraries whose releases have changed behaviour the code relies on (0.x and calendar-versioned ones,
and those a major release breaks)."""


def test_license_file_is_the_apache_license_the_metadata_states():
    text = (ROOT / "LICENSE").read_text()
    assert text.split()[:4] == ["Apache", "License", "Version", "2.0,"]
    assert "END OF TERMS AND CONDITIONS" in text
    assert PROJECT["license"] == "Apache-2.0"
    assert PROJECT["license-files"] == ["LICENSE"]
    assert not any(c.startswith("License ::") for c in PROJECT["classifiers"])  # PEP 639: the expression only


def test_metadata_names_authors_classifiers_and_urls():
    assert PROJECT["authors"] == [{"name": "baresoil developers"}]
    minimum = PROJECT["requires-python"].removeprefix(">=")
    assert f"Programming Language :: Python :: {minimum}" in PROJECT["classifiers"]
    assert "Typing :: Typed" in PROJECT["classifiers"]
    assert set(PROJECT["urls"]) >= {"Homepage", "Documentation", "Repository", "Issues"}
    assert all(url.startswith("https://") for url in PROJECT["urls"].values())


def test_fast_moving_dependencies_have_upper_bounds_that_admit_the_installed_versions():
    requirements = {Requirement(text).name: Requirement(text) for text in PROJECT["dependencies"]}
    assert set(requirements) >= FAST_MOVING
    for name in FAST_MOVING:
        specifier = requirements[name].specifier
        assert any(spec.operator == "<" for spec in specifier), f"{name} has no upper bound"
    for name, requirement in requirements.items():
        assert requirement.specifier.contains(version(name)), f"{name} {version(name)} not in {requirement}"
