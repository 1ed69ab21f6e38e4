"""expat: reference implementation of Remote Attestation with Exported Authenticators.

Importing :mod:`expat` configures OpenSSL (no session tickets) before pyOpenSSL is
first imported; see :mod:`expat.reference.openssl_config`.
"""

from expat.reference import openssl_config as _openssl_config

_openssl_config.install()

__version__ = "0.1.0"
