"""The model package has no import circle: data (events, tables, relations, properties) at the bottom,
the World that queries a trace above them, monitors above that, the checker that evaluates them on top.

Imports inside ``if TYPE_CHECKING:`` are annotations only and do not count; imports inside
functions do (they are how a circle hides).
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "model"


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _model_imports(path: Path) -> set[str]:
    """Modules of expat.model that ``path`` imports at run time (anywhere but TYPE_CHECKING blocks)."""
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            names = []
        for n in names:
            parts = n.split(".")
            if parts[:2] == ["expat", "model"] and len(parts) > 2 and (MODEL / f"{parts[2]}.py").exists():
                out.add(parts[2])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    out.discard(path.stem)
    return out


def _graph() -> dict[str, set[str]]:
    return {p.stem: _model_imports(p) for p in MODEL.glob("*.py") if p.stem != "__init__"}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state and (found := dfs(m)):
                return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state and (found := dfs(n)):
            return found
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_model_package_has_no_import_circle():
    assert _cycle(_graph()) is None


def test_layers():
    g = _graph()
    # data at the bottom: the vocabulary, properties, tables and relations never reach the evaluation
    for low in ("events", "properties", "roles", "relations", "tlskdf", "verdicts"):
        assert not g[low] & {"world", "monitors", "checker"}, (low, g[low])
    assert "checker" not in g["monitors"] and "checker" not in g["world"]
    assert {"world", "monitors", "roles", "relations"} <= g["checker"]
