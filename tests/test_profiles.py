import expat  # noqa: F401  (before anything imports OpenSSL)

import dataclasses
import json
import subprocess
import sys

import pytest

from expat.profile import DEFAULT, PROFILES, Mitigations, Profile, get_profile


def test_default_is_the_02_reading():
    p = PROFILES["default"]
    assert (p.revision, p.exporter_label, p.public_key_encoding, p.exporter_length, p.binding_formula) == \
        ("02", "Attestation", "spki", "32", "02")
    assert p.cmw_attestation_codepoint == 0xFFFF
    assert p.evidence_claims == "nonce+private-claim"
    assert p.passport_binding_echo is True
    assert p.missing_attestation_policy == "reject"
    assert p.context_source == "verifier-nonce"
    assert all(dataclasses.asdict(p.mitigations).values())
    assert p.variant_name() == "default"
    assert not p.forbids_resumption


def test_named_profiles_cover_each_alternative_reading():
    assert PROFILES["rev01"].revision == "01" and PROFILES["rev01"].binding_formula == "01"
    assert PROFILES["editors"].revision == "editors" and PROFILES["editors"].forbids_resumption
    assert PROFILES["label-attestation-binding"].exporter_label == "Attestation Binding"
    assert PROFILES["raw-public-key"].public_key_encoding == "raw"
    assert PROFILES["exporter-hlen"].exporter_length == "hash"
    assert PROFILES["nonce-array"].evidence_claims == "nonce-array"
    assert PROFILES["passport-literal"].passport_binding_echo is False
    assert PROFILES["accept-unattested"].missing_attestation_policy == "accept-unattested"
    assert PROFILES["random-context"].context_source == "random"
    # every non-default profile differs from the default in at least one parameter
    for name, p in PROFILES.items():
        assert p.name == name
        if name != "default":
            assert p.variant_name() != name, name


def test_round_trip_through_dict_and_json():
    for p in PROFILES.values():
        d = json.loads(json.dumps(p.to_dict()))
        assert Profile.from_dict(d) == p
    off = DEFAULT.with_mitigations(check_aik_pub_hash=False, check_binding=False)
    assert Profile.from_dict(off.to_dict()) == off
    assert off.variant_name() == "default[-check_binding, -check_aik_pub_hash]"


def test_invalid_values_are_rejected():
    with pytest.raises(ValueError):
        Profile(exporter_label="attestation")
    with pytest.raises(ValueError):
        Profile(binding_formula="03")
    with pytest.raises(ValueError):
        Profile(cmw_attestation_codepoint=0x10000)
    with pytest.raises(ValueError):
        Profile.from_dict({"nonsense": 1})
    with pytest.raises(ValueError):
        Profile.from_dict({"mitigations": {"check_everything": True}})
    with pytest.raises(ValueError):
        get_profile("no-such-profile")


def test_mitigations_disabled_lists_names():
    m = Mitigations(reject_resumption=False, check_exporter_label=False)
    assert m.disabled() == ["reject_resumption", "check_exporter_label"]


def test_cli_profiles_text_and_json():
    out = subprocess.run([sys.executable, "-m", "expat", "profiles", "--json"], capture_output=True, text=True,
                         check=True).stdout
    data = json.loads(out)
    assert set(data) == set(PROFILES)
    assert data["rust-compat"]["exporter_length"] == "64"
    text = subprocess.run([sys.executable, "-m", "expat", "profiles", "raw-public-key"], capture_output=True,
                          text=True, check=True).stdout
    assert "* public_key_encoding" in text and "raw" in text
    bad = subprocess.run([sys.executable, "-m", "expat", "profiles", "nope"], capture_output=True, text=True)
    assert bad.returncode == 2
