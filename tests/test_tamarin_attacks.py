"""Attack round trip (issue 12): each attack lemma is a bounded-search counterexample of a lemma Tamarin
falsified, projected onto the theory's facts; ``expat check --formulas`` flags the trace with the same
property, and the recorded Tamarin run proves the attack lemma and refutes its reveal-free control."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from expat.model import judge as J
from expat.model.trace import load_trace
from expat.tamarin import attacks as A
from expat.tamarin import lemmas, prove, records
from expat.tamarin.generate import theory_text

ROOT = Path(__file__).resolve().parents[1]
THEORY = ROOT / "tamarin" / A.THEORY_FILE


def test_attack_theory_is_committed_and_is_the_theory_plus_the_attack_lemmas():
    text = THEORY.read_text(encoding="ascii")
    assert text == A.theory_text()
    base = theory_text()
    assert text.startswith(base[:-len("end\n")])  # every rule, restriction and lemma of expat.spthy unchanged
    for name in A.lemma_names():
        assert f"lemma {name}: exists-trace" in text


def test_each_attack_is_a_counterexample_the_formula_judge_flags_and_tamarin_falsified():
    records = {json.loads(p.read_text())["variant"]: json.loads(p.read_text())
               for p in (ROOT / "tamarin" / "results").glob("expat__*.json")}
    for attack in A.ATTACKS:
        trace = load_trace(ROOT / attack.counterexample)
        flagged = {(v.id, v.detail.split(" ")[1].strip("()")) for v in J.judge(trace)}
        assert (attack.property, attack.branch) in flagged, attack
        tamarin = {x["name"]: x["verdict"] for x in records[attack.variant]["lemmas"]}
        # falsified, or no verdict within its limit: the attack lemma then shows what the search found
        assert tamarin[attack.property] in ("falsified", "timeout"), attack


def test_the_projection_drops_the_adversary_s_acts_but_keeps_what_it_learned():
    for attack in A.ATTACKS:
        bad = A.adversaries(attack.counterexample)
        assert bad
        every = A.read_events(attack.counterexample)
        kept = A.honest_events(attack.counterexample)
        dropped = [e for e in every if e not in kept]
        # the adversary's acts, and a Verifier nonce that was only ever a passport request's context
        passport = {e["args"]["ctx"] for e in every if e["event"] == "AuthenticatorAccepted"
                    and e["args"]["kind"] == "result"}
        assert dropped and all(e["agent"] in bad or e["agent"].startswith("m-") or
                               (e["event"] == "NonceIssued" and e["args"]["nonce"] in passport) for e in dropped)
        # the adversary's only kept acts: reveals, and the channels it is an endpoint of
        assert all(e["agent"] not in bad for e in kept if e["event"] not in A.REVEALS + ("ChannelEstablished",))
        reveals = [e for e in kept if e["event"] in A.REVEALS]
        assert reveals, "every listed attack needs what the adversary learned: the reveals must stay"
        text = A.lemma_text(attack)
        assert "SecretRevealed(" in text and "not (Ex x #r. SecretRevealed(x) @ r)" not in text
        control = A.lemma_text(attack, control=True)
        assert "SecretRevealed(k" not in control.split("& (Ex R")[0]  # no reveal fact in the run ...
        assert "not (Ex x #r. SecretRevealed(x) @ r)" in control      # ... and none allowed


def test_expected_verdicts_of_the_attack_lemmas():
    for attack in A.ATTACKS:
        assert lemmas.expected_verdict(attack.lemma, []) == "verified"
        assert lemmas.expected_verdict(A.control_name(attack), []) == "falsified"


def test_the_recorded_tamarin_runs_prove_each_attack_and_refute_its_control():
    by_variant: dict[str, set[str]] = {}
    for attack in A.ATTACKS:
        by_variant.setdefault(attack.variant, set()).update({attack.lemma, A.control_name(attack)})
    for variant, names in by_variant.items():
        path = ROOT / "tamarin" / "results" / f"attacks__{variant}.json"
        record = json.loads(path.read_text(encoding="utf-8"))
        jsonschema.validate(record, prove.RESULT_SCHEMA)
        assert record["theory"] == A.THEORY_FILE and record["variant"] == variant
        assert records.belongs_to(record, THEORY), \
            f"{path.name} was made on another attack theory: rerun expat prove --theory tamarin/attacks.spthy"
        got = {x["name"]: x["verdict"] for x in record["lemmas"]}
        assert set(got) == names
        for name, verdict in got.items():
            if name in A.UNRESOLVED:  # tried, no verdict yet (docs/tamarin.md); never counted as proved
                assert verdict in ("timeout", "error"), (name, verdict, "settled: drop it from UNRESOLVED")
                continue
            assert verdict == A.expected(name), (name, verdict)
    # every attack has its control refuted, and some attack of each kind is proved
    assert set(A.UNRESOLVED) < {a.lemma for a in A.ATTACKS}


def test_the_adversary_s_own_tee_becomes_the_compromised_host_s_oracle():
    """A run in which mallory's own TEE produces Evidence (the bounded search's m-ae) is translated with
    the theory's compromised host: HostCompromised of mallory's platform right before that TEE's first
    Evidence, whose EvidenceProduced stays (Compromised_TeeOracle); the control drops the compromise."""
    path = "proofs/counterexamples/formulas/reflection--aik_in_tee.jsonl"
    every = A.read_events(path)
    assert any(e["event"] == "EvidenceProduced" and e["agent"] == "m-ae" for e in every)
    kept = A.honest_events(path)
    names = [(e["event"], e["agent"]) for e in kept]
    first_oracle = names.index(("EvidenceProduced", "m-ae"))
    assert names[first_oracle - 1] == ("HostCompromised", "mallory")
    assert names.count(("HostCompromised", "mallory")) == 1
    assert ("AikGenerated", "m-ae") in names
    # mallory's own acts as a TLS peer stay out (requests, authenticators, its request to its TEE)
    assert not any(a == "mallory" and n not in A.REVEALS + ("ChannelEstablished",) for n, a in names)
    attack = A.Attack("reflection", "aik_in_tee", "evidence", path, "test")
    text = A.lemma_text(attack)
    lines = [x.strip() for x in text.splitlines()]
    compromised = next(x for x in lines if x.startswith("& HostCompromised("))
    platform = compromised.split("(")[1].split(")")[0]
    assert any(x.startswith(f"& EvidenceProduced({platform}, ") for x in lines)
    control = A.lemma_text(attack, control=True)
    assert "& HostCompromised(" not in control and "not (Ex x #r. HostCompromised(x) @ r)" in control


def test_a_run_without_the_adversary_s_tee_keeps_it_out():
    path = "proofs/counterexamples/formulas/evidence-signature-unchecked--evidence_integrity.jsonl"
    kept = A.honest_events(path)
    assert not any(e["agent"] == "m-ae" or e["event"] == "HostCompromised" for e in kept)
