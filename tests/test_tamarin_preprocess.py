"""Tamarin's preprocessor as this project uses it, and records that stay valid per variant."""

from __future__ import annotations

import re

import pytest

from tests.tamarin_support import COMMITTED

from expat.model.expectations import VARIANTS
from expat.tamarin import records
from expat.tamarin.generate import FLAG_PREFIX
from expat.tamarin.preprocess import PreprocessError, holds, preprocess, variant_hash


def test_flag_formulas_read_as_tamarins_parser_reads_them():
    assert holds("A", {"A"}) and not holds("A", set())
    assert holds("not A", set()) and not holds("not A", {"A"})
    assert holds("A & not B", {"A"}) and not holds("A & not B", {"A", "B"})
    assert holds("A & B | C", {"C"}) and not holds("A & B | C", {"A"})  # & binds tighter than |
    with pytest.raises(PreprocessError):
        holds("(A)", set())


def test_blocks_else_branches_and_what_is_refused():
    text = "a\n#ifdef X\nb\n#else\nc\n#endif\nd\n"
    assert preprocess(text, []) == "a\nc\nd\n"
    assert preprocess(text, ["X"]) == "a\nb\nd\n"
    for bad in ("#ifdef X\n#ifdef Y\n#endif\n#endif\n", "#endif\n", "#ifdef X\n", "#define X\n", "#else\n"):
        with pytest.raises(PreprocessError):
            preprocess(bad, [])


def _rule(text: str, name: str) -> list[str]:
    return re.findall(rf"rule {name}:.*?\]\n(?=\n|rule|#|/\*|restriction|lemma|end)", text, re.S)


def test_each_variant_sees_one_background_acceptance_with_its_own_comparison():
    text = COMMITTED.read_text(encoding="ascii")
    for v in VARIANTS.values():
        flags = [FLAG_PREFIX + f for f in v.off]
        seen = preprocess(text, flags)
        [rule] = _rule(seen, "RP_2_AttestationCompleted_background")
        delegated = "local_binding_check" in v.off
        assert ("VerifierChecksBinding(" in rule and "BindingConfirmed(" in rule) is delegated, v.name
        assert ("CheckBinding(" in rule.replace("VerifierChecksBinding(", "")) is not delegated, v.name
        assert ("!AK(P, ak)" in rule) is ("check_evidence_signature" not in v.off), v.name
        compares = delegated and "verifier_compares_binding" not in v.off
        assert ("restriction verifier_compares_binding" in seen) is compares, v.name
        assert ("restriction check_binding" in seen) is ("check_binding" not in v.off and not delegated), v.name


def test_a_record_outlives_edits_that_do_not_touch_its_variant():
    text = COMMITTED.read_text(encoding="ascii")
    default = {"flags": [], "theory_sha256": "made-on-an-older-text",
               "variant_sha256": variant_hash(text, [])}
    delegated = {"flags": [FLAG_PREFIX + "local_binding_check"], "theory_sha256": "older",
                 "variant_sha256": variant_hash(text, [FLAG_PREFIX + "local_binding_check"])}

    def valid(record, edited: str, tmp) -> bool:
        tmp.write_text(edited, encoding="ascii")
        return records.belongs_to(record, tmp)

    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d) / "expat.spthy"
        assert valid(default, text, tmp) and valid(delegated, text, tmp)
        reworded = text.replace("/* background check:", "/* background check (reworded):")
        assert reworded != text and valid(default, reworded, tmp) and valid(delegated, reworded, tmp)
        # a change inside the delegated rule only: the default record stays, the delegated one is stale
        only_delegated = text.replace("BindingConfirmed(V, bind(k, ctx, aikpub), ev, R)",
                                      "BindingConfirmed(V, b, ev, R)")
        assert only_delegated != text
        assert valid(default, only_delegated, tmp) and not valid(delegated, only_delegated, tmp)
        # a change every variant sees: both stale
        everywhere = text.replace("rule NonceIssued:", "rule NonceIssuedRenamed:")
        assert not valid(default, everywhere, tmp) and not valid(delegated, everywhere, tmp)
