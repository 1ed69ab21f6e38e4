"""The model's own key schedule (model/tlskdf.py) and its independence from the reference.

Cross-checked three ways: against the reference's key schedule on arbitrary inputs, against
OpenSSL's exporter on live TLS 1.3 connections, and against RFC 8448's known answer. The model
package must not import the reference: statically (no module of model/ names it) and at run time
(importing the checker loads no protocol code from it).
"""

import expat  # noqa: F401  (before anything imports OpenSSL)

import ast
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from expat.model import tlskdf
from expat.model.relations import exported_value
from expat.reference import keyschedule as ks
from expat.reference import tls
from expat.reference.attestation import binding as ref_binding
from expat.profile import get_profile
from peers import KINDS, SUITES, mutual_configs

ROOT = Path(__file__).resolve().parents[1]
HASHES = {"sha256": (tlskdf.SHA256, ks.SHA256), "sha384": (tlskdf.SHA384, ks.SHA384)}


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(sorted(HASHES)), data=st.data())
def test_exporter_equals_the_reference_key_schedule(name, data):
    mine, ref = HASHES[name]
    ems = data.draw(st.binary(min_size=mine.length, max_size=mine.length))
    label = data.draw(st.binary(min_size=1, max_size=40))
    ctx = data.draw(st.binary(max_size=255))
    length = data.draw(st.integers(0, 255))
    assert tlskdf.tls_exporter(mine, ems, label, ctx, length) == ks.tls_exporter(ref, ems, label, ctx, length)
    assert tlskdf.hkdf_expand_label(mine, ems, label, ctx, length) == ks.hkdf_expand_label(ref, ems, label, ctx,
                                                                                          length)


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(HASHES)), formula=st.sampled_from(["02", "01", "exporter"]),
       pk=st.binary(max_size=120), ev=st.binary(min_size=32, max_size=64), nonce=st.binary(max_size=32))
def test_binding_equals_the_reference_binder(name, formula, pk, ev, nonce):
    mine, ref = HASHES[name]
    profile = dataclasses.replace(get_profile("default"), binding_formula=formula)
    assert tlskdf.binding(mine, formula, pk, ev, nonce) == ref_binding.binding(ref, profile, pk, ev, nonce)


def test_suite_hashes_agree_with_the_reference():
    assert {s: h.name for s, h in tlskdf.SUITE_HASH.items()} == {s: h.name for s, h in ks.CIPHER_SUITE_HASH.items()}


def test_rfc8448_derive_secret_known_answer():
    # RFC 8448 §3: early secret = HKDF-Extract(0, 0); "derived" = Derive-Secret(early, "derived", "")
    early = bytes.fromhex("33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a")
    derived = "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba"
    assert tlskdf.derive_secret(tlskdf.SHA256, early, b"derived", b"").hex() == derived


def test_exporter_refuses_a_secret_of_the_wrong_length():
    with pytest.raises(ValueError):
        tlskdf.tls_exporter(tlskdf.SHA384, bytes(32), b"Attestation", b"", 32)


@pytest.mark.parametrize("suite", SUITES)
def test_exporter_equals_openssl_on_a_live_connection(suite):
    client, server = tls.loopback_pair(*mutual_configs(KINDS[0], suite))
    try:
        h = tlskdf.SUITE_HASH[suite]
        ems = client.exporter_master_secret
        for label in (b"Attestation", b"Attestation Binding", b"EXPORTER-server authenticator finished key"):
            for ctx in (b"", b"\x01", bytes(range(32))):
                for length in (32, h.length, 64):
                    want = client.export_keying_material(label, length, ctx)  # pyOpenSSL / OpenSSL
                    assert tlskdf.tls_exporter(h, ems, label, ctx, length) == want
                    assert server.export_keying_material(label, length, ctx) == want
        profile = {"exporter_length": "hash"}
        assert exported_value(h, ems, profile, b"\x07") == client.export_keying_material(b"Attestation", h.length,
                                                                                          b"\x07")
    finally:
        client.close()
        server.close()


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def test_no_model_module_imports_the_reference():
    offenders = {p.name: sorted(m for m in _imports(p) if m.startswith("expat.reference"))
                 for p in sorted((ROOT / "model").glob("*.py"))}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_importing_the_checker_loads_no_reference_protocol_code():
    # `import expat` configures OpenSSL through expat.reference.openssl_config (environment set-up,
    # no protocol code); nothing else of the reference may come along with the checker.
    code = ("import sys, expat.model.checker, expat.model.commands, expat.model.monitors\n"
            "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('expat.reference'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    assert set(out.split()) <= {"expat.reference", "expat.reference.openssl_config"}
    assert "expat.reference.keyschedule" not in out
