"""Verification of the catalogue's links: every linked name must exist.

* checks: an id in :data:`expat.checks.REGISTRY` (after importing every ``expat``
  module that declares checks) or a qualified Python name (``pkg.mod.attr``);
* tests: a pytest node id ``tests/test_x.py::test_name`` or ``::Class::test_name``,
  found by parsing the file with :mod:`ast` (not imported);
* monitors and lemmas: a model property id (:data:`expat.model.properties.PROPERTY_IDS`);
* profile_parameters: a field of ``expat.profile`` (its ``Profile`` class or module).
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import expat
from expat.model.properties import PROPERTY_IDS
from expat.spec.catalogue import Catalogue
from expat.layout import python_modules

PACKAGE_DIR = Path(expat.__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent          # the checkout, where tests/ lives (test node ids are relative to it)
_DECLARES = re.compile(r"^\s*[A-Z_][A-Z0-9_]*\s*=\s*(?:checks\.)?check\(\s*[\"']", re.M)


def import_check_modules() -> list[str]:
    """Import every module of the project that declares a named check; return their names."""
    names = []
    for name, path in python_modules():
        try:
            src = path.read_text(encoding="utf-8")
        except OSError:
            continue
        if not _DECLARES.search(src):
            continue
        importlib.import_module(name)
        names.append(name)
    return names


def property_ids() -> tuple[str, ...]:
    return PROPERTY_IDS


def _qualified_exists(name: str) -> bool:
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for attr in parts[i:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def node_exists(node_id: str, root: Path = REPO_DIR) -> bool:
    file, _, rest = node_id.partition("::")
    path = root / file
    if not rest or not path.is_file():
        return False
    names = rest.split("::")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    scope: list[ast.stmt] = tree.body
    for i, n in enumerate(names):
        n = n.split("[", 1)[0]          # parametrized ids
        last = i == len(names) - 1
        kinds = (ast.FunctionDef, ast.AsyncFunctionDef) if last else (ast.ClassDef,)
        found = next((s for s in scope if isinstance(s, kinds) and s.name == n), None)
        if found is None:
            return False
        scope = found.body
    return True


def profile_fields() -> set[str]:
    """Names a catalogue entry may link as a profile parameter: the Profile fields and the module's names."""
    from expat import profile

    return set(dir(profile)) | set(profile.Profile.__dataclass_fields__) | set(dir(profile.Profile))


def verify(catalogue: Catalogue, root: Path = REPO_DIR) -> list[str]:
    """Problems with the catalogue's links (empty list when every link resolves)."""
    from expat.checks import REGISTRY

    import_check_modules()
    props = set(property_ids())
    pfields = profile_fields()
    problems: list[str] = []
    ids: set[str] = set()
    for e in catalogue.entries:
        if e.id in ids:
            problems.append(f"{e.id}: duplicate id")
        ids.add(e.id)
        for c in e.checks:
            if c not in REGISTRY and not ("." in c and _qualified_exists(c)):
                problems.append(f"{e.id}: check {c!r} does not exist")
        for t in e.tests:
            if not node_exists(t, root):
                problems.append(f"{e.id}: test {t!r} does not exist")
        for kind in ("monitors", "lemmas"):
            for p in getattr(e, kind):
                if p not in props:
                    problems.append(f"{e.id}: {kind[:-1]} {p!r} is not a property id")
        for f in e.profile_parameters:
            if f not in pfields:
                problems.append(f"{e.id}: profile parameter {f!r} does not exist")
    return problems
