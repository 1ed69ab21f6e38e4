"""`expat prove` against a test double of the external `tamarin-prover` binary.

The default test run never calls the real prover: a script named tamarin-prover on PATH (in a tmp dir)
answers like Tamarin 1.8 does (texts copied from its runs on this theory): it prints Tamarin's "summary of summaries" block in the real format (lemma line
``NAME (all-traces): verified (N steps)``, statuses as Tamarin's showProofStatus words them) and
``--version`` output with the Tamarin and Maude versions. The test exercises expat's real process
handling (one process per lemma, -D flags, timeout kill, wait4 peak memory) and output parsing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import jsonschema
import pytest
from tamarin_support import COMMITTED, ROOT

from expat.tamarin import generate, lemmas, prove

# what the fake prover logs for the theory it is given: the digest of the committed text (expat prove
# hands the prover a private copy, so an edit of the file during a run cannot change what is proved)
READ = "sha256:" + generate.theory_hash(COMMITTED.read_text(encoding="ascii"))

FAKE = textwrap.dedent('''\
    #!{python}
    import hashlib, json, os, sys, time
    args = sys.argv[1:]
    log = os.environ.get("FAKE_LOG")
    if log:  # a theory file is logged by the digest of what the prover was given to read
        seen = ["sha256:" + hashlib.sha256(open(a, "rb").read()).hexdigest() if a.endswith(".spthy") else a
                for a in args]
        with open(log, "a") as f:
            f.write(json.dumps(seen) + "\\n")
    MAUDE = ("maude tool: 'maude'\\n checking version: WARNING:\\n\\n 'maude --version' returned unsupported version '3.2'\\n"
             " Please install one of the following versions of Maude: 2.7.1, 3.0, 3.1, 3.2.1, 3.2.2, 3.3, 3.3.1\\n\\n"
             "Detailed results from testing 'maude'\\n command: maude --version\\n stdin:   \\n stdout:  3.2\\n\\n stderr:  \\n"
             " checking installation: OK.")
    if args == ["--version"]:
        print("tamarin-prover 1.8.0, (C) David Basin, Cas Cremers, Jannik Dreier, Simon Meier, Ralf Sasse, Benedikt Schmidt, 2010-2023")
        print("")
        print(MAUDE)
        sys.exit(0)
    print(MAUDE)
    if not any(a.startswith("--prove") for a in args):  # the load with derivation checks
        deriv = os.environ.get("FAKE_DERIV", "")
        if deriv:
            print("WARNING: the following wellformedness checks failed!\\n\\nMessage Derivation Checks\\n"
                  "=========================\\n\\n  The variables of the follwing rule(s) are not derivable from "
                  "their premises, you may be performing unintended pattern matching.\\n")
            for item in deriv.split(";"):
                rule, var = item.split(":")
                print("Rule " + rule + ": \\nFailed to derive Variable(s): " + var + "\\n")
            print("*/")
        sys.exit(0)
    theory = args[-1]
    if "--prove" in args:  # batch: every lemma
        import re
        lemmas = re.findall(r"^lemma ([a-z_]+)", open(theory).read(), re.M)
    else:
        lemmas = [a.split("=", 1)[1] for a in args if a.startswith("--prove=")]
    lemma = lemmas[0]
    if os.environ.get("FAKE_WF_WARNING") and "--quit-on-warning" in args:
        print("WARNING: 1 wellformedness check failed!")
        print("quit-on-warning mode selected - aborting on wellformedness errors.")
        sys.exit(1)
    if lemma in os.environ.get("FAKE_OOM", "").split(","):
        print("[Saturating Sources] Step 1/5")
        print("tamarin-prover: out of memory (requested 1048576 bytes)", file=sys.stderr)
        sys.exit(251)
    statuses = json.loads(os.environ.get("FAKE_STATUS", "{{}}"))
    if lemma in os.environ.get("FAKE_SLEEP", "").split(","):
        time.sleep(60)
    if lemma in os.environ.get("FAKE_SPIN", "").split(","):  # busy in a child process, as Tamarin in Maude
        import subprocess
        subprocess.run([sys.executable, "-c", "import time\\nt = time.time()\\nwhile time.time() - t < 60: pass"])
    ballast = bytearray(int(os.environ.get("FAKE_ALLOC_MB", "0")) * 1024 * 1024)
    for i in range(0, len(ballast), 4096):
        ballast[i] = 1
    def quant(lemma):
        return "exists-trace" if (lemma.endswith("_reachable") or lemma.startswith("executable_")) else "all-traces"
    print("theory expat_attestation begin")
    print("/* All wellformedness checks were successful. */")
    print("/*")
    print("Generated from:")
    print("Tamarin version 1.8.0")
    print("Maude version 3.2")
    print("*/")
    print("end")
    print("=" * 78)
    print("summary of summaries:")
    print("")
    print("analyzed: " + theory)
    print("")
    print("  processing time: 0.21s")
    print("")
    for lemma in lemmas:
        print("  " + lemma + " (" + quant(lemma) + "): " + statuses.get(lemma, "verified") + " (7 steps)")
    print("")
    print("=" * 78)
''')


@pytest.fixture
def fake_prover(tmp_path, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "tamarin-prover"
    script.write_text(FAKE.format(python=sys.executable))
    script.chmod(0o755)
    log = tmp_path / "calls.jsonl"
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_LOG", str(log))
    for k in ("FAKE_STATUS", "FAKE_SLEEP", "FAKE_SPIN", "FAKE_ALLOC_MB", "FAKE_DERIV", "FAKE_WF_WARNING", "FAKE_OOM"):
        monkeypatch.delenv(k, raising=False)
    return log


def expat(*argv: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "expat", *argv], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=120)


def test_intended_pattern_matching_is_not_a_warning_anything_else_stops(fake_prover, tmp_path):
    env = {**os.environ, "FAKE_DERIV": "RP_2_AttestationCompleted_background:aik;RP_2_AttestationCompleted_passport:aik"}
    done = expat("prove", "--lemma", "channel_binding", "--out", str(tmp_path), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    env = {**os.environ, "FAKE_DERIV": "RP_2_AttestationCompleted_background:aik;TE_1_EvidenceProduced:ctx"}
    done = expat("prove", "--lemma", "channel_binding", "--out", str(tmp_path), env=env)
    assert done.returncode == 1
    # Tamarin's own text is printed, and no lemma ran
    assert "Rule TE_1_EvidenceProduced: \nFailed to derive Variable(s): ctx" in done.stdout
    assert "RP_2_AttestationCompleted_background" not in done.stdout
    record = json.loads((tmp_path / "expat__default.json").read_text())
    assert record["lemmas"] == [] and "TE_1_EvidenceProduced" in record["warning"]


def test_maude_version_notice_is_not_a_wellformedness_warning():
    out = ("maude tool: 'maude'\n checking version: WARNING:\n\n 'maude --version' returned unsupported version '3.2'\n"
           " checking installation: OK.\ntheory x begin\n/* All wellformedness checks were successful. */\nend\n")
    assert prove.warnings_of(out) == ""
    assert prove.versions("/nonexistent", out + "stdout:  3.2\n")[1] == "3.2"


def test_parse_summary_reads_tamarins_statuses():
    out = ("summary of summaries:\n\nanalyzed: expat.spthy\n\n  processing time: 1.2s\n\n"
           "  channel_binding (all-traces): verified (245 steps)\n"
           "  channel_binding_reachable (exists-trace): verified (20 steps)\n"
           "  no_reflection (all-traces): falsified - found trace (31 steps)\n"
           "  executable_x (exists-trace): falsified - no trace found (12 steps)\n"
           "  aik_in_tee (all-traces): analysis incomplete (1 steps)\n")
    got = prove.parse_summary(out)
    assert got["channel_binding"] == ("all-traces", "verified", 245)
    assert {k: prove.verdict_of(v[1]) for k, v in got.items()} == {
        "channel_binding": "verified", "channel_binding_reachable": "verified", "no_reflection": "falsified",
        "executable_x": "falsified", "aik_in_tee": "error"}
    assert prove.verdict_of(None) == "error"


def test_without_prover_it_says_so_and_exits_2(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path)}
    done = expat("prove", "--lemma", "channel_binding", env=env)
    assert done.returncode == 2
    assert "tamarin-prover is not on PATH" in done.stderr


def test_one_lemma_records_verdict_versions_time_and_memory(fake_prover, tmp_path):
    out = tmp_path / "results"
    env = {**os.environ, "FAKE_ALLOC_MB": "64"}
    done = expat("prove", "--lemma", "channel_binding", "--out", str(out), env=env)
    assert done.returncode == 0, done.stderr
    assert "[1/1] channel_binding: verified (expected verified" in done.stderr
    record = json.loads((out / "expat__default.json").read_text())
    jsonschema.validate(record, prove.RESULT_SCHEMA)
    assert record["theory"] == "expat.spthy" and record["flags"] == [] and record["variant"] == "default"
    assert (record["tamarin_version"], record["maude_version"]) == ("1.8.0", "3.2")
    assert record["theory_sha256"] == generate.theory_hash(COMMITTED.read_text(encoding="ascii"))
    [lem] = record["lemmas"]
    assert (lem["name"], lem["verdict"], lem["expected"]) == ("channel_binding", "verified", "verified")
    assert lem["peak_rss_mb"] >= 64  # the child's own peak (wait4), not ours
    assert 0 < lem["wall_s"] < 60
    calls = [json.loads(x) for x in fake_prover.read_text().splitlines()]
    assert ["--derivcheck-timeout=120", READ] in calls  # the load with derivation checks
    # one sequential search on one capability per lemma process (Tamarin's default DFS runs branches in parallel)
    assert ["--prove=channel_binding", "--derivcheck-timeout=0", "--quit-on-warning", "--stop-on-trace=SEQDFS",
            "+RTS", "-N1", "-RTS", "+RTS", "-A64m", "-RTS", READ] in calls
    assert record["search_options"] == ["--stop-on-trace=SEQDFS", "+RTS", "-N1", "-RTS"]
    # and a 64 MB allocation area for the garbage collector (no search option), recorded per lemma too
    assert record["runtime_options"] == lem["runtime_options"] == ["+RTS", "-A64m", "-RTS"]


def test_variant_flags_reach_the_prover_and_set_expectations(fake_prover, tmp_path):
    out = tmp_path / "results"
    env = {**os.environ, "FAKE_STATUS": json.dumps({"channel_binding": "falsified - found trace"})}
    done = expat("prove", "--variant", "no-binding-check", "--lemma", "channel_binding", "--out", str(out), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads((out / "expat__no-binding-check.json").read_text())
    assert record["flags"] == ["OFF_check_binding"]
    assert record["lemmas"][0]["verdict"] == record["lemmas"][0]["expected"] == "falsified"
    calls = [json.loads(x) for x in fake_prover.read_text().splitlines()]
    assert ["--prove=channel_binding", "-D=OFF_check_binding", "--derivcheck-timeout=0", "--quit-on-warning",
            "--stop-on-trace=SEQDFS", "+RTS", "-N1", "-RTS", "+RTS", "-A64m", "-RTS", READ] in calls
    # the same falsification under the default profile is unexpected: exit 1
    done = expat("prove", "--lemma", "channel_binding", "--out", str(out), env=env)
    assert done.returncode == 1 and "channel_binding: falsified, expected verified" in done.stdout


def test_timeout_kills_the_prover(fake_prover, tmp_path):
    env = {**os.environ, "FAKE_SLEEP": "no_reflection"}
    done = expat("prove", "--lemma", "no_reflection", "--timeout", "1", "--out", str(tmp_path), env=env)
    assert done.returncode == 1
    lem = json.loads((tmp_path / "expat__default.json").read_text())["lemmas"][0]
    assert lem["verdict"] == "timeout" and 1 <= lem["wall_s"] < 30


def test_processor_time_budget_counts_the_prover_s_children_and_stops_it(fake_prover, tmp_path):
    """--cpu-limit: the verdict depends on the work done, not on the machine's load. The fake prover
    spins in a child process (Tamarin's time in Maude counts too); a sleeping one is stopped by the wall
    guard with almost no processor time used."""
    env = {**os.environ, "FAKE_SPIN": "no_reflection", "FAKE_SLEEP": "aik_in_tee"}
    done = expat("prove", "--lemma", "no_reflection,aik_in_tee,channel_binding", "--cpu-limit", "1.5",
                 "--timeout", "8", "--out", str(tmp_path), env=env)
    assert done.returncode == 1, done.stderr
    record = json.loads((tmp_path / "expat__default.json").read_text())
    jsonschema.validate(record, prove.RESULT_SCHEMA)
    assert record["cpu_limit_s"] == 1.5 and record["timeout_s"] == 8
    got = {x["name"]: x for x in record["lemmas"]}
    spin, sleep, quick = got["no_reflection"], got["aik_in_tee"], got["channel_binding"]
    assert spin["verdict"] == "timeout" and 1.5 <= spin["cpu_s"] < 8 and spin["wall_s"] < 8
    assert sleep["verdict"] == "timeout" and sleep["wall_s"] >= 8 and sleep["cpu_s"] < 1.5
    assert quick["verdict"] == "verified" and quick["cpu_s"] < 1.5
    assert "processor" in done.stderr


def test_jobs_run_lemma_processes_side_by_side_and_keep_the_theory_s_order(fake_prover, tmp_path):
    env = {**os.environ, "FAKE_SPIN": "no_reflection,aik_in_tee"}
    names = ["aik_in_tee", "channel_binding", "no_reflection"]
    done = expat("prove", "--lemma", ",".join(names), "--jobs", "2", "--cpu-limit", "1", "--timeout", "30",
                 "--out", str(tmp_path), env=env)
    record = json.loads((tmp_path / "expat__default.json").read_text())
    assert record["jobs"] == 2 and [x["name"] for x in record["lemmas"]] == names, done.stderr
    proves = [c for c in map(json.loads, fake_prover.read_text().splitlines()) if any(a.startswith("--prove=") for a in c)]
    assert sorted(a for c in proves for a in c if a.startswith("--prove=")) == sorted(f"--prove={n}" for n in names)
    spun = [x for x in record["lemmas"] if x["name"] != "channel_binding"]
    # two spinning lemmas of at least 1 s processor each, side by side: the run took less than their sum
    assert all(x["verdict"] == "timeout" and x["cpu_s"] >= 1 for x in spun)
    assert record["run_wall_s"] < sum(x["wall_s"] for x in record["lemmas"])


def test_incomplete_analysis_is_an_error(fake_prover, tmp_path):
    env = {**os.environ, "FAKE_STATUS": json.dumps({"aik_in_tee": "analysis incomplete"})}
    done = expat("prove", "--lemma", "aik_in_tee", "--out", str(tmp_path), env=env)
    assert done.returncode == 1
    assert json.loads((tmp_path / "expat__default.json").read_text())["lemmas"][0]["verdict"] == "error"


def test_a_prover_that_dies_is_an_error_with_its_last_words(fake_prover, tmp_path):
    """An all-error record with an empty text was once committed: the runtime's own message is kept."""
    env = {**os.environ, "FAKE_OOM": "aik_in_tee"}
    done = expat("prove", "--lemma", "aik_in_tee", "--out", str(tmp_path), env=env)
    assert done.returncode == 1 and "out of memory" in done.stderr
    lem = json.loads((tmp_path / "expat__default.json").read_text())["lemmas"][0]
    assert lem["verdict"] == "error" and "out of memory" in lem["note"]


def test_all_lemmas_of_a_variant_one_process_each(fake_prover, tmp_path):
    record, path = prove.prove(COMMITTED, flags=["OFF_check_aik_pub_hash"], timeout=30, out_dir=tmp_path)
    names = [x["name"] for x in record["lemmas"]]
    calls = [json.loads(x) for x in fake_prover.read_text().splitlines()
             if "--version" not in x and "--prove=" in x]
    assert len(calls) == len(names) and len(set(names)) == len(names)
    assert all(c[1] == "-D=OFF_check_aik_pub_hash" for c in calls)
    assert set(names) == set(lemmas.lemma_names())
    expected = {x["name"]: x["expected"] for x in record["lemmas"]}
    assert expected["aik_in_tee"] == "falsified" and expected["channel_binding"] == "verified"
    assert path.name == "expat__no-aik-hash-check.json"


def test_unknown_lemma_or_flag_is_refused(fake_prover):
    assert expat("prove", "--lemma", "no_such_lemma").returncode == 2
    with pytest.raises(ValueError):
        prove.normalise_flags(["check_everything"])
    assert prove.normalise_flags(["OFF_check_binding", "check_aik_pub_hash"]) == ["check_binding", "check_aik_pub_hash"]


def test_wellformedness_warning_aborts_and_is_an_error(fake_prover, tmp_path):
    """expat prove runs tamarin-prover with --quit-on-warning: no verdict from a theory it flagged."""
    env = {**os.environ, "FAKE_WF_WARNING": "1"}
    done = expat("prove", "--lemma", "channel_binding", "--out", str(tmp_path), env=env)
    assert done.returncode == 1
    assert json.loads((tmp_path / "expat__default.json").read_text())["lemmas"][0]["verdict"] == "error"


def test_batch_mode_one_process_for_all_lemmas(fake_prover, tmp_path):
    env = {**os.environ, "FAKE_STATUS": json.dumps({"aik_in_tee": "falsified - found trace"})}
    done = expat("prove", "--batch", "--variant", "no-aik-hash-check", "--out", str(tmp_path), env=env)
    calls = [json.loads(x) for x in fake_prover.read_text().splitlines() if "--prove" in x]
    assert calls == [["--prove", "-D=OFF_check_aik_pub_hash", "--derivcheck-timeout=0", "--quit-on-warning",
                      "--stop-on-trace=SEQDFS", "+RTS", "-N1", "-RTS", "+RTS", "-A64m", "-RTS", READ]]
    record = json.loads((tmp_path / "expat__no-aik-hash-check.json").read_text())
    got = {x["name"]: x["verdict"] for x in record["lemmas"]}
    assert record["batch"] is True and set(got) == set(lemmas.lemma_names())
    assert got["aik_in_tee"] == "falsified" and got["channel_binding"] == "verified"
    # no_reflection is expected falsified under no-aik-hash-check, the fake says verified: exit 1, named
    assert done.returncode == 1 and "no_reflection: verified, expected falsified" in done.stdout


def test_merge_keeps_earlier_verdicts_only_from_the_same_search(fake_prover, tmp_path):
    """--merge keeps a record's other lemmas when they were proved on the same theory with the same
    search options; verdicts of another search (e.g. Tamarin's parallel DFS) are dropped, not mixed in."""
    assert expat("prove", "--lemma", "channel_binding", "--out", str(tmp_path)).returncode == 0
    assert expat("prove", "--merge", "--lemma", "aik_in_tee", "--out", str(tmp_path)).returncode == 0
    path = tmp_path / "expat__default.json"
    assert [x["name"] for x in json.loads(path.read_text())["lemmas"]] == ["channel_binding", "aik_in_tee"]
    record = json.loads(path.read_text())
    record["search_options"] = []  # as if recorded with Tamarin's default search
    path.write_text(json.dumps(record))
    assert expat("prove", "--merge", "--lemma", "no_diversion", "--out", str(tmp_path)).returncode == 0
    assert [x["name"] for x in json.loads(path.read_text())["lemmas"]] == ["no_diversion"]


def test_merge_keeps_what_runtime_options_each_lemma_ran_with(fake_prover, tmp_path):
    """A record made before RUNTIME_OPTIONS (GHC's defaults, no field) merged with a rerun lemma: the kept
    lemmas say they ran with GHC's defaults, the rerun one with the current options."""
    assert expat("prove", "--lemma", "channel_binding,aik_in_tee", "--out", str(tmp_path)).returncode == 0
    path = tmp_path / "expat__default.json"
    record = json.loads(path.read_text())
    del record["runtime_options"]
    for lem in record["lemmas"]:
        del lem["runtime_options"]
    path.write_text(json.dumps(record))
    assert expat("prove", "--merge", "--lemma", "aik_in_tee", "--out", str(tmp_path)).returncode == 0
    got = {x["name"]: x["runtime_options"] for x in json.loads(path.read_text())["lemmas"]}
    assert got == {"channel_binding": [], "aik_in_tee": list(prove.RUNTIME_OPTIONS)}


def test_a_variant_is_not_asked_to_run_a_golden_run_that_is_not_its_own(fake_prover, tmp_path):
    """The golden background-check runs have the requester compare the binding (BindingChecked); under
    the delegated comparison the requester's rule has no such action, so expat prove leaves those two
    executability lemmas out of the delegated variants and keeps them everywhere else."""
    # (the fake prover verifies everything, so relay_split_deployment is unexpected: exit 1)
    assert expat("prove", "--variant", "delegated", "--out", str(tmp_path)).returncode in (0, 1)
    names = {x["name"] for x in json.loads((tmp_path / "expat__delegated.json").read_text())["lemmas"]}
    assert "exec_client_background_check" not in names and "exec_server_background_check" not in names
    assert {"exec_client_passport", "exec_server_passport", "channel_binding"} <= names
    assert expat("prove", "--variant", "no-binding-check", "--out", str(tmp_path)).returncode in (0, 1)
    names = {x["name"] for x in json.loads((tmp_path / "expat__no-binding-check.json").read_text())["lemmas"]}
    assert {"exec_client_background_check", "exec_server_background_check"} <= names
