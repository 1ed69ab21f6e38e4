"""Relying Party hardening (issue 15): one test per reviewer finding, each failing on the code before it.

1 validity at "now"; 2 pathLenConstraint; 3 unknown critical extensions and the leaf's keyUsage;
4 no trust anchors; 5 extensions not allowed in a Certificate; 6 RSASSA-PSS keys; 7 the passport
cmw_data through the CMW decoder; 8 signature_algorithms_cert. Plus hypothesis properties: random
chains with one constraint violated in exactly one place are always refused.
"""

import expat  # noqa: F401  (configures OpenSSL first)

import dataclasses
import datetime as dt
import os
import shutil
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ObjectIdentifier
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expat.errors import Alert, ProtocolError
from expat.profile import DEFAULT
from expat.reference import pki
from expat.reference.ea import EASession, create_authenticator, validate_authenticator
from expat.reference.keyschedule import SHA256, SecretExporter
from expat.reference.messages import (
    Certificate,
    CertificateEntry,
    Extension,
    ExtensionType,
    SignatureScheme,
    signature_algorithms,
    signature_algorithms_cert,
    split_handshakes,
)

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC)


def _key(label: str):
    return pki.derive_key("p256", b"rp-hardening|" + label.encode())


def _chain(spec, *, leaf_kwargs=None):
    """root -> CAs -> leaf. ``spec`` lists (cn, path_length) for root first then sub-CAs; returns
    (leaf DER chain without the root, root certificate)."""
    certs = []
    issuer_cn, issuer_key = None, None
    for cn, plen in spec:
        key = _key(cn)
        cert = pki.issue_certificate(subject_cn=cn, subject_key=key.public_key(), issuer_cn=issuer_cn or cn,
                                     issuer_key=issuer_key or key, ca=True, path_length=plen)
        certs.append(cert)
        issuer_cn, issuer_key = cn, key
    leaf = pki.issue_certificate(subject_cn="leaf", subject_key=_key("leaf").public_key(), issuer_cn=issuer_cn,
                                 issuer_key=issuer_key, ca=False, **(leaf_kwargs or {}))
    chain = [leaf] + certs[1:][::-1]
    return [c.public_bytes(serialization.Encoding.DER) for c in chain], certs[0]


def _refused(check_id, fn):
    with pytest.raises(ProtocolError) as e:
        fn()
    assert e.value.check == check_id, e.value
    return e.value


# --- 1: validity at "now" (RFC 5280 §6.1.3) -------------------------------------------------------------

def test_1_validity_checked_now_not_at_a_fixed_date():
    expired, root = _chain([("r1", None), ("i1", 0)], leaf_kwargs=dict(
        not_before=NOW - dt.timedelta(days=30), not_after=NOW - dt.timedelta(days=1)))
    _refused("pkix-validity", lambda: pki.ChainValidator([root])(expired))
    fresh, root = _chain([("r1", None), ("i1", 0)], leaf_kwargs=dict(
        not_before=NOW - dt.timedelta(hours=1), not_after=NOW + dt.timedelta(days=365)))
    assert len(pki.ChainValidator([root])(fresh)) == 2
    # a caller may still pass another time (golden traces do)
    _refused("pkix-validity", lambda: pki.ChainValidator([root], at=NOW - dt.timedelta(days=2))(fresh))


def test_1_end_to_end_expired_aik_certificate_is_refused(monkeypatch):
    """Background check with an AIK certificate that expired yesterday: refused at "now"; the same run
    validated at a time inside the certificate's validity (as golden traces pass one) completes."""
    from expat.reference.attestation import environment as env
    from expat.reference.attestation import scenario as sc

    make_chain = env._chain

    def aik_expired_yesterday(seed, kind, name, leaf_key, leaf_cn, dns_names=()):
        leaf, inter, root = make_chain(seed, kind, name, leaf_key, leaf_cn, dns_names)
        if not leaf_cn.endswith("AIK"):
            return [leaf, inter, root]
        inter_key = pki.derive_key(kind, seed + b"|" + name.encode() + b"|intermediate")
        leaf = pki.issue_certificate(subject_cn=leaf_cn, subject_key=leaf_key.public_key(),
                                     issuer_cn=f"{name} intermediate CA", issuer_key=inter_key, ca=False, seed=seed,
                                     not_before=pki.NOT_BEFORE, not_after=NOW - dt.timedelta(days=1))
        return [leaf, inter, root]

    monkeypatch.setattr(env, "_chain", aik_expired_yesterday)
    result = sc.run(sc.Scenario(seed=b"issue-15-expired"))
    assert not result.ok and result.error.check == "pkix-validity", result.error
    result = sc.run(sc.Scenario(seed=b"issue-15-expired", validation_time=NOW - dt.timedelta(days=2)))
    assert result.ok, result.error


# --- 2: pathLenConstraint (RFC 5280 §4.2.1.9) ----------------------------------------------------------

def test_2_path_length_constraints():
    ok, root = _chain([("r2", 1), ("i2", 0)])
    pki.ChainValidator([root])(ok)
    over_root, root = _chain([("r2z", 0), ("i2z", None)])           # root pathLen=0 above a sub-CA
    _refused("pkix-ca-constraints", lambda: pki.ChainValidator([root])(over_root))
    over_inter, root = _chain([("r2y", None), ("i2y", 0), ("j2y", None)])  # pathLen=0 CA signs a CA
    _refused("pkix-ca-constraints", lambda: pki.ChainValidator([root])(over_inter))


# --- 3: unknown critical extensions, leaf keyUsage (RFC 5280 §4.2; RFC 8446 §4.4.2.2) -------------------

def test_3_unknown_critical_extension_refused():
    unknown = x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.1"), b"\x05\x00")
    chain, root = _chain([("r3", None), ("i3", 0)], leaf_kwargs=dict(extra_extensions=[(unknown, True)]))
    _refused("pkix-critical-extensions", lambda: pki.ChainValidator([root])(chain))
    chain, root = _chain([("r3", None), ("i3", 0)], leaf_kwargs=dict(extra_extensions=[(unknown, False)]))
    pki.ChainValidator([root])(chain)   # the same extension, non-critical, may be ignored


def test_3_leaf_key_usage_without_digital_signature_refused():
    chain, root = _chain([("r3k", None), ("i3k", 0)], leaf_kwargs=dict(key_usage=("key_agreement",)))
    _refused("pkix-leaf-key-usage", lambda: pki.ChainValidator([root])(chain))


# --- 4: no trust anchors (draft §3.3 keeps X.509 validation a MUST) --------------------------------------

def _run_with_aik_anchors(monkeypatch, anchors, profile=DEFAULT):
    from expat.reference.attestation import scenario as sc

    create = sc.AttestedEndpoint.create.__func__

    def with_anchors(cls, *a, **kw):
        kw["aik_anchors"] = anchors
        return create(cls, *a, **kw)

    with monkeypatch.context() as m:
        m.setattr(sc.AttestedEndpoint, "create", classmethod(with_anchors))
        return sc.run(sc.Scenario(profile=profile, seed=b"issue-15-anchors"))


def test_4_no_trust_anchors_is_a_named_refusal(monkeypatch):
    result = _run_with_aik_anchors(monkeypatch, [])
    assert not result.ok and result.error.check == "expat-pkix-anchors-configured", result.error
    assert result.error.alert is Alert.bad_certificate


def test_4_unrelated_anchor_refused_and_switch_off_skips(monkeypatch):
    unrelated = pki.make_identity("p256", seed=b"unrelated", name="unrelated").root
    result = _run_with_aik_anchors(monkeypatch, [unrelated])
    assert not result.ok and result.error.check == "pkix-trust-anchor", result.error
    off = dataclasses.replace(DEFAULT, mitigations=dataclasses.replace(DEFAULT.mitigations,
                                                                        require_trust_anchors=False))
    result = _run_with_aik_anchors(monkeypatch, [], profile=off)
    assert result.ok, result.error     # the attack baseline: switched off only through the profile


# --- 5: extensions not allowed in a Certificate (RFC 8446 §4.2) ------------------------------------------

IDENT = pki.make_identity("p256", seed=b"rp-hardening", name="rp")


def _pair():
    ex = SecretExporter(SHA256, os.urandom(32))
    return (EASession(ex, True, client_hello_sigalgs=[0x0403]), EASession(ex, False, client_hello_sigalgs=[0x0403]))


@pytest.mark.parametrize("ext_type", [ExtensionType.signature_algorithms, ExtensionType.server_name])
def test_5_request_only_extension_in_certificate_entry_is_illegal_parameter(ext_type):
    server, _ = _pair()
    keys = server.keys("server")
    bad = [[Extension(ext_type, b"\x00\x02\x04\x03")]]

    def build():   # offered by the peer, but RFC 8446 §4.2 does not define it for a Certificate
        return create_authenticator(keys, "server", IDENT.key, IDENT.chain_der(), None, context=os.urandom(32),
                                    entry_extensions=bad, client_hello_sigalgs=[0x0403],
                                    client_hello_extensions=[ext_type])

    e = _refused("rfc8446-4.2-certificate-extensions", build)
    assert e.alert is Alert.illegal_parameter
    good = create_authenticator(keys, "server", IDENT.key, IDENT.chain_der(), None, context=os.urandom(32),
                                client_hello_sigalgs=[0x0403], client_hello_extensions=[])
    forged = forge_entry_extension(good, ext_type)
    e = _refused("rfc8446-4.2-certificate-extensions", lambda: validate_authenticator(
        keys, "server", None, forged, None, client_hello_sigalgs=[0x0403], client_hello_extensions=[ext_type]))
    assert e.alert is Alert.illegal_parameter


def forge_entry_extension(authenticator, ext_type):
    """Re-MAC an authenticator with ``ext_type`` added to entry 0 (the signature stays over the old
    Certificate, so only a check that runs before the signature can name the fault)."""
    msgs = split_handshakes(authenticator, "authenticator")
    cert = Certificate.from_handshake(msgs[0])
    entries = [CertificateEntry(cert.entries[0].cert_data, (Extension(ext_type, b"\x00\x02\x04\x03"),))]
    entries += list(cert.entries[1:])
    return Certificate(cert.context, entries).raw + authenticator[len(msgs[0].raw):]


# --- 6: RSASSA-PSS keys (RFC 8446 §4.2.3) -----------------------------------------------------------------

@pytest.fixture(scope="module")
def pss_identity(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl command not available")
    d = tmp_path_factory.mktemp("pss")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa-pss", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-nodes", "-keyout", str(d / "k.pem"), "-out", str(d / "c.pem"), "-days", "30",
                    "-subj", "/CN=pss"], check=True, capture_output=True)
    cert = x509.load_pem_x509_certificate((d / "c.pem").read_bytes())
    key = serialization.load_pem_private_key((d / "k.pem").read_bytes(), None)
    return cert, key


def test_6_rsassa_pss_key_is_refused_clearly(pss_identity):
    cert, key = pss_identity
    assert cert.public_key_algorithm_oid.dotted_string == "1.2.840.113549.1.1.10"
    server, client = _pair()
    req = client.request([signature_algorithms([SignatureScheme.rsa_pss_rsae_sha256,
                                                SignatureScheme.rsa_pss_pss_sha256])])
    e = _refused("rfc8446-4.2.3-rsassa-pss-key",
                 lambda: server.authenticate(key, [cert.public_bytes(serialization.Encoding.DER)], req))
    assert e.alert is Alert.unsupported_certificate


# --- 7: passport cmw_data is a CMW (draft §3) ------------------------------------------------------------

def test_7_passport_bare_cose_sign1_refused(monkeypatch):
    from expat.reference.attestation import ear as ear_mod
    from expat.reference.attestation import scenario as sc

    produce = sc.AttestedEndpoint.produce_attestation

    def bare(self, ctx, spontaneous=False):
        ear_cmw, binding = produce(self, ctx, spontaneous)
        return ear_mod.unwrap_ear(ear_cmw).encode(), binding    # a COSE_Sign1, not a CMW

    monkeypatch.setattr(sc.AttestedEndpoint, "produce_attestation", bare)
    result = sc.run(sc.Scenario(model="passport", seed=b"issue-15-passport"))
    assert not result.ok and result.error.check == "cmw-3.4-demux", result.error


# --- 8: signature_algorithms_cert (RFC 9261 §5.2.1 -> RFC 8446 §4.2.3) ------------------------------------

def test_8_chain_signatures_must_be_in_signature_algorithms_cert():
    server, client = _pair()
    # the chain is ECDSA P-256 signed; the request admits only Ed25519 for certificates
    req = client.request([signature_algorithms([0x0403]), signature_algorithms_cert([SignatureScheme.ed25519])])
    auth = server.authenticate(IDENT.key, IDENT.chain_der(), req)
    e = _refused("rfc8446-4.2.3-signature-algorithms-cert",
                 lambda: client.validate(req, auth, pki.ChainValidator([IDENT.root])))
    assert e.alert is Alert.unsupported_certificate
    # without signature_algorithms_cert, signature_algorithms applies to the certificates too
    ed = pki.make_identity("ed25519", seed=b"rp-hardening", name="rp-ed")   # Ed25519 leaf, ECDSA CAs
    server, client = _pair()
    req = client.request([signature_algorithms([SignatureScheme.ed25519])])
    auth = server.authenticate(ed.key, ed.chain_der(), req)
    _refused("rfc8446-4.2.3-signature-algorithms-cert",
             lambda: client.validate(req, auth, pki.ChainValidator([ed.root])))
    server, client = _pair()
    req = client.request([signature_algorithms([SignatureScheme.ed25519, 0x0403])])
    assert client.validate(req, server.authenticate(ed.key, ed.chain_der(), req), pki.ChainValidator([ed.root])).valid


# --- properties: one violated constraint anywhere in a random chain is always refused ---------------------

VIOLATIONS = ("expired", "not-yet-valid", "not-ca", "path-length", "unknown-critical", "wrong-issuer-key",
              "no-key-cert-sign")
EXPECTED_CHECK = {"expired": "pkix-validity", "not-yet-valid": "pkix-validity", "not-ca": "pkix-ca-constraints",
                  "path-length": "pkix-ca-constraints", "unknown-critical": "pkix-critical-extensions",
                  "wrong-issuer-key": "pkix-issuer-link", "no-key-cert-sign": "pkix-ca-constraints"}


def _random_chain(n_cas: int, violation: str | None, where: int, tag: str):
    """root + (n_cas - 1) sub-CAs + leaf, all other constraints satisfied; ``violation`` at position
    ``where`` (0 = leaf, n_cas = root's child ... ; positions count from the leaf, root excluded)."""
    names = [f"{tag}-ca{i}" for i in range(n_cas)]          # names[0] = root
    keys = [_key(n) for n in names]
    certs = []
    # certificates above the leaf, root first; position from the leaf: n_cas - i
    for i, (cn, key) in enumerate(zip(names, keys)):
        pos = n_cas - i
        below = n_cas - 1 - i            # CAs below this one (path length it needs)
        kw = dict(ca=True, path_length=below)
        if violation == "path-length" and pos == where and below >= 1:
            kw["path_length"] = below - 1
        if violation == "not-ca" and pos == where and i > 0:
            kw["ca"] = False
        if violation == "no-key-cert-sign" and pos == where and i > 0:
            kw["key_usage"] = ("digital_signature",)
        _time_violation(kw, violation, pos == where and i > 0)
        if violation == "unknown-critical" and pos == where and i > 0:
            kw["extra_extensions"] = [(x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.2"), b""), True)]
        issuer_key = keys[i - 1] if i else key
        if violation == "wrong-issuer-key" and pos == where and i > 0:
            issuer_key = _key(cn + "-impostor")
        certs.append(pki.issue_certificate(subject_cn=cn, subject_key=key.public_key(),
                                           issuer_cn=names[i - 1] if i else cn, issuer_key=issuer_key, **kw))
    kw = {}
    _time_violation(kw, violation, where == 0)
    if violation == "unknown-critical" and where == 0:
        kw["extra_extensions"] = [(x509.UnrecognizedExtension(ObjectIdentifier("1.3.6.1.4.1.99999.2"), b""), True)]
    issuer_key = _key(names[-1] + "-impostor") if violation == "wrong-issuer-key" and where == 0 else keys[-1]
    leaf = pki.issue_certificate(subject_cn=f"{tag}-leaf", subject_key=_key(tag + "leaf").public_key(),
                                 issuer_cn=names[-1], issuer_key=issuer_key, ca=False, **kw)
    chain = [leaf] + certs[1:][::-1]
    return [c.public_bytes(serialization.Encoding.DER) for c in chain], certs[0]


def _time_violation(kw, violation, here):
    if here and violation == "expired":
        kw.update(not_before=NOW - dt.timedelta(days=10), not_after=NOW - dt.timedelta(seconds=1))
    if here and violation == "not-yet-valid":
        kw.update(not_before=NOW + dt.timedelta(days=1), not_after=NOW + dt.timedelta(days=10))


@st.composite
def violated_chains(draw):
    n_cas = draw(st.integers(1, 4))
    violation = draw(st.sampled_from(VIOLATIONS))
    # positions count from the leaf (0) up to the root (n_cas); the root is the anchor, so only its
    # pathLenConstraint is exercised there
    lo, hi = {"not-ca": (1, n_cas - 1), "no-key-cert-sign": (1, n_cas - 1),
              "path-length": (2, n_cas)}.get(violation, (0, n_cas - 1))
    if hi < lo:
        return n_cas, None, 0
    return n_cas, violation, draw(st.integers(lo, hi))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(violated_chains(), st.integers(0, 10**6))
def test_property_one_violation_anywhere_is_refused(case, salt):
    n_cas, violation, where = case
    chain, root = _random_chain(n_cas, violation, where, f"p{salt}")
    validator = pki.ChainValidator([root])
    if violation is None:
        assert len(validator(chain)) == n_cas
        return
    with pytest.raises(ProtocolError) as e:
        validator(chain)
    assert e.value.alert is Alert.bad_certificate
    expected = EXPECTED_CHECK[violation]
    if violation == "wrong-issuer-key" and where == n_cas - 1:   # the forged issuer is the anchor itself
        expected = "pkix-trust-anchor"
    assert e.value.check == expected, (violation, where, e.value)


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 4), st.integers(0, 10**6))
def test_property_valid_random_chains_accepted(n_cas, salt):
    chain, root = _random_chain(n_cas, None, 0, f"v{salt}")
    assert len(pki.ChainValidator([root])(chain)) == n_cas
