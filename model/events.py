"""The event vocabulary: every protocol step expat records, defined once.

An event is what a Tamarin theory calls an action fact: a CamelCase name applied to the acting
agent and a fixed, ordered list of typed arguments, ``Name(agent, arg1, arg2, ...)``. The
reference implementation records them (:class:`expat.model.trace.TraceRecorder`), the conformance
checker replays them against the role tables (:mod:`expat.model.roles`), the property monitors
(:mod:`expat.model.monitors`) evaluate lemmas over them, and the Tamarin/z3 generators use the same
names and argument order.

Names are stable: renaming or reordering arguments is a trace-format change (bump
:data:`TRACE_FORMAT`). Secret arguments (``secret=True``) are recorded only when a trace is made
with ``--with-secrets``; they are always optional so the checker works without them.

Agents are free-form names chosen by the recorder ("client", "server", "ae", "verifier", ...);
``conn`` is a trace-wide identifier of one TLS connection, the same on both of its endpoints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

TRACE_FORMAT = "expat-trace/1"

# Roles (the machines of expat.model.roles). "Endpoint" is the TLS connection of one agent, shared
# by its requester and attester roles; "Adversary" events are oracle actions (reveals).
ENDPOINT = "Endpoint"
RELYING_PARTY = "RelyingParty"
TARGET_ENVIRONMENT = "TargetEnvironment"
ATTESTING_ENVIRONMENT = "AttestingEnvironment"
VERIFIER = "Verifier"
ADVERSARY = "Adversary"
ROLES = (ENDPOINT, RELYING_PARTY, TARGET_ENVIRONMENT, ATTESTING_ENVIRONMENT, VERIFIER)

SIDES = ("client", "server")
CMW_KINDS = ("evidence", "result")  # Evidence (background check) or Attestation Result (passport)
AR_STATUSES = ("affirming", "warning", "contraindicated", "none")  # EAR -03 §3.1 tiers
CIPHER_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256",
                 "TLS_AES_128_CCM_SHA256", "TLS_AES_128_CCM_8_SHA256")

# Argument types. "bytes" are lowercase hex strings in a trace.
ARG_TYPES = ("id", "bytes", "int", "bool", "side", "suite", "kind", "status", "sides", "ints", "label")

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")
_HEX = re.compile(r"^(?:[0-9a-f]{2})*$")
_LABEL = re.compile(r"^[\x20-\x7e]{1,249}$")  # printable ASCII; "tls13 " + label <= 255 (RFC 8446 §7.1)


@dataclass(frozen=True)
class Arg:
    name: str
    type: str
    doc: str
    secret: bool = False
    optional: bool = False

    def __post_init__(self) -> None:
        if self.type not in ARG_TYPES:
            raise ValueError(f"unknown argument type {self.type!r}")
        if self.secret and not self.optional:
            raise ValueError("secret arguments must be optional")


@dataclass(frozen=True)
class EventSpec:
    name: str
    roles: tuple[str, ...]
    args: tuple[Arg, ...]
    summary: str
    section: str
    keys: tuple[str, ...] = field(default=())
    """Arguments (besides the agent) that select the machine instance: ("conn",) for connection-level
    events, ("conn", "ctx") for per-request events, () for per-agent machines."""

    def arg(self, name: str) -> Arg:
        for a in self.args:
            if a.name == name:
                return a
        raise KeyError(name)

    @property
    def positional(self) -> tuple[str, ...]:
        """Argument names in fact order (agent first), as the Tamarin generator uses them."""
        return ("agent",) + tuple(a.name for a in self.args)


def _a(name: str, type: str, doc: str, **kw: Any) -> Arg:
    return Arg(name, type, doc, **kw)


CONN = _a("conn", "id", "the TLS connection (same identifier at both endpoints)")
CTX = _a("ctx", "bytes", "certificate_request_context (RFC 9261 §4)")

EVENTS: dict[str, EventSpec] = {}


def _event(name: str, roles: tuple[str, ...], args: tuple[Arg, ...], summary: str, section: str,
           keys: tuple[str, ...] = ()) -> EventSpec:
    spec = EventSpec(name, roles, args, summary, section, keys)
    EVENTS[name] = spec
    return spec


# --- TLS endpoint (connection level) ------------------------------------------------------------

_event("ChannelEstablished", (ENDPOINT,), (
    CONN,
    _a("side", "side", "this agent's TLS side"),
    _a("suite", "suite", "negotiated TLS 1.3 cipher suite; its hash is H of the binding (draft §5.1)"),
    _a("attest", "sides", "sides that must attest on this connection before application data (draft §7.3)"),
    _a("resumed_from", "id", "ticket this handshake resumed, or '-' for a full handshake", optional=False),
    _a("exporter_master_secret", "bytes", "exporter_master_secret (RFC 8446 §7.1)", secret=True, optional=True),
), "the TLS 1.3 handshake finished (client Finished verified, RFC 9261 §9)", "RFC 8446 §4; RFC 9261 §9",
   keys=("conn",))

_event("ApplicationDataSent", (ENDPOINT,), (
    CONN, _a("length", "int", "application bytes sent"),
), "the agent sent application data to its peer", "draft §7.3", keys=("conn",))

_event("ApplicationDataReceived", (ENDPOINT,), (
    CONN, _a("length", "int", "application bytes received"),
), "the agent accepted application data from its peer", "draft §7.3", keys=("conn",))

_event("NewSessionTicketSent", (ENDPOINT,), (
    CONN, _a("ticket", "id", "ticket identifier"),
), "the server issued a NewSessionTicket", "RFC 8446 §4.6.1; draft §7.2", keys=("conn",))

_event("NewSessionTicketReceived", (ENDPOINT,), (
    CONN, _a("ticket", "id", "ticket identifier"),
    _a("kept", "bool", "the client stored the ticket for resumption (False = discarded)"),
), "the client received a NewSessionTicket", "RFC 8446 §4.6.1; draft §7.2", keys=("conn",))

_event("AttestationCompleted", (ENDPOINT, RELYING_PARTY, TARGET_ENVIRONMENT), (
    CONN, CTX,
    _a("attester", "side", "the side whose attestation completed"),
    _a("cmw", "id", "the accepted Evidence or Attestation Result"),
), "one attestation direction completed successfully: recorded by the requester when it accepts, and by "
   "the attester when it learns the outcome", "draft §7.3", keys=("conn", "ctx"))

_event("ConnectionClosed", (ENDPOINT,), (
    CONN, _a("reason", "id", "why (e.g. a failed check id)"),
), "the agent closed the connection", "draft §7 (failed Evidence SHOULD be fatal)", keys=("conn",))

# --- Relying Party (requester of an authenticator) ----------------------------------------------

_event("RequestSent", (RELYING_PARTY,), (
    CONN, CTX,
    _a("msg_type", "int", "13 CertificateRequest (server requests) or 17 ClientCertificateRequest"),
    _a("extensions", "ints", "ExtensionTypes offered in the request"),
    _a("attestation_offered", "bool", "an empty cmw_attestation extension was included (draft §3.1)"),
    _a("request", "bytes", "the encoded request message, handshake header included", optional=True),
), "the requester sent an authenticator request", "RFC 9261 §4; draft §3.1", keys=("conn", "ctx"))

_event("AuthenticatorAccepted", (RELYING_PARTY,), (
    CONN, CTX,
    _a("aik", "bytes", "DER SubjectPublicKeyInfo of the end-entity (AIK) certificate"),
    _a("kind", "kind", "what cmw_attestation carried"),
    _a("cmw", "id", "identifier of the carried Evidence or Attestation Result"),
    _a("spontaneous", "bool", "accepted without a preceding request (RFC 9261 §3)"),
    _a("certificate", "bytes", "DER end-entity certificate", optional=True),
    _a("authenticator", "bytes", "Certificate || CertificateVerify || Finished as received", optional=True),
), "the requester validated an authenticator (chain, CertificateVerify, Finished, context) carrying "
   "cmw_attestation", "RFC 9261 §5.2.4, §7.4; draft §3.3", keys=("conn", "ctx"))

_event("AuthenticatorRejected", (RELYING_PARTY,), (
    CONN, CTX, _a("reason", "id", "id of the failed check"),
), "the requester refused the authenticator or its attestation", "RFC 9261 §7.4; draft §4, §5",
   keys=("conn", "ctx"))

_event("BindingChecked", (RELYING_PARTY,), (
    CONN, CTX,
    _a("expected_binding", "bytes", "binding the requester computed for its connection, ctx and the AIK"),
    _a("cmw_binding", "bytes", "binding found in the Evidence (or echoed by the Attestation Result)"),
    _a("expected_aik_hash", "bytes", "H(AIK public key) computed from the certificate"),
    _a("cmw_aik_hash", "bytes", "AIK_pub_hash found in the Evidence (empty if absent)"),
    _a("label", "label", "exporter label under which the binding matched"),
    _a("exported_value", "bytes", "TLS-Exporter(label, ctx, length)", secret=True, optional=True),
), "the requester compared the binding and AIK_pub_hash", "draft §5.1, §5.2", keys=("conn", "ctx"))

_event("EvidenceForwarded", (RELYING_PARTY,), (
    CONN, CTX,
    _a("verifier", "id", "the Verifier agent"),
    _a("cmw", "id", "the Evidence"),
    _a("expected_binding", "bytes", "binding the requester computed (for a delegated comparison)"),
), "background check: the requester sent the Evidence to its Verifier", "draft §3.4, §5.1",
   keys=("conn", "ctx"))

_event("AttestationResultReceived", (RELYING_PARTY,), (
    CONN, CTX,
    _a("result", "id", "the Attestation Result"),
    _a("status", "status", "its trustworthiness tier"),
), "the requester obtained an Attestation Result it verified (from its Verifier, or inside the "
   "authenticator in the passport model)", "draft §3.4, §4", keys=("conn", "ctx"))

# --- Target Environment (the attester's TLS endpoint) ------------------------------------------

_event("RequestReceived", (TARGET_ENVIRONMENT,), (
    CONN, CTX,
    _a("msg_type", "int", "13 or 17"),
    _a("extensions", "ints", "ExtensionTypes in the request"),
    _a("attestation_offered", "bool", "the request offered cmw_attestation"),
    _a("request", "bytes", "the encoded request message", optional=True),
), "the attester's TLS endpoint received an authenticator request", "RFC 9261 §4; draft §3.1",
   keys=("conn", "ctx"))

_event("EvidenceRequested", (TARGET_ENVIRONMENT,), (
    CONN, CTX,
    _a("ae", "id", "the Attesting Environment asked"),
    _a("binding", "bytes", "binding handed to the AE as challenge (draft §5.1)"),
    _a("aik", "bytes", "DER SubjectPublicKeyInfo of the AIK the endpoint will authenticate with"),
    _a("spontaneous", "bool", "no request: server-chosen context (RFC 9261 §3)"),
    _a("exported_value", "bytes", "TLS-Exporter(label, ctx, length)", secret=True, optional=True),
), "the TE computed the binding and asked its AE for Evidence", "draft §4.1 (fig-background), §5.1",
   keys=("conn", "ctx"))

_event("EvidenceSubmitted", (TARGET_ENVIRONMENT,), (
    CONN, CTX, _a("verifier", "id", "the Verifier agent"), _a("cmw", "id", "the Evidence"),
), "passport: the attester sent its Evidence to a Verifier", "draft §3.4, §4.1 (fig-passport)",
   keys=("conn", "ctx"))

_event("AttestationResultObtained", (TARGET_ENVIRONMENT,), (
    CONN, CTX, _a("result", "id", "the Attestation Result"), _a("status", "status", "its tier"),
), "passport: the attester received its Attestation Result", "draft §3.4", keys=("conn", "ctx"))

_event("AuthenticatorSent", (TARGET_ENVIRONMENT,), (
    CONN, CTX,
    _a("aik", "bytes", "DER SubjectPublicKeyInfo of the end-entity certificate"),
    _a("kind", "kind", "what cmw_attestation carries"),
    _a("cmw", "id", "identifier of the carried Evidence or Attestation Result"),
    _a("spontaneous", "bool", "sent without a request (server only, RFC 9261 §3)"),
    _a("authenticator", "bytes", "Certificate || CertificateVerify || Finished", optional=True),
), "the TE sent an authenticator with cmw_attestation", "RFC 9261 §5.2; draft §3", keys=("conn", "ctx"))

# --- Attesting Environment ---------------------------------------------------------------------

_event("AikGenerated", (ATTESTING_ENVIRONMENT,), (
    _a("aik", "bytes", "DER SubjectPublicKeyInfo of the new AIK"),
    _a("owner", "id", "the TE agent that authenticates with it"),
    _a("aik_private", "bytes", "PKCS#8 DER private key", secret=True, optional=True),
), "the AE generated an AIK inside the TEE and vouches for it", "draft §5.2, §7")

_event("EvidenceProduced", (ATTESTING_ENVIRONMENT,), (
    _a("cmw", "id", "identifier of the Evidence (e.g. hex digest of its bytes)"),
    _a("te", "id", "the TE that asked for it"),
    _a("binding", "bytes", "the challenge signed into the Evidence"),
    _a("aik_hash", "bytes", "AIK_pub_hash claim (empty if not included)"),
    _a("attestation_key", "id", "the attestation key that signed it (chains to the manufacturer)"),
), "the AE signed Evidence over the binding and AIK_pub_hash", "draft §5, §7")

# --- Verifier ----------------------------------------------------------------------------------

_event("NonceIssued", (VERIFIER,), (
    _a("nonce", "bytes", "the Verifier nonce"), _a("to", "id", "the agent it was given to"),
), "the Verifier issued a nonce (background check: used as certificate_request_context)", "draft §5.1")

_event("EvidenceAppraised", (VERIFIER,), (
    _a("cmw", "id", "the appraised Evidence"),
    _a("result", "id", "the Attestation Result issued"),
    _a("status", "status", "its tier"),
    _a("binding_echo", "bytes", "binding echoed in the result (empty if none)"),
    _a("nonce", "bytes", "Verifier nonce the Evidence was checked against (empty if none)"),
    _a("to", "id", "who receives the result"),
), "the Verifier appraised Evidence and issued an Attestation Result", "draft §3.4; RFC 9334 §5")

_event("BindingConfirmed", (VERIFIER,), (
    _a("cmw", "id", "the appraised Evidence"),
    _a("binding", "bytes", "the binding the Relying Party conveyed, which the Verifier found in the Evidence"),
    _a("to", "id", "the Relying Party that delegated the comparison"),
), "delegated comparison: the Verifier compared the binding a Relying Party conveyed with the one in the "
   "Evidence, found them equal, and confirms it in the Attestation Result", "draft -04 §5.1")

# --- Adversary ---------------------------------------------------------------------------------

_event("KeyRevealed", (ADVERSARY,), (
    _a("key", "bytes", "DER SubjectPublicKeyInfo of the key whose private part leaked"),
), "the adversary learned a private key (AIK or attestation key)", "threat model")

_event("SecretRevealed", (ADVERSARY,), (
    CONN,
), "the adversary learned a connection's exporter_master_secret", "threat model")

_event("HostCompromised", (ADVERSARY,), (
    _a("platform", "id", "the endpoint whose host (everything outside its TEE) the adversary now controls"),
), "the adversary controls a platform's host: it drives the platform's TEE over any binding (split "
   "deployment), and may learn its connections' secrets and its AIKs (each use recorded as SecretRevealed / "
   "KeyRevealed)", "threat model; draft §5.2")

_event("AttestationKeyRevealed", (ADVERSARY,), (
    _a("platform", "id", "the endpoint whose TEE's attestation key (the key Evidence is signed with) leaked"),
), "the adversary learned the attestation key of a platform's TEE", "threat model")


EVENT_NAMES = tuple(EVENTS)


class VocabularyError(ValueError):
    """An event or argument that the vocabulary does not allow."""


def _check_value(arg: Arg, value: Any) -> Any:
    """Normalize ``value`` to its JSON form for ``arg`` or raise VocabularyError."""
    t = arg.type
    if t == "bytes":
        if isinstance(value, (bytes, bytearray)):
            return bytes(value).hex()
        if isinstance(value, str) and _HEX.match(value):
            return value
        raise VocabularyError(f"{arg.name}: expected bytes or lowercase hex")
    if t == "id":
        if isinstance(value, str) and (value == "-" or _ID.match(value)):
            return value
        raise VocabularyError(f"{arg.name}: expected an identifier")
    if t == "label":
        if isinstance(value, str) and _LABEL.match(value):
            return value
        raise VocabularyError(f"{arg.name}: expected a printable ASCII exporter label")
    if t == "int":
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return value
        raise VocabularyError(f"{arg.name}: expected a non-negative integer")
    if t == "bool":
        if isinstance(value, bool):
            return value
        raise VocabularyError(f"{arg.name}: expected a boolean")
    if t == "side":
        if value in SIDES:
            return value
        raise VocabularyError(f"{arg.name}: expected one of {SIDES}")
    if t == "suite":
        if value in CIPHER_SUITES:
            return value
        raise VocabularyError(f"{arg.name}: expected a TLS 1.3 cipher suite name")
    if t == "kind":
        if value in CMW_KINDS:
            return value
        raise VocabularyError(f"{arg.name}: expected one of {CMW_KINDS}")
    if t == "status":
        if value in AR_STATUSES:
            return value
        raise VocabularyError(f"{arg.name}: expected one of {AR_STATUSES}")
    if t == "sides":
        if isinstance(value, (list, tuple)) and all(v in SIDES for v in value) and len(set(value)) == len(value):
            return sorted(value)
        raise VocabularyError(f"{arg.name}: expected a list of distinct sides")
    if t == "ints":
        if isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool)
                                                    and 0 <= v <= 0xFFFF for v in value):
            return list(value)
        raise VocabularyError(f"{arg.name}: expected a list of uint16")
    raise VocabularyError(f"{arg.name}: unknown type {t}")  # pragma: no cover


def normalize_args(event: str, args: dict[str, Any], *, with_secrets: bool) -> dict[str, Any]:
    """Validate ``args`` of ``event`` against the vocabulary; return their JSON form.

    Secret arguments are dropped unless ``with_secrets``; optional arguments may be omitted or None.
    """
    spec = EVENTS.get(event)
    if spec is None:
        raise VocabularyError(f"unknown event {event!r}")
    known = {a.name for a in spec.args}
    extra = set(args) - known
    if extra:
        raise VocabularyError(f"{event}: unknown arguments {sorted(extra)}")
    out: dict[str, Any] = {}
    for a in spec.args:
        value = args.get(a.name)
        if value is None:
            if not a.optional:
                raise VocabularyError(f"{event}: missing argument {a.name!r}")
            continue
        if a.secret and not with_secrets:
            continue
        out[a.name] = _check_value(a, value)
    return out


def describe() -> str:
    """The vocabulary as text (docs and `expat model show --events`)."""
    lines = []
    for spec in EVENTS.values():
        params = ", ".join(["agent"] + [f"{a.name}{'?' if a.optional else ''}:{a.type}"
                                        + (" [secret]" if a.secret else "") for a in spec.args])
        lines.append(f"{spec.name}({params})  [{'/'.join(spec.roles)}; {spec.section}]")
        lines.append(f"    {spec.summary}")
    return "\n".join(lines)
