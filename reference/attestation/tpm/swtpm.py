"""A private swtpm (software TPM 2.0) process on loopback: start, connect, stop by PID.

Each :class:`Swtpm` gets its own state directory (removed on stop) and a free TCP port pair on
127.0.0.1 (the swtpm TCTI expects the control channel at port + 1). The process is started with
``--flags not-need-init,startup-clear`` so that TPM2_Startup(CLEAR) (TPM 2.0 Part 3 §9.3) has already
run when we connect. :meth:`Swtpm.stop` terminates exactly the PID we started and waits for it;
a ``weakref.finalize`` makes sure that also happens if the owner forgets (or the interpreter exits).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import weakref

SWTPM = "swtpm"
START_TIMEOUT = 10.0


def swtpm_path() -> str | None:
    """Path of the swtpm binary, or None when it is not installed."""
    return shutil.which(SWTPM)


def _free_port_pair() -> int:
    """A port p on 127.0.0.1 with p and p + 1 both free right now (swtpm binds them itself)."""
    for _ in range(200):
        a = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        b = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            a.bind(("127.0.0.1", 0))
            port = a.getsockname()[1]
            if port >= 65535:
                continue
            b.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
        finally:
            a.close()
            b.close()
    raise RuntimeError("no free port pair on 127.0.0.1")


def _accepting(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _stop(proc: subprocess.Popen, state_dir: str | None) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
    if state_dir is not None:
        shutil.rmtree(state_dir, ignore_errors=True)


class Swtpm:
    """One swtpm process (context manager). ``tcti_config`` is what the swtpm TCTI needs."""

    def __init__(self) -> None:
        binary = swtpm_path()
        if binary is None:
            raise FileNotFoundError("swtpm is not installed (Debian package swtpm; see scripts/setup.sh)")
        self.state_dir = tempfile.mkdtemp(prefix="expat-swtpm-")
        last_error = ""
        for _attempt in range(5):      # a port may be taken between probing and swtpm binding it
            self.port = _free_port_pair()
            errors = os.path.join(self.state_dir, "swtpm.stderr")
            with open(errors, "wb") as err:     # a file, not a pipe: nobody drains it while swtpm runs
                self._proc = subprocess.Popen(
                    [binary, "socket", "--tpm2", "--tpmstate", f"dir={self.state_dir}",
                     "--server", f"type=tcp,port={self.port},bindaddr=127.0.0.1",
                     "--ctrl", f"type=tcp,port={self.port + 1},bindaddr=127.0.0.1",
                     "--flags", "not-need-init,startup-clear", "--log", "level=0"],
                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
            self._finalizer = weakref.finalize(self, _stop, self._proc, self.state_dir)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline and self._proc.poll() is None:
                if _accepting(self.port + 1) and _accepting(self.port):
                    return
                time.sleep(0.01)
            with open(errors, "rb") as err:
                last_error = err.read().decode(errors="replace") if self._proc.poll() is not None else "timed out"
            self._finalizer.detach()
            _stop(self._proc, None)      # keep the state directory for the next attempt
        shutil.rmtree(self.state_dir, ignore_errors=True)
        raise RuntimeError(f"swtpm did not start: {last_error.strip()}")

    @property
    def pid(self) -> int:
        return self._proc.pid

    @property
    def tcti_config(self) -> str:
        return f"host=127.0.0.1,port={self.port}"

    def running(self) -> bool:
        return self._proc.poll() is None

    def stop(self) -> None:
        """Terminate our swtpm (by its PID) and remove its state directory. Idempotent."""
        self._finalizer()

    def __enter__(self) -> "Swtpm":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
