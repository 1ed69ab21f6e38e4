"""The Verifier as a small HTTP/JSON service on loopback, and a client with the Verifier's methods.

    POST /challenge                      -> 200 {"nonce": hex}
    POST /appraise {"evidence": hex, ? "nonce": hex, ? "expected_binding": hex,
                    ? "expected_aik_pub_hash": hex, ? "confirm_binding": bool}
                                         -> 200 {"ear": hex, "status": tier, "reasons": [..], "checks": {..},
                                                 ? "binding_confirmed": hex}
      "confirm_binding": true = the Relying Party delegates the binding comparison (draft -04 §5.1) and
      "expected_binding" is the binding it computed; the EAR says whether the Verifier confirms it.
    GET  /public-key                     -> 200 {"spki": hex}   (DER SubjectPublicKeyInfo of the EAR key)

Errors: 400 {"error": "bad-request", "reason": ...} for malformed JSON / hex / fields;
422 {"error": "protocol", "alert": ..., "check": ..., "section": ..., "reason": ...} for Evidence the
Verifier rejects as malformed or forged (the ProtocolError's fields); 404 for unknown paths.
:class:`VerifierClient` maps 422 answers back to the same ProtocolError subclass.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import serialization

from expat.checks import REGISTRY
from expat.errors import Alert, ProtocolError, error_class
from expat.reference import pki
from expat.reference.attestation.ear import Tier
from expat.reference.attestation.verifier import AppraisalReport, Verifier

MAX_BODY = 4 * 65536


class _BadRequest(Exception):
    pass


def _hex_field(body: dict, name: str, required: bool = False) -> bytes | None:
    v = body.get(name)
    if v is None:
        if required:
            raise _BadRequest(f"missing field {name!r}")
        return None
    if not isinstance(v, str):
        raise _BadRequest(f"field {name!r} must be a hex string")
    try:
        return bytes.fromhex(v)
    except ValueError:
        raise _BadRequest(f"field {name!r} is not hex") from None


def _handler(verifier: Verifier):
    class Handler(BaseHTTPRequestHandler):
        server_version = "expat-verifier/0.1"

        def log_message(self, format, *args):  # keep test output quiet
            pass

        def _send(self, code: int, obj: dict) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> dict:
            try:
                n = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise _BadRequest("bad Content-Length") from None
            if n < 0 or n > MAX_BODY:
                raise _BadRequest("body too large")
            raw = self.rfile.read(n) if n else b"{}"
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError):
                raise _BadRequest("body is not JSON") from None
            if not isinstance(body, dict):
                raise _BadRequest("body must be a JSON object")
            return body

        def do_GET(self) -> None:
            if self.path == "/public-key":
                self._send(200, {"spki": pki.spki_der(verifier.public_key()).hex()})
            else:
                self._send(404, {"error": "not-found", "reason": self.path})

        def do_POST(self) -> None:
            try:
                body = self._body()
                if self.path == "/challenge":
                    self._send(200, {"nonce": verifier.challenge().hex()})
                elif self.path == "/appraise":
                    evidence = _hex_field(body, "evidence", required=True)
                    expected_binding = _hex_field(body, "expected_binding")
                    confirm = body.get("confirm_binding", False)
                    if not isinstance(confirm, bool):
                        raise _BadRequest("field 'confirm_binding' must be a boolean")
                    if confirm and expected_binding is None:
                        raise _BadRequest("'confirm_binding' needs 'expected_binding'")
                    ear_bytes, report = verifier.appraise(
                        evidence, expected_binding=expected_binding, nonce=_hex_field(body, "nonce"),
                        expected_aik_pub_hash=_hex_field(body, "expected_aik_pub_hash"), confirm_binding=confirm)
                    self._send(200, {"ear": ear_bytes.hex(), **report.to_dict()})
                else:
                    self._send(404, {"error": "not-found", "reason": self.path})
            except _BadRequest as e:
                self._send(400, {"error": "bad-request", "reason": str(e)})
            except ProtocolError as e:
                self._send(422, {"error": "protocol", **e.as_dict()})
            except Exception as e:  # never leave the client hanging
                self._send(500, {"error": "internal", "reason": f"{type(e).__name__}: {e}"})

    return Handler


class VerifierService:
    """Runs a Verifier on 127.0.0.1:<port> (0 = any free port) in a thread. Use as a context manager."""

    def __init__(self, verifier: Verifier, port: int = 0, host: str = "127.0.0.1"):
        self.verifier = verifier
        self._httpd = ThreadingHTTPServer((host, port), _handler(verifier))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "VerifierService":
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="expat-verifier", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._httpd.serve_forever()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> "VerifierService":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _named_failure(reason: str) -> ProtocolError | None:
    """A reason "check-id: detail" of a contraindicated appraisal as that check's error (as in-process)."""
    check_id, _, detail = reason.partition(": ")
    c = REGISTRY.get(check_id)
    if c is None:
        return None
    try:
        c.fail(detail)
    except ProtocolError as e:
        return e


class VerifierClient:
    """Same methods as :class:`Verifier`, over HTTP."""

    def __init__(self, url: str, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body or {}).encode() if method == "POST" else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            payload = json.loads(e.read() or b"{}")
            if e.code == 422 and payload.get("error") == "protocol":
                alert = Alert[payload["alert"]]
                raise error_class(alert)(payload["reason"], alert=alert, check=payload.get("check"),
                                         section=payload.get("section")) from None
            raise RuntimeError(f"verifier service answered {e.code}: {payload}") from None

    def challenge(self) -> bytes:
        return bytes.fromhex(self._call("POST", "/challenge")["nonce"])

    def public_key(self):
        spki = bytes.fromhex(self._call("GET", "/public-key")["spki"])
        return serialization.load_der_public_key(spki)

    def appraise(self, evidence_cmw: bytes, expected_binding: bytes | None = None, nonce: bytes | None = None,
                 expected_aik_pub_hash: bytes | None = None,
                 confirm_binding: bool = False) -> tuple[bytes, AppraisalReport]:
        body: dict = {"evidence": evidence_cmw.hex()}
        if confirm_binding:
            body["confirm_binding"] = True
        for name, v in (("expected_binding", expected_binding), ("nonce", nonce),
                        ("expected_aik_pub_hash", expected_aik_pub_hash)):
            if v is not None:
                body[name] = v.hex()
        out = self._call("POST", "/appraise", body)
        confirmed = out.get("binding_confirmed")
        report = AppraisalReport(status=Tier[out["status"]], reasons=list(out["reasons"]),
                                 checks=dict(out.get("checks", {})),
                                 failures=[e for e in map(_named_failure, out["reasons"]) if e is not None],
                                 binding_confirmed=bytes.fromhex(confirmed) if confirmed else None)
        return bytes.fromhex(out["ear"]), report
