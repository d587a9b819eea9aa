"""An admin's certificates put in the order server.crt needs: the leaf, then the issuer of each
among those given (duplicates dropped); what the chain lacks; `openssl verify` on certificates
not yet in place."""

import contextlib
import re
import tempfile

from . import trust, x509

OPENSSL_ERROR = re.compile(r"^error \d+ at \d+ depth lookup: (.+)$", re.M)


def in_order(leaf, others):
    """(chain, left_out): `leaf` then its issuers found among `others`, and the others. Every item
    is (certificate, path); a certificate given twice counts once."""
    seen = {x509.fingerprint(leaf[0])}
    pool = []
    for item in others:
        fingerprint = x509.fingerprint(item[0])
        if fingerprint not in seen:
            seen.add(fingerprint)
            pool.append(item)
    chain = [leaf]
    while not x509.is_self_signed(chain[-1][0]):
        issuer = next((item for item in pool if x509.issued_by(chain[-1][0], item[0])), None)
        if issuer is None:
            break
        pool.remove(issuer)
        chain.append(issuer)
    return chain, pool


def missing_issuer(certs, system_bundle):
    """The name of the issuer whose certificate `certs` (leaf first) lacks, or None: when the top
    is not self-signed and the system's CAs do not complete the chain."""
    top = certs[-1]
    if x509.is_self_signed(top):
        return None
    with _pem_file(x509.certs_pem(certs)) as path:
        if trust.system_trusts(path, system_bundle):
            return None
    return x509.name_text(top.issuer)


def strict_self_anchor_problem(cert):
    """Why `openssl verify -x509_strict` refuses `cert` as its own trust anchor, or None."""
    with _pem_file(x509.certs_pem([cert])) as path:
        result = trust.openssl_verify("-x509_strict", "-CAfile", path, path)
    if result is None:
        return "openssl verify could not run"
    if result.returncode == 0:
        return None
    reason = OPENSSL_ERROR.search(result.stdout + result.stderr)
    return reason.group(1) if reason else "openssl verify -x509_strict refuses it"


@contextlib.contextmanager
def _pem_file(pem):
    """A temporary file holding `pem` (certificates only: public), for openssl."""
    with tempfile.NamedTemporaryFile(prefix="xivo-certs-", suffix=".pem") as stream:
        stream.write(pem)
        stream.flush()
        yield stream.name
