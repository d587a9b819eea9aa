"""The pair in place: read it, tell the package's own certificate from an admin's, make a new default."""

import hashlib
from typing import NamedTuple

from . import certinfo, files, state, transaction, x509
from .certinfo import CertInfo
from .errors import Problem

LEGACY_SUBJECT_CN = "localhost"


class Pair(NamedTuple):
    """The certificates in place (leaf first) and their key, as read."""
    certs: list
    info: CertInfo  # of the leaf
    pem_sha256: str  # of the certificate file
    key: object  # None when key_problem says why
    key_problem: str | None


def read(paths):
    """The pair in place; a Problem when the certificate cannot be used at all (a key that cannot
    be used is the pair's key_problem)."""
    data = files.read_input(paths.cert, follow=False)
    certs = x509.parse_certificates(data, paths.cert)
    key, key_problem = None, None
    try:
        key = x509.parse_private_key(files.read_input(paths.key, follow=False), paths.key)
    except Problem as problem:
        key_problem = str(problem)
    else:
        if not x509.key_matches(certs[0], key):
            key_problem = f"{paths.key}: does not match the certificate {paths.cert}"
    return Pair(certs, x509.describe(certs[0]), hashlib.sha256(data).hexdigest(), key, key_problem)


def is_default(found, recorded):
    """Whether the package generated this certificate: as recorded, or, while nothing is recorded
    (before the record, or with the state deleted), by its shape: self-signed, and made as the
    packages before the record made it (subject exactly CN=localhost) or as make_default does."""
    if recorded.generated_fingerprint:
        return found.info.fingerprint == recorded.generated_fingerprint
    if not found.info.self_signed:
        return False
    return (x509.subject_is_only_cn(found.certs[0], LEGACY_SUBJECT_CN)
            or _shaped_like_generated(found))


def _shaped_like_generated(found):
    """What x509.self_signed makes: the subject only a CN, the first DNS name or its first label;
    `localhost` among the DNS names; exactly the loopback addresses; not a CA."""
    info = found.info
    first = info.names[0] if info.names else ""
    return (bool(first) and not info.is_ca and "localhost" in info.names
            and sorted(info.ip_addresses) == sorted(x509.LOCAL_ADDRESSES)
            and info.subject_cn in (first, first.split(".")[0])
            and x509.subject_is_only_cn(found.certs[0], info.subject_cn))


def hostname_of(found, recorded):
    return recorded.hostname or found.info.primary_name or "localhost"


def regeneration_reasons(found, settings, hostname=None, key_type=None):
    """Why the default certificate `found` must be made again (empty when it is fine)."""
    reasons = []
    if found.key_problem:
        reasons.append(found.key_problem)
    reasons += certinfo.weaknesses(found.info)
    validity = certinfo.validity_problem(found.info)
    if validity:
        reasons.append(validity)
    elif found.info.days_left() <= settings.renew_days:
        reasons.append(f"expires in {found.info.days_left()} days")
    if hostname and hostname != found.info.primary_name:
        reasons.append(f"name {found.info.primary_name or found.info.subject_cn} is not {hostname}")
    if key_type and key_type != found.info.key_type:
        reasons.append(f"key {found.info.key_type} is not {key_type}")
    return reasons


def adopted_state(found, recorded):
    """The record that makes `found` the package's own default certificate."""
    return recorded._replace(hostname=hostname_of(found, recorded), key_type=found.info.key_type,
                             generated_fingerprint=found.info.fingerprint,
                             generated_pem_sha256=found.pem_sha256)


def make_default(paths, owner, notes, recorded, hostname, key_type, extra_names, days):
    """Generate and write a new default pair with the state that records it; the new state."""
    key = x509.new_key(key_type)
    cert = x509.self_signed(key, hostname, extra_names, days)
    pem = x509.certs_pem([cert])
    new = recorded._replace(hostname=hostname, key_type=key_type, san=tuple(extra_names),
                            generated_fingerprint=x509.fingerprint(cert),
                            generated_pem_sha256=hashlib.sha256(pem).hexdigest())
    transaction.write_pair(paths, owner, x509.key_pem(key), pem, state.render(new))
    notes.say(f"generated a self-signed certificate for {hostname} "
              f"({key_type}, valid until {x509.describe(cert).not_after:%Y-%m-%d})")
    return new
