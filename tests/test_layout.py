"""The design's top-level layout (issue 17): one folder per concern, mapped to ``expat.*`` import names.

The wheel test builds the project as a user would get it and runs it from outside the checkout, so a
missing package, a missing artefact or a path relative to the checkout fails here and not for a user.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import tomllib
from pathlib import Path

import pytest

import expat
from expat import layout

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


def test_layout_map_is_pyprojects():
    mapped = {pkg: d for pkg, d in SETUPTOOLS["package-dir"].items() if pkg != "expat"}
    assert mapped == {pkg: d for d, pkg in layout.FOLDERS.items()}
    assert SETUPTOOLS["package-dir"]["expat"] == "expat"


def test_every_package_folder_is_declared():
    """Each folder with an __init__.py under a mapped folder is in ``packages``, and nothing else is."""
    declared = set(SETUPTOOLS["packages"])
    found = {"expat"}
    for folder, pkg in layout.FOLDERS.items():
        for init in (REPO / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(REPO / folder).parts
            found.add(".".join((pkg,) + rel))
    # data folders are declared as packages so that setuptools ships them without warnings
    data = {p for p in declared - found
            if (REPO / layout.package_path(p)).is_dir()}
    assert found <= declared
    assert declared - found == data


def test_no_concern_lives_in_two_folders():
    for folder in layout.FOLDERS:
        assert not (REPO / "expat" / folder).exists(), f"expat/{folder}/ shadows the top-level {folder}/"
    assert layout.folder("model") == REPO / "model"


def test_artefacts_are_found_through_the_packages():
    assert layout.locate("tamarin/expat.spthy").is_file()
    assert layout.locate("traces/schema.json").is_file()
    assert sorted(layout.locate("traces/golden").glob("honest-*.jsonl"))
    assert layout.display(layout.locate("proofs/verdicts.json")) == "proofs/verdicts.json"
    assert layout.locate("perf/results/latest.json", Path("/x")) == Path("/x/perf/results/latest.json")


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    """``pip install .`` (a wheel), run from a directory that is not the checkout: ``expat run`` and
    ``expat check`` on a golden trace found through the installed package."""
    dist = tmp_path / "dist"
    r = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(REPO)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    wheel = next(dist.glob("expat_ra-*.whl"))
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    r = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                        "-q", "--no-deps", str(wheel)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    # dependencies come from this venv's site-packages (appended after the fresh venv's own, so the
    # wheel's expat wins and the editable finder here is never activated)
    site = Path(sysconfig.get_paths(vars={"base": str(venv), "platbase": str(venv)})["purelib"])
    (site / "zz_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "OPENSSL_CONF")}
    work = tmp_path / "elsewhere"
    work.mkdir()

    def run(*argv: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(venv / "bin" / "expat"), *argv], capture_output=True, text=True,
                              timeout=300, cwd=work, env=env)

    where = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import expat.model, expat.tamarin as t; print(expat.model.__file__); print(t.__file__)"],
                           capture_output=True, text=True, timeout=60, cwd=work, env=env)
    assert where.returncode == 0, where.stderr
    assert all(line.startswith(str(venv)) for line in where.stdout.split()), where.stdout
    r = run("run", "--trace", str(work / "run.jsonl"))
    assert r.returncode == 0, r.stdout + r.stderr
    golden = subprocess.run([str(venv / "bin" / "python"), "-c",
                             "from expat.traces import golden; print(sorted(golden.GOLDEN_DIR.glob('honest-*.jsonl'))[0])"],
                            capture_output=True, text=True, timeout=60, cwd=work, env=env).stdout.strip()
    assert golden.startswith(str(venv)), golden
    r = run("check", golden, str(work / "run.jsonl"))
    assert r.returncode == 0, r.stdout + r.stderr
    r = run("tamarin", "check")
    assert r.returncode == 0, r.stdout + r.stderr
