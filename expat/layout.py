"""Where each concern lives: the design's top-level folders and their import names.

The repository's top level is one folder per concern (``reference/``, ``model/``, ``tamarin/``,
``proofs/``, ``traces/``, ``spec/``, ``perf/``); ``pyproject.toml`` maps each folder to an import name
under ``expat.`` (``[tool.setuptools] package-dir``). Generated and recorded artefacts (the Tamarin
theory and its results, the bounded-proof verdicts, the golden corpus, benchmark figures) ship inside
their package, so code finds them through the package, not through a path relative to a checkout:
``locate("tamarin/expat.spthy")`` is right in a checkout, an editable install and a wheel alike.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from typing import Optional

# folder -> import name; tests/test_layout.py keeps this equal to pyproject.toml's package-dir
FOLDERS: dict[str, str] = {
    "reference": "expat.reference",
    "model": "expat.model",
    "tamarin": "expat.tamarin",
    "proofs": "expat.proofs",
    "traces": "expat.traces",
    "spec": "expat.spec",
    "perf": "expat.perf",
}


@cache
def folder(name: str) -> Path:
    """The directory that holds the package of top-level folder ``name`` (without importing it)."""
    spec = importlib.util.find_spec(FOLDERS[name])
    if spec is None or spec.origin is None:
        raise LookupError(f"package {FOLDERS[name]} (folder {name}/) is not installed")
    return Path(spec.origin).resolve().parent


def locate(relative: str, root: Optional[Path] = None) -> Path:
    """An artefact named as in the repository (``"perf/results/latest.json"``).

    Without ``root`` it is found through its package; with ``root`` (a directory laid out like the
    repository's top level, e.g. a test's temporary copy) it is ``root / relative``.
    """
    if root is not None:
        return Path(root) / relative
    head, _, rest = relative.partition("/")
    return folder(head) / rest if rest else folder(head)


def display(path: Path, root: Optional[Path] = None) -> str:
    """``path`` named as in the repository (``"traces/golden/x.jsonl"``) when it lies in one of the
    folders (or under ``root``), else as given."""
    path = Path(path)
    resolved = path.resolve()
    bases = [(Path(root).resolve(), "")] if root is not None else [(folder(n), n + "/") for n in FOLDERS]
    for base, prefix in bases:
        if resolved.is_relative_to(base):
            return prefix + resolved.relative_to(base).as_posix()
    return path.as_posix()


def python_modules() -> list[tuple[str, Path]]:
    """Every module of the project as (import name, file), in a stable order."""
    roots = [("expat", Path(importlib.util.find_spec("expat").origin).resolve().parent)]
    roots += [(FOLDERS[n], folder(n)) for n in FOLDERS]
    out = []
    for package, base in roots:
        for path in sorted(base.rglob("*.py")):
            rel = path.relative_to(base).with_suffix("").parts
            if package == "expat" and rel and rel[0] in FOLDERS:
                continue                       # a stale copy under expat/ is not the package
            if not (path.parent / "__init__.py").exists():
                continue                       # scripts such as traces/examples/build_examples.py stay out
            out.append((".".join((package,) + tuple(p for p in rel if p != "__init__")), path))
    return out


def package_path(package: str) -> str:
    """The repository path of a (sub)package: ``expat.traces.golden`` -> ``traces/golden``."""
    parts = package.split(".")
    for folder, name in FOLDERS.items():
        top = name.split(".")
        if parts[:len(top)] == top:
            return "/".join([folder] + parts[len(top):])
    return "/".join(parts)
