"""The generated Tamarin theory: byte-stable, committed, one rule per row, one lemma per property."""

from __future__ import annotations

import json
import shutil

from tamarin_support import COMMITTED, ROOT, fresh_theory, lemma_block

from expat.cli import main
from expat.model.events import EVENTS, ROLES
from expat.model.properties import PROPERTY_IDS
from expat.model.roles import FLAGS, TABLES
from expat.tamarin import check, generate, lemmas, spthy


def test_committed_theory_equals_a_fresh_export():
    """CI gate: tamarin/expat.spthy is what `expat tamarin export` writes from this checkout."""
    assert COMMITTED.exists(), "tamarin/expat.spthy missing: run `expat tamarin export`"
    assert COMMITTED.read_text(encoding="ascii") == fresh_theory(), \
        "tamarin/expat.spthy is stale: run `expat tamarin export` and commit it"


def test_export_check_flags_a_stale_file(tmp_path, capsys):
    assert main(["tamarin", "export", "--check", "--out", str(tmp_path)]) == 1  # missing
    assert main(["tamarin", "export", "--out", str(tmp_path)]) == 0
    assert main(["tamarin", "export", "--check", "--out", str(tmp_path)]) == 0
    theory = tmp_path / "expat.spthy"
    theory.write_text(theory.read_text(encoding="ascii") + "\n", encoding="ascii")
    assert main(["tamarin", "export", "--check", "--out", str(tmp_path)]) == 1
    assert "stale" in capsys.readouterr().err


def test_export_is_byte_stable(tmp_path):
    assert main(["tamarin", "export", "--out", str(tmp_path / "a")]) == 0
    assert main(["tamarin", "export", "--out", str(tmp_path / "b")]) == 0
    a = (tmp_path / "a" / "expat.spthy").read_bytes()
    assert a == (tmp_path / "b" / "expat.spthy").read_bytes()
    a.decode("ascii")  # Tamarin input stays ASCII


def test_one_rule_per_row_counted_independently():
    """Rows of an event that belongs to the Endpoint and another machine join pairwise; every other
    row is one rule. Counted here from the tables, not from the generator."""
    endpoint_rows = {}
    for r in TABLES["Endpoint"]:
        endpoint_rows.setdefault(r.event, []).append(r)
    expected = 0
    for role in ROLES:
        for r in TABLES[role]:
            other_roles = {x.role for rows in TABLES.values() for x in rows if x.event == r.event}
            shared = "Endpoint" in other_roles and len(other_roles) > 1
            if role == "Endpoint" and shared:
                continue
            expected += len(endpoint_rows[r.event]) if shared else 1
    text = fresh_theory()
    names = {line.split()[1].rstrip(":") for line in text.splitlines() if line.startswith("rule ")}
    env = {"TLS_Server_Key", "TLS_Handshake", "TLS_Handshake_AdversaryPeer", "TLS_Handshake_Impersonation",
           "TLS_Resumption", "Context_Fresh", "Context_VerifierNonce", "AE_Setup", "Verifier_Setup",
           "Application_Exporter", "Adversary_SubmitToVerifier", "Reveal_ConnectionSecret", "Reveal_Aik",
           "Reveal_AttestationKey", "Reveal_TlsKey", "Reveal_Host", "Host_EvidenceOracle", "Host_AikSignOracle"}
    assert env <= names
    assert len(names - env) == expected


def test_every_event_is_an_action_fact_with_the_vocabulary_arity():
    theory = spthy.parse(fresh_theory())
    seen: dict[str, set[int]] = {}
    for r in theory.rules:
        for f in r.actions:
            seen.setdefault(f.name, set()).add(f.arity)
    for name, spec in EVENTS.items():
        assert seen.get(name) == {1 + len(spec.args)}, name


def test_one_lemma_and_one_sanity_lemma_per_property():
    theory = spthy.parse(fresh_theory())
    by_name = {x.name: x for x in theory.lemmas}
    for p in PROPERTY_IDS:
        assert by_name[p].quantifier == "all-traces"
        assert by_name[p + "_reachable"].quantifier == "exists-trace"
    assert {"request_context_sources", "accepted_cmw_sources"} <= set(by_name)
    assert all("sources" in by_name[n].attributes for n in ("request_context_sources", "accepted_cmw_sources"))


def test_weakened_variants_are_preprocessor_flags():
    text = fresh_theory()
    assert set(spthy.flags_used(text)) == {"OFF_" + f for f in FLAGS}
    default = spthy.parse(text)
    names = {r.name for r in default.rules}
    # attack edges exist only with their mitigation off (model/roles.py `when`)
    assert "Endpoint_Start_ChannelEstablished_Attested" not in names
    resumption = {r.name for r in spthy.parse(text, {"OFF_reject_resumption"}).rules}
    assert "Endpoint_Start_ChannelEstablished_Attested" in resumption
    # a flag that changes a term: the binding without the public key (draft -02 Sec. 5.1)
    rule = spthy.parse(text, {"OFF_include_public_key_in_binding"}).rule(
        "TargetEnvironment_Received_EvidenceRequested_Awaiting")
    assert "h(exporter(ems, 'Attestation', ctx))" in rule.actions[0].args
    rule = default.rule("TargetEnvironment_Received_EvidenceRequested_Awaiting")
    assert "h(<aik, exporter(ems, 'Attestation', ctx)>)" in rule.actions[0].args


def test_header_documents_expected_verdicts_from_the_shared_table():
    text = fresh_theory()
    assert "no-binding-check               -D=OFF_check_binding" in text
    assert ("falsified: channel_binding, evidence_freshness, no_diversion, no_reflection, reattestation_fresh, "
            "request_binding") in text
    block = text[text.index("// aik_in_tee:"):]
    assert "falsified with no-aik-hash-check (-D=OFF_check_aik_pub_hash)" in block.splitlines()[1]


def test_expected_verdicts_follow_expectations_table():
    assert lemmas.expected_verdict("channel_binding", ["check_binding"]) == "falsified"
    assert lemmas.expected_verdict("channel_binding", []) == "verified"
    assert lemmas.expected_verdict("aik_in_tee", ["check_evidence_signature"]) == "falsified"
    assert lemmas.expected_verdict("channel_binding_reachable", ["check_binding"]) == "verified"
    # a combination no variant names: the union of the variants it contains
    both = lemmas.violated_under(["check_aik_pub_hash", "check_verifier_nonce"])
    assert both == {"aik_in_tee", "no_reflection", "verifier_nonce_fresh"}


def test_check_cli_accepts_the_committed_theory(capsys):
    assert main(["tamarin", "check", str(ROOT / "tamarin")]) == 0
    assert "ok: the theory matches the model" in capsys.readouterr().out


def test_check_cli_json_and_missing_file(tmp_path, capsys):
    assert main(["tamarin", "check", str(tmp_path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out[0]["kind"] == "missing"


# --- executability lemmas from traces ----------------------------------------------------------------

def test_golden_glob_is_one_constant_with_fallback(tmp_path):
    assert lemmas.GOLDEN_GLOB == "traces/golden/honest-*.jsonl"
    ex = tmp_path / "traces" / "examples"
    ex.mkdir(parents=True)
    shutil.copy(ROOT / "traces/examples/synthetic-honest-background.jsonl", ex)
    assert [p.name for p in lemmas.golden_traces(tmp_path)] == ["synthetic-honest-background.jsonl"]
    gold = tmp_path / "traces" / "golden"
    gold.mkdir()
    shutil.copy(ROOT / "traces/examples/synthetic-honest-passport.jsonl", gold / "honest-x.jsonl")
    assert [p.name for p in lemmas.golden_traces(tmp_path)] == ["honest-x.jsonl"]
    assert lemmas.golden_traces(tmp_path / "nothing-here") == []


def test_theory_without_traces_still_checks():
    text = generate.theory_text([])
    assert "lemma executable_" not in text
    assert check.check_text(text, []) == []


def test_trace_lemma_keeps_order_and_equalities():
    path = ROOT / "traces/examples/synthetic-honest-background.jsonl"
    name, formula, off = lemmas.trace_lemma(path)
    assert name == "executable_synthetic_honest_background" and off == ()
    atoms = [a for a in spthy.formula_atoms(formula) if a.name != "Reveal"]
    events = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    assert [a.name for a in atoms] == [e["event"] for e in events]
    by = {a.name: a for a in atoms}
    # the Verifier nonce is the request's context (background check), the same variable
    assert by["NonceIssued"].args[1] == by["RequestSent"].args[2] == by["EvidenceAppraised"].args[5]
    assert by["RequestSent"].args[3] == "'13'" and by["AuthenticatorSent"].args[4] == "'evidence'"
    assert by["ChannelEstablished"].args[4] == "'client'" and by["ChannelEstablished"].args[5] == "'none'"
    assert by["EvidenceAppraised"].args[4] == "'empty'"  # no binding echo in this trace
    assert by["BindingChecked"].args[3] == by["BindingChecked"].args[4]  # expected == carried binding
    assert "#t0 < #t1" in formula and f"#t{len(atoms) - 2} < #t{len(atoms) - 1}" in formula
    assert formula.endswith("not (Ex ry #r. Reveal(ry)@r)")


def test_trace_recorded_with_a_mitigation_off_is_wrapped_in_its_flag(tmp_path):
    path = ROOT / "traces/examples/synthetic-attack-spontaneous.jsonl"
    _, _, off = lemmas.trace_lemma(path)
    assert off == ("reject_spontaneous_attestation",)
    text = generate.theory_text([path])
    block = text[text.index("lemma executable_synthetic_attack_spontaneous") - 60:]
    assert "#ifdef OFF_reject_spontaneous_attestation\nlemma executable_synthetic_attack_spontaneous" in block
    assert "executable_synthetic_attack_spontaneous" not in {x.name for x in spthy.parse(text).lemmas}
    assert "executable_synthetic_attack_spontaneous" in {
        x.name for x in spthy.parse(text, {"OFF_reject_spontaneous_attestation"}).lemmas}
    assert check.check_text(text, [path]) == []


def test_every_golden_trace_has_its_lemma():
    text = fresh_theory()
    for t in lemmas.golden_traces():
        name, formula, off = lemmas.trace_lemma(t)
        assert formula in lemma_block(text, name)


def test_block_conditions_select_exactly_their_flag_combinations():
    """Every subset of the 8 combinations of three flags gets a flat #ifdef formula that Tamarin's
    evaluation rules (spthy.flag_formula_holds) accept for exactly those combinations."""
    import itertools

    deps = ["check_binding", "check_aik_pub_hash", "reject_resumption"]
    combos = list(itertools.product((0, 1), repeat=3))
    for k in range(1, 8):
        for chosen in itertools.combinations(combos, k):
            formula = generate.flag_condition(deps, list(chosen))
            assert "(" not in formula
            for bits in combos:
                defined = {"OFF_" + f for f, b in zip(deps, bits) if b}
                assert spthy.flag_formula_holds(formula, defined) == (bits in chosen), (chosen, formula, bits)


def test_docs_expected_verdicts_table_matches_the_shared_table():
    from expat.model.expectations import VARIANTS

    rows = {}
    for line in (ROOT / "docs" / "tamarin.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and cells[0] in VARIANTS:
            flags = tuple(x.strip("`").removeprefix("OFF_") for x in cells[1].split(", ") if x != "—")
            falls = tuple(sorted(x.strip() for x in cells[2].split(",") if x.strip() not in ("", "—")))
            rows[cells[0]] = (flags, falls)
    assert rows == {n: (v.off, v.violated) for n, v in VARIANTS.items()}
