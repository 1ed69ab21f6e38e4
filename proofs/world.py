"""The bounded world: agents, keys, connections, and how symbolic values become trace bytes.

Cast (the default, :class:`Cast` with 2 honest endpoints; ``--honest N`` adds client2, server2, ...;
docs/proofs.md "what the bound covers"):

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
from dataclasses import dataclass
from functools import lru_cache

from expat.model import relations as rel
from expat.reference import pki
from expat.reference.keyschedule import SHA256

SUITE = "TLS_AES_128_GCM_SHA256"  # SHA-256: H of the binding (draft §5.1)
CLIENT, SERVER, MALLORY, VERIFIER = "client", "server", "mallory", "verifier"
ADVERSARIES = (MALLORY,)
ADVERSARY_KEYS = ("kM", "kX")  # kX: mallory's own key outside any TEE
LABEL = rel.DEFAULT_EXPORTER_LABEL
OTHER_LABEL = next(label for label in rel.EXPORTER_LABELS if label != LABEL)
CMW_EXT = 0xFFFF  # default profile's cmw_attestation codepoint
SIG_ALGS = 13
DEFAULT_HONEST = 2  # the CI bound's cast: client and server


@dataclass(frozen=True)
class Cast:
    """Who exists in a run (part of the bound, docs/proofs.md): ``honest`` honest TLS endpoints, each a
    TLS client or a TLS server (client, server, client2, server2, ... in turn), each with one Attesting
    Environment that generated one AIK for it; mallory with its own TEE and a key outside any TEE; one
    Verifier. Connections run between every honest client and honest server, every honest client and
    mallory, and mallory and every honest server. With ``aes`` > 1 each honest endpoint has that many
    Attesting Environments (client-ae, client-ae2, ...), each with its own AIK (kA, kA.2, ...)."""
    honest: int = DEFAULT_HONEST
    aes_per_endpoint: int = 1

    def _suffix(self, i: int) -> str:
        return str(i // 2 + 1) if i >= 2 else ""

    @property
    def honest_endpoints(self) -> tuple[str, ...]:
        return tuple((CLIENT if i % 2 == 0 else SERVER) + self._suffix(i) for i in range(self.honest))

    @property
    def aes(self) -> dict[str, tuple[str, str]]:
        """AE name -> (its AIK, the TE it generated the AIK for); the honest ones first, then m-ae."""
        out = {f"{e}-ae" + (str(j + 1) if j else ""):
               (("kA" if i % 2 == 0 else "kB") + self._suffix(i) + (f".{j + 1}" if j else ""), e)
               for i, e in enumerate(self.honest_endpoints) for j in range(self.aes_per_endpoint)}
        out["m-ae"] = ("kM", MALLORY)
        return out

    @property
    def endpoint_aes(self) -> dict[str, tuple[tuple[str, str], ...]]:
        """Endpoint -> its (AE, AIK) pairs, the first one first."""
        out: dict[str, tuple[tuple[str, str], ...]] = {}
        for ae, (key, owner) in self.aes.items():
            out[owner] = out.get(owner, ()) + ((ae, key),)
        return out

    @property
    def pairs(self) -> tuple[tuple[str, str], ...]:
        """(client side, server side) of every kind of connection."""
        clients = [e for e in self.honest_endpoints if e.startswith(CLIENT)]
        servers = [e for e in self.honest_endpoints if e.startswith(SERVER)]
        return (tuple((c, s) for c in clients for s in servers) + tuple((c, MALLORY) for c in clients)
                + tuple((MALLORY, s) for s in servers))

    @property
    def key_ae(self) -> dict[str, str]:
        return {key: ae for ae, (key, _) in self.aes.items()}

    @property
    def own_key(self) -> dict[str, str]:
        """Endpoint -> the AIK of its first AE."""
        return {owner: pairs[0][1] for owner, pairs in self.endpoint_aes.items()}

    @property
    def own_ae(self) -> dict[str, str]:
        """Endpoint -> its first AE (whose attestation key is the platform's, AttestationKeyRevealed)."""
        return {owner: pairs[0][0] for owner, pairs in self.endpoint_aes.items()}

    @property
    def revealable(self) -> tuple[str, ...]:
        """Honest AIKs the adversary may learn (KeyRevealed)."""
        return tuple(key for key, owner in self.aes.values() if owner != MALLORY)

    def to_json(self, one_way: bool) -> dict:
        several = {"attesting_environments_per_endpoint": self.aes_per_endpoint} if self.aes_per_endpoint > 1 else {}
        return {"honest_endpoints": list(self.honest_endpoints), "adversaries": list(ADVERSARIES), **several,
                "attesting_environments": {ae: owner for ae, (_, owner) in self.aes.items()},
                "adversary_keys_outside_tees": [k for k in ADVERSARY_KEYS if k not in self.key_ae],
                "verifiers": [VERIFIER], "pairs": ["-".join(p) for p in self.pairs],
                "attestation": ["both", "server", "client"] if one_way else ["both"]}

    def statement(self, one_way: bool) -> str:
        c = self.to_json(one_way)
        return (f"cast: honest {' and '.join(c['honest_endpoints'])}, adversary {', '.join(c['adversaries'])} "
                f"(own TEE and a key outside any TEE), {len(c['attesting_environments'])} Attesting Environments"
                + (f" ({self.aes_per_endpoint} per honest endpoint)" if self.aes_per_endpoint > 1 else "")
                + f", {len(c['verifiers'])} Verifier, connections over {', '.join(c['pairs'])}, "
                + ("each attesting both ways or one way" if one_way else "every connection attesting both ways"))


DEFAULT_CAST = Cast()
# the default cast's names (the CI bound's)
HONEST_ENDPOINTS = DEFAULT_CAST.honest_endpoints
AES = DEFAULT_CAST.aes
KEY_AE = DEFAULT_CAST.key_ae
OWN_KEY = DEFAULT_CAST.own_key
OWN_AE = DEFAULT_CAST.own_ae
REVEALABLE = DEFAULT_CAST.revealable
PAIRS = DEFAULT_CAST.pairs


def cast(one_way: bool, honest: int = DEFAULT_HONEST, aes: int = 1) -> dict:
    """The cast as part of the bound (docs/proofs.md): who exists and how connections may attest."""
    return Cast(honest, aes).to_json(one_way)


def cast_statement(one_way: bool, honest: int = DEFAULT_HONEST, aes: int = 1) -> str:
    return Cast(honest, aes).statement(one_way)


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
