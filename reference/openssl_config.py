"""One place that configures OpenSSL for every connection expat makes.

pyOpenSSL has no ``set_num_tickets`` and ``OP_NO_TICKET`` still lets a TLS 1.3 server
send a NewSessionTicket. An OpenSSL configuration file with ``NumTickets = 0`` in the
``system_default`` section, named by ``OPENSSL_CONF`` *before* OpenSSL is loaded,
stops them. :func:`install` is called by ``import expat`` and must run before any
``import OpenSSL``; it refuses to run late rather than silently not applying.

Why no tickets: the editor's copy of the draft (§7.2) forbids NewSessionTicket on
attested connections and -02 recommends discarding them; expat never resumes and
never offers early data (0-RTT needs a ticket).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CONFIG_PATH = Path(__file__).with_name("openssl-expat.cnf")
_ENV = "OPENSSL_CONF"
_installed = False


class LateConfiguration(RuntimeError):
    pass


def install() -> Path:
    """Point OPENSSL_CONF at expat's configuration (idempotent)."""
    global _installed
    if _installed:
        return CONFIG_PATH
    if os.environ.get(_ENV) != str(CONFIG_PATH):
        loaded = [m for m in ("OpenSSL", "OpenSSL.SSL", "cryptography.hazmat.bindings._rust") if m in sys.modules]
        if "OpenSSL.SSL" in sys.modules:
            raise LateConfiguration(
                f"OpenSSL was imported before expat ({loaded}); import expat first so "
                f"{_ENV} takes effect")
        os.environ[_ENV] = str(CONFIG_PATH)
    _installed = True
    return CONFIG_PATH
