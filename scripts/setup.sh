#!/usr/bin/env bash
# Sets up expat on a fresh machine: system packages, a virtual environment in .venv,
# and the project with its test extras. Idempotent; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

# swtpm..pkg-config: the TPM 2.0 Attesting Environment (docs/tpm.md); tpm2-pytss builds from its sdist
# against libtss2-dev (pkg-config, a C compiler and the Python headers)
SYSTEM_PACKAGES=(openssl chromium swtpm swtpm-tools tpm2-tools libtss2-dev pkg-config gcc python3-dev)

need=()
for p in "${SYSTEM_PACKAGES[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    echo "setup: installing system packages: ${need[*]}"
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq "${need[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $($PY --version)"
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null 2>&1 || true
echo "setup: installing expat and its test extras into .venv"
.venv/bin/python -m pip install -q -e '.[test]' 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/expat --version
