"""The named-check registry and the OpenSSL configuration hook."""

import expat  # noqa: F401

import os
import subprocess
import sys

import pytest

from expat.checks import REGISTRY, check
from expat.errors import Alert, DecryptError, ProtocolError
from expat.reference import openssl_config


def test_check_raises_typed_error_with_alert_id_and_section():
    c = check("test-only-demo-check", "RFC 0000 §1", Alert.decrypt_error, "demo")
    c.require(True, "never raised")
    with pytest.raises(DecryptError) as e:
        c.require(False, "boom")
    err = e.value
    assert (err.alert, err.check, err.section, err.reason) == (Alert.decrypt_error, "test-only-demo-check",
                                                               "RFC 0000 §1", "boom")
    assert err.as_dict()["alert"] == "decrypt_error"
    assert REGISTRY["test-only-demo-check"] is c


def test_duplicate_check_id_from_another_module_refused():
    REGISTRY.setdefault("test-dup", check("test-dup", "x", Alert.decode_error, "first"))
    with pytest.raises(ValueError):
        check("test-dup", "another section", Alert.decode_error, "second")


def test_alert_codes_match_rfc8446():
    # RFC 8446 §6 AlertDescription values
    assert [Alert.decode_error, Alert.illegal_parameter, Alert.decrypt_error, Alert.bad_certificate,
            Alert.missing_extension, Alert.unsupported_extension] == [50, 47, 51, 42, 109, 110]
    assert issubclass(DecryptError, ProtocolError)


def test_openssl_conf_is_set_by_import_expat():
    assert os.environ["OPENSSL_CONF"] == str(openssl_config.CONFIG_PATH)
    assert "NumTickets = 0" in openssl_config.CONFIG_PATH.read_text()


def test_importing_openssl_before_expat_is_refused():
    code = "import OpenSSL.SSL\nimport expat\n"
    env = {k: v for k, v in os.environ.items() if k != "OPENSSL_CONF"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode != 0
    assert "LateConfiguration" in r.stderr
