"""Mitigation flags the Tamarin theory cannot switch off are declared, checked, and never proved as if on."""

from __future__ import annotations

import pytest

from expat.layout import locate
from expat.model.roles import FLAGS
from expat.tamarin import mapping as M
from expat.tamarin.check import check_text


def _theory() -> str:
    return locate("tamarin/expat.spthy").read_text(encoding="ascii")


def test_every_flag_is_switchable_or_declared_not_modelled():
    assert [f for f in check_text(_theory()) if f.kind == "flags"] == []
    assert set(M.FLAGS_NOT_MODELLED) <= set(FLAGS)


def test_an_undeclared_missing_switch_is_reported():
    text = _theory().replace("OFF_check_binding", "OFF_renamed_switch")
    assert any("check_binding" in f.detail for f in check_text(text) if f.kind == "flags")


def test_prove_refuses_a_variant_with_an_unmodelled_flag(tmp_path):
    from expat.tamarin import prove

    with pytest.raises(ValueError, match="not modelled"):
        prove.prove(locate("tamarin/expat.spthy"), flags=["reject_resumption"], prover="/bin/false",
                    out_dir=tmp_path)
