"""The bounded world: agents, keys, connections, and how symbolic values become trace bytes.

Cast (fixed; docs/proofs.md "what the bound covers"):

=============  ==========================================================================
client         honest TLS client (requester and/or attester), Attesting Environment client-ae (AIK kA)
server         honest TLS server (requester and/or attester), Attesting Environment server-ae (AIK kB)
mallory        the adversary: a TLS endpoint of its own connections, with a genuine TEE m-ae (AIK kM)
               and a key kX that no TEE generated; may use any AE as a signing oracle (split
               deployment, draft §5.2) and learns every Evidence and Attestation Result; within the
               bound's ``hosts``, controls the host of client or server (HostCompromised)
verifier       the honest Verifier
=============  ==========================================================================

Every symbolic value is rendered to real bytes: keys are deterministic P-256 SubjectPublicKeyInfos,
each connection has its own exporter_master_secret, exporter values and bindings are computed with
the literal key schedule, so the checker recomputes every honest binding (rule ``binding-recompute``)
independently of the z3 terms that decided it.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

from expat.model import relations as rel
from expat.reference import pki
from expat.reference.keyschedule import SHA256

SUITE = "TLS_AES_128_GCM_SHA256"  # SHA-256: H of the binding (draft §5.1)
CLIENT, SERVER, MALLORY, VERIFIER = "client", "server", "mallory", "verifier"
HONEST_ENDPOINTS = (CLIENT, SERVER)
ADVERSARIES = (MALLORY,)
# AE name -> (its AIK, the TE it generated the AIK for)
AES = {"client-ae": ("kA", CLIENT), "server-ae": ("kB", SERVER), "m-ae": ("kM", MALLORY)}
KEY_AE = {key: ae for ae, (key, _) in AES.items()}
OWN_KEY = {owner: key for key, owner in AES.values()}
OWN_AE = {owner: ae for ae, (_, owner) in AES.items()}
ADVERSARY_KEYS = ("kM", "kX")  # kX: mallory's own key outside any TEE
REVEALABLE = ("kA", "kB")      # honest AIKs the adversary may learn (KeyRevealed)
PAIRS = ((CLIENT, SERVER), (CLIENT, MALLORY), (MALLORY, SERVER))  # (client side, server side)
LABEL = rel.DEFAULT_EXPORTER_LABEL
OTHER_LABEL = next(label for label in rel.EXPORTER_LABELS if label != LABEL)
CMW_EXT = 0xFFFF  # default profile's cmw_attestation codepoint
SIG_ALGS = 13


def cast(one_way: bool) -> dict:
    """The cast as part of the bound (docs/proofs.md): who exists and how connections may attest."""
    return {"honest_endpoints": list(HONEST_ENDPOINTS), "adversaries": list(ADVERSARIES),
            "attesting_environments": {ae: owner for ae, (_, owner) in AES.items()},
            "adversary_keys_outside_tees": [k for k in ADVERSARY_KEYS if k not in KEY_AE],
            "verifiers": [VERIFIER], "pairs": ["-".join(p) for p in PAIRS],
            "attestation": ["both", "server", "client"] if one_way else ["both"]}


def cast_statement(one_way: bool) -> str:
    c = cast(one_way)
    return (f"cast: honest {' and '.join(c['honest_endpoints'])}, adversary {', '.join(c['adversaries'])} "
            f"(own TEE and a key outside any TEE), {len(c['attesting_environments'])} Attesting Environments, "
            f"{len(c['verifiers'])} Verifier, connections over {', '.join(c['pairs'])}, "
            + ("each attesting both ways or one way" if one_way else "every connection attesting both ways"))


def side_of(conn_pair: tuple[str, str], agent: str) -> str:
    return "client" if conn_pair[0] == agent else "server"


def peer_side(side: str) -> str:
    return "server" if side == "client" else "client"


def _h(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


@lru_cache(maxsize=None)
def key_bytes(name: str) -> bytes:
    return pki.spki_der(pki.derive_key("p256", "expat-proofs|aik|" + name))


@lru_cache(maxsize=None)
def ctx_bytes(name: str) -> bytes:
    return _h(b"expat-proofs|ctx|" + name.encode())[:16]


@lru_cache(maxsize=None)
def ems_bytes(conn: str) -> bytes:
    return _h(b"expat-proofs|exporter_master_secret|" + conn.encode())


@lru_cache(maxsize=None)
def render(term: object) -> bytes:
    """Bytes of a term: the exporter, binding (formula "02", SPKI encoding) and AIK_pub_hash."""
    if not isinstance(term, tuple):
        raise TypeError(term)
    if term[0] == "exp":
        _, label, conn, ctx = term
        return rel.exported_value(SHA256, ems_bytes(conn), {}, ctx_bytes(ctx), label)
    if term[0] == "bind":
        _, key, e = term
        return _h((b"" if key is None else key_bytes(key)) + render(e))
    if term[0] == "aikhash":
        return _h(key_bytes(term[1]))
    raise TypeError(term)
