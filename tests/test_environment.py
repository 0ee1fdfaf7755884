"""environment.yml (conda) and pyproject.toml (pip) must name the same dependencies."""

import re
import sys
from pathlib import Path

import yaml
from packaging.requirements import Requirement

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
# conda-forge splits dask's "distributed" extra into its own package
CONDA_EXTRAS = {"dask[distributed]": {"dask", "distributed"}}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_names() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, test = set(), set()
    for spec in project["dependencies"]:
        req = Requirement(spec)
        key = f"{req.name}[{','.join(sorted(req.extras))}]" if req.extras else req.name
        runtime |= {_norm(n) for n in CONDA_EXTRAS.get(key, {req.name})}
    for spec in (s for extra in project["optional-dependencies"].values() for s in extra):
        req = Requirement(spec)
        if req.marker is None:  # back-ports for old Pythons are pip-only
            test.add(_norm(req.name))
    return runtime, test


def environment_names() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            names |= {_norm(Requirement(d).name) for d in dep["pip"] if not d.startswith("-e")}
        else:
            names.add(_norm(re.split(r"[<>=! ]", dep, maxsplit=1)[0]))
    return names - {"python", "pip"}


def test_environment_and_pyproject_name_the_same_packages():
    runtime, test = pyproject_names()
    conda = environment_names()
    assert conda - (runtime | test) == set(), "in environment.yml but not in pyproject.toml"
    assert (runtime | test) - conda == set(), "in pyproject.toml but not in environment.yml"


def test_environment_is_conda_forge_only_without_builds_or_prefix():
    text = (ROOT / "environment.yml").read_text()
    env = yaml.safe_load(text)
    assert env["channels"] == ["conda-forge"]
    assert "prefix" not in env
    for dep in env["dependencies"]:
        if isinstance(dep, str):
            assert dep.count("=") <= 1 or ">=" in dep, f"build string or exact pin in {dep!r}"
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert "-e ." in pip, "the pip section must install the course package itself"


def test_every_conda_package_has_a_comment_naming_its_use():
    for line in (ROOT / "environment.yml").read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("- ") and not stripped.startswith("- pip") and stripped not in ("- conda-forge",):
            if "python>=" in stripped:
                continue
            assert "#" in stripped, f"environment.yml: no comment on {stripped!r}"
