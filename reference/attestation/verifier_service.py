"""The Verifier as a small HTTP/JSON service on loopback, and a client with the Verifier's methods.

    POST /challenge                      -> 200 {"nonce": hex}
    POST /appraise {"evidence": hex, ? "nonce": hex, ? "expected_binding": hex,
                    ? "expected_aik_pub_hash": hex, ? "confirm_binding": bool}
                                         -> 200 {"ear": hex, "status": tier, "reasons": [..], "checks": {..},
                                                 ? "binding_confirmed": hex}
      "confirm_binding": true = the Relying Party delegates the binding comparison (draft -04 §5.1) and
      "expected_binding" is the binding it computed; the EAR says whether the Verifier confirms it.
    GET  /public-key                     -> 200 {"spki": hex}   (DER SubjectPublicKeyInfo of the EAR key)

Every answer is JSON. Errors: 400 {"error": "bad-request", "reason": ...} for malformed JSON / hex /
fields (with "limit": "MAX_JSON_DEPTH" for nesting deeper than that); 413 {"error": "too-large",
"limit": "MAX_BODY"} for a body over MAX_BODY (answered before reading it; what the client still sends is
drained within bounds, so the connection is closed, never reset); 422 {"error": "protocol", "alert": ...,
"check": ..., "section": ..., "reason": ...} for Evidence the Verifier rejects as malformed or forged (the
ProtocolError's fields); 404 for unknown paths; 405 for a known method on a path that does not take it
and 501 for other methods. :class:`VerifierClient` maps 422 answers back to the same ProtocolError subclass.

Load: HTTP/1.1 with keep-alive, one thread per connection, a listen backlog of LISTEN_BACKLOG (the
socketserver default of 5 reset connections under 20 concurrent clients), idle connections closed after
IDLE_TIMEOUT seconds.
"""

from __future__ import annotations

import json
import select
import socket
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import serialization

from expat.checks import REGISTRY
from expat.errors import Alert, ProtocolError, error_class
from expat.reference import pki
from expat.reference.attestation.cmw import json_depth
from expat.reference.attestation.ear import Tier
from expat.reference.attestation.verifier import AppraisalReport, Verifier

MAX_BODY = 4 * 65536
MAX_JSON_DEPTH = 4            # request bodies are flat objects of hex strings
LISTEN_BACKLOG = 1024         # capped by net.core.somaxconn
IDLE_TIMEOUT = 30.0           # seconds a keep-alive connection may sit idle
DRAIN_LIMIT = 16 * MAX_BODY   # bytes of an oversize body read and discarded before closing
DRAIN_SECONDS = 2.0

_ALLOWED = {"/challenge": "POST", "/appraise": "POST", "/public-key": "GET"}


class _BadRequest(Exception):
    def __init__(self, reason: str, limit: str | None = None):
        super().__init__(reason)
        self.limit = limit


class _TooLarge(Exception):
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
        protocol_version = "HTTP/1.1"          # keep-alive: every answer has a Content-Length
        timeout = IDLE_TIMEOUT

        def log_message(self, format, *args):  # keep test output quiet
            pass

        def _send(self, code: int, obj: dict, headers: dict | None = None) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """http.server's own errors (unknown method, bad request line, ...) as JSON too."""
            name = {501: "not-implemented", 400: "bad-request", 414: "too-large", 431: "too-large",
                    408: "timeout"}.get(code, "http-error")
            self.close_connection = True
            try:
                self._send(code, {"error": name, "reason": message or self.responses.get(code, ("",))[0]},
                           {"Connection": "close"})
            except OSError:
                pass

        def _content_length(self) -> int:
            if self.headers.get("Transfer-Encoding"):
                raise _BadRequest("Transfer-Encoding is not supported; send a Content-Length")
            try:
                n = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                raise _BadRequest("bad Content-Length") from None
            if n < 0:
                raise _BadRequest("bad Content-Length")
            if n > MAX_BODY:
                raise _TooLarge(n)
            return n

        def _body(self, n: int) -> dict:
            raw = self.rfile.read(n) if n else b"{}"
            if len(raw) != n:
                raise _BadRequest("body shorter than its Content-Length")
            depth = json_depth(raw, MAX_JSON_DEPTH)
            if depth > MAX_JSON_DEPTH:
                raise _BadRequest(f"JSON nested deeper than MAX_JSON_DEPTH={MAX_JSON_DEPTH}", "MAX_JSON_DEPTH")
            try:
                body = json.loads(raw)
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise _BadRequest("body is not JSON") from None
            if not isinstance(body, dict):
                raise _BadRequest("body must be a JSON object")
            return body

        def _send_too_large(self, n: int) -> None:
            self.close_connection = True
            self._send(413, {"error": "too-large", "limit": "MAX_BODY",
                             "reason": f"body of {n} bytes exceeds MAX_BODY={MAX_BODY}"}, {"Connection": "close"})

        def handle_expect_100(self) -> bool:
            """Expect: 100-continue with an oversize Content-Length: 413 instead of 100, nothing to drain."""
            try:
                self._content_length()
            except _TooLarge as e:
                self._send_too_large(e.args[0])
                return False
            except _BadRequest:
                pass   # reported once the request is dispatched
            return super().handle_expect_100()

        def _too_large(self, n: int) -> None:
            """413 before reading the body, then drain what the client still sends (bounded in bytes and
            time) and close: closing with unread data would make the kernel reset the connection."""
            self._send_too_large(n)
            self.wfile.flush()
            sock = self.connection
            try:
                sock.shutdown(socket.SHUT_WR)
                deadline, left = time.monotonic() + DRAIN_SECONDS, min(n, DRAIN_LIMIT)
                while left > 0:
                    wait = deadline - time.monotonic()
                    if wait <= 0 or not select.select([sock], [], [], wait)[0]:
                        break
                    chunk = sock.recv(min(65536, left))
                    if not chunk:
                        break
                    left -= len(chunk)
            except OSError:
                pass

        def _dispatch(self, method: str) -> None:
            path = self.path
            try:
                n = self._content_length()
                body = self._body(n) if method == "POST" else (self.rfile.read(n) and {})
                if _ALLOWED.get(path) is None:
                    self._send(404, {"error": "not-found", "reason": path})
                elif _ALLOWED[path] != method:
                    self._send(405, {"error": "method-not-allowed", "reason": f"{path} takes {_ALLOWED[path]}"},
                               {"Allow": _ALLOWED[path]})
                elif path == "/public-key":
                    self._send(200, {"spki": pki.spki_der(verifier.public_key()).hex()})
                elif path == "/challenge":
                    self._send(200, {"nonce": verifier.challenge().hex()})
                else:
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
            except _TooLarge as e:
                self._too_large(e.args[0])
            except _BadRequest as e:
                self._send(400, {"error": "bad-request", "reason": str(e),
                                 **({"limit": e.limit} if e.limit else {})})
            except ProtocolError as e:
                self._send(422, {"error": "protocol", **e.as_dict()})
            except OSError:
                self.close_connection = True   # the client went away
            except Exception as e:  # never leave the client hanging
                self._send(500, {"error": "internal", "reason": f"{type(e).__name__}: {e}"})

    for method in ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"):   # http.server's do_<METHOD>
        setattr(Handler, f"do_{method}", lambda self, m=method: self._dispatch(m))
    return Handler


class _Server(ThreadingHTTPServer):
    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True
    block_on_close = False


class VerifierService:
    """Runs a Verifier on 127.0.0.1:<port> (0 = any free port) in a thread. Use as a context manager."""

    def __init__(self, verifier: Verifier, port: int = 0, host: str = "127.0.0.1"):
        self.verifier = verifier
        self._httpd = _Server((host, port), _handler(verifier))
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
