"""Cross-check of the generated theory with an independent spthy grammar (py-tree-sitter-spthy).

py-tree-sitter-spthy is GPL-3.0: a test-only extra (pyproject [project.optional-dependencies] test),
never imported by the library. Without it these tests skip with the reason.
"""

from __future__ import annotations

import pytest
from tamarin_support import fresh_theory

from expat.model.roles import FLAGS
from expat.tamarin import spthy

ts_spthy = pytest.importorskip("tree_sitter_spthy", reason="py-tree-sitter-spthy (GPL, test extra) not installed")
tree_sitter = pytest.importorskip("tree_sitter", reason="tree-sitter not installed")


def _tree(text: str):
    parser = tree_sitter.Parser(ts_spthy.language())
    return parser.parse(text.encode("ascii"))


def _errors(node) -> list:
    out = []
    if node.type == "ERROR" or node.is_missing:
        out.append((node.start_point, node.text[:60]))
    for c in node.children:
        out += _errors(c)
    return out


def _items(node, kind: str) -> list[str]:
    """Names of the rule/lemma/restriction items anywhere in the tree (all #ifdef branches)."""
    out = []
    if node.type == kind and node.is_named and node.child_count:
        kids = [g for c in node.children for g in ([c] + (list(c.children) if c.type == "simple_rule" else []))]
        ident = next((c for c in kids if c.type == "ident"), None)
        if ident is not None:
            out.append(ident.text.decode())
    for c in node.children:
        out += _items(c, kind)
    return out


def test_generated_theory_parses_without_errors():
    tree = _tree(fresh_theory())
    assert tree.root_node.type == "theory"
    assert not tree.root_node.has_error, _errors(tree.root_node)[:5]


def test_items_agree_with_our_parser_across_all_branches():
    text = fresh_theory()
    root = _tree(text).root_node
    ts_rules, ts_lemmas = set(_items(root, "rule")), set(_items(root, "lemma"))
    ts_restrictions = set(_items(root, "restriction"))
    ours_rules, ours_lemmas, ours_restrictions = set(), set(), set()
    for flags in [set()] + [{"OFF_" + f} for f in FLAGS] + [{"OFF_check_binding", "OFF_check_aik_pub_hash"}]:
        th = spthy.parse(text, flags)
        ours_rules |= {r.name for r in th.rules}
        ours_lemmas |= {x.name for x in th.lemmas}
        ours_restrictions |= {x.name for x in th.restrictions}
    assert ts_rules == ours_rules
    assert ts_lemmas == ours_lemmas
    assert ts_restrictions == ours_restrictions


def test_cross_check_notices_broken_syntax():
    text = fresh_theory().replace("]->", "]=>", 1)
    assert _tree(text).root_node.has_error
