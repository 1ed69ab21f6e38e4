"""The golden trace corpus (traces/golden/, traces/golden.py).

The CI gate: regenerating the corpus (real TLS runs, then normalisation) gives byte-identical files.
Also: every honest golden trace is conformant, every attack trace says what its attack says, and
normalisation neither changes a verdict nor merges or splits values.
"""

import expat  # noqa: F401  (OpenSSL config first)

import json
import shutil

import pytest

from expat.cli import main
from expat.traces import golden
from expat.model.checker import check_trace
from expat.model.trace import TraceRecorder, load_trace, parse_lines
from expat.profile import get_profile
from expat.reference.attestation.scenario import Scenario, run

GOLDEN = golden.GOLDEN_DIR

# attack -> properties its unmitigated run must flag (docs/attacks.md)
ATTACK_PROPERTIES = {
    "evidence-replay-other-connection": {"channel_binding"},
    "evidence-replay-same-connection": {"request_binding", "reattestation_fresh"},
    "binding-other-label": {"channel_binding", "request_binding"},
    "relay-split-deployment": {"aik_in_tee"},
    "passport-result-replay": {"channel_binding"},
    "spontaneous-attestation": {"request_binding"},
    "reflection-without-public-key": {"no_reflection"},
    "resumption-inherits-attestation": {"no_resumption"},
    "delegated-verifier-skips-comparison": {"channel_binding"},
}


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    d = tmp_path_factory.mktemp("golden")
    changed = golden.regenerate(d)
    return d, changed


def test_regeneration_is_byte_identical_to_the_committed_corpus(regenerated):
    d, _ = regenerated
    committed = sorted(p.name for p in GOLDEN.glob("*.jsonl"))
    fresh = sorted(p.name for p in d.glob("*.jsonl"))
    assert committed == fresh, "file set differs: run `expat traces regenerate`"
    differ = [n for n in fresh if (d / n).read_bytes() != (GOLDEN / n).read_bytes()]
    assert not differ, f"regeneration changes {differ}: run `expat traces regenerate` and review"


def test_corpus_covers_matrix_and_every_attack():
    from expat.reference.attacks import ATTACKS

    names = {p.name for p in GOLDEN.glob("*.jsonl")}
    for attester in ("client", "server", "mutual"):
        for model in ("background-check", "passport"):
            assert f"honest-{attester}-{model}.jsonl" in names
    for attack in ATTACKS:
        assert {f"attack-{attack}-mitigated.jsonl", f"attack-{attack}-unmitigated.jsonl"} <= names
    assert set(ATTACKS) <= set(ATTACK_PROPERTIES)


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("honest-*.jsonl")), ids=lambda p: p.name)
def test_honest_golden_traces_are_conformant(path):
    trace = load_trace(path)
    assert trace.header["with_secrets"] is False
    assert trace.header["normalised"]["scheme"] == "expat-golden/1"
    assert check_trace(trace).conformant, check_trace(trace).to_json()


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("attack-*.jsonl")), ids=lambda p: p.name)
def test_attack_golden_traces(path):
    trace = load_trace(path)
    result = check_trace(trace)
    name = trace.header["attack"]
    from expat.reference.attacks import ATTACKS

    if path.name.endswith("-mitigated.jsonl"):
        assert ATTACKS[name].mitigation not in trace.header["mitigations_off"]
        assert result.conformant, result.to_json()
        assert any(e.name == "AuthenticatorRejected" or e.name == "ConnectionClosed" for e in trace.events)
    else:
        assert ATTACKS[name].mitigation in trace.header["mitigations_off"]
        assert not result.conformant
        assert ATTACK_PROPERTIES[name] <= result.properties(), result.to_json()


def test_cli_check_names_changed_files(regenerated, tmp_path, capsys):
    d, _ = regenerated
    copy = tmp_path / "corpus"
    shutil.copytree(d, copy)
    assert main(["traces", "regenerate", "--check", "--dir", str(copy)]) == 0
    victim = copy / "honest-client-passport.jsonl"
    lines = victim.read_text().splitlines()
    victim.write_text("\n".join(lines[:-1]) + "\n")
    (copy / "stale.jsonl").write_text("{}\n")
    capsys.readouterr()
    assert main(["traces", "regenerate", "--check", "--dir", str(copy)]) == 1
    out = capsys.readouterr().out
    assert "would change: honest-client-passport.jsonl" in out and "would change: stale.jsonl" in out
    assert victim.read_text().count("\n") == len(lines) - 1   # --check writes nothing
    assert main(["traces", "regenerate", "--dir", str(copy)]) == 0
    assert victim.read_bytes() == (d / victim.name).read_bytes() and not (copy / "stale.jsonl").exists()


def _raw(attester="mutual", model="background-check", profile="default", seed="golden-test"):
    s = Scenario(attester=attester, model=model, profile=get_profile(profile), seed=seed.encode(), reattest=1)
    rec = TraceRecorder(profile=s.profile.to_dict(), seed=seed, with_secrets=False)
    assert run(s, rec).ok
    return rec.trace()


@pytest.mark.parametrize("model", ["background-check", "passport"])
def test_normalisation_keeps_verdict_and_equalities(model):
    raw = _raw(model=model)
    norm = golden.normalise(raw)
    assert check_trace(raw).to_json()["violations"] == check_trace(norm).to_json()["violations"] == []
    # a bijection on renamed values: same original <-> same stand-in, real values untouched
    pairs: dict[str, str] = {}
    for a, b in zip(raw.events, norm.events):
        assert (a.seq, a.agent, a.name) == (b.seq, b.agent, b.name)
        for k, v in a.args.items():
            if k == "authenticator":
                assert k not in b.args
            elif k in golden.RENAMED and v not in ("", "-"):
                assert b.args[k] != v and len(b.args[k]) == len(v)
                assert pairs.setdefault(v, b.args[k]) == b.args[k]
            elif k == "request":
                assert b.args[k] != v and b.args[k].replace(b.args["ctx"], a.args["ctx"]) == v
            else:
                assert b.args[k] == v
    assert len(set(pairs.values())) == len(pairs) > 5
    assert norm.header["normalised"]["dropped"] == ["authenticator"]
    # still a valid trace line by line
    parse_lines(norm.text().splitlines(), "norm")


def test_normalisation_keeps_a_violation():
    """A broken trace stays broken in the same way: a requester's completion recorded twice."""
    raw = _raw(attester="client")
    lines = [json.loads(x) for x in raw.lines()]
    done = [x for x in lines[1:] if x["event"] == "AttestationCompleted"]
    lines.append(dict(done[0], seq=len(lines) - 1))
    broken = parse_lines([json.dumps(x) for x in lines], "broken")

    def verdict(t):
        return sorted((v.kind, v.id, v.event_index) for v in check_trace(t).violations)

    assert verdict(broken) and verdict(broken) == verdict(golden.normalise(broken))


def test_secrets_are_refused():
    rec = TraceRecorder(seed="s", with_secrets=True)
    with pytest.raises(ValueError):
        golden.normalise(rec.trace())


def test_expat_check_cli_on_the_corpus(capsys):
    honest = [str(p) for p in sorted(GOLDEN.glob("honest-*.jsonl"))]
    assert main(["check", *honest]) == 0
    assert capsys.readouterr().out.count(": conformant") == len(honest)
    for p in sorted(GOLDEN.glob("attack-*-unmitigated.jsonl")):
        assert main(["check", str(p)]) == 1
        assert ATTACK_PROPERTIES[load_trace(p).header["attack"]] <= {
            v["property"] for v in json.loads(capsys.readouterr().out)["violations"] if "property" in v}
