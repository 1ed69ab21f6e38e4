"""The machine description printed next to absolute benchmark figures."""

from __future__ import annotations

import os
import platform


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except (OSError, AttributeError):
        return "unknown"


def describe() -> dict[str, object]:
    """Flat, JSON-ready facts about the machine and the software stack."""
    import cryptography
    import OpenSSL
    from OpenSSL import SSL

    return {"platform": platform.platform(), "machine": platform.machine(), "cpu": _cpu_model(),
            "cpus": os.cpu_count() or 0, "loadavg_at_start": _load(), "python": platform.python_version(),
            "openssl": SSL.OpenSSL_version(SSL.OPENSSL_VERSION).decode(errors="replace"),
            "pyopenssl": OpenSSL.__version__, "cryptography": cryptography.__version__}
