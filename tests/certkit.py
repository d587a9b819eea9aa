"""Transitional: the hand-made certificate builder moved to tests/support (support.certs,
support.facts). This re-export keeps tests/unit/xc_testlib.py working until the unit suite
imports `support` itself; then this file goes."""

from support.certs import (  # noqa: F401
    CA_KEY_USAGE, CURVES, DAY, HASHES, PEM_CERT, UTC, alt_names, cert_pem, certs_from_pem, key_pem,
    load_certs, load_key, make_cert, name, new_key, now, pem)
from support.facts import SPKI, fingerprint, key_matches, spki  # noqa: F401
