"""The pair in place: read it, tell the package's own certificate from an admin's, make a new default."""

import hashlib

from . import files, state, x509
from .errors import Problem

LEGACY_SUBJECT_CN = "localhost"


class Pair:
    """The certificates in place, and their key: read and checked on first use of `key` or
    `key_problem`. The override and the test for an admin's pair need the certificate only, and
    loading an RSA key checks it (RSA_check_key: ~50 ms at 2048 bits, ~1 s at 4096, OpenSSL 3)."""

    def __init__(self, certs, info, pem_sha256, key=None, key_problem=None, paths=None):
        self.certs, self.info, self.pem_sha256 = certs, info, pem_sha256
        self._key, self._key_problem = key, key_problem
        self._paths = paths  # where to read the key from, until it is read

    @property
    def key(self):
        self._read_key()
        return self._key

    @key.setter
    def key(self, value):
        self._paths, self._key = None, value

    @property
    def key_problem(self):
        self._read_key()
        return self._key_problem

    @key_problem.setter
    def key_problem(self, value):
        self._paths, self._key_problem = None, value

    def _read_key(self):
        paths, self._paths = self._paths, None
        if paths is None:
            return
        try:
            self._key = x509.parse_private_key(files.read_input(paths.key, follow=False), paths.key)
        except Problem as problem:
            self._key_problem = str(problem)
        else:
            if not x509.key_matches(self.certs[0], self._key):
                self._key_problem = f"{paths.key}: does not match the certificate {paths.cert}"


def read(paths):
    """The certificate in place, its key read on first use; a Problem when the certificate cannot
    be used at all."""
    data = files.read_input(paths.cert, follow=False)
    certs = x509.parse_certificates(data, paths.cert)
    return Pair(certs, x509.describe(certs[0]), hashlib.sha256(data).hexdigest(), paths=paths)


def is_default(found, recorded):
    """Whether the package generated this certificate: as recorded, or, while nothing is recorded,
    as the packages before the record did (self-signed, subject exactly CN=localhost)."""
    if recorded.get("generated_fingerprint"):
        return found.info.fingerprint == recorded["generated_fingerprint"]
    return found.info.self_signed and x509.subject_is_only_cn(found.certs[0], LEGACY_SUBJECT_CN)


def hostname_of(found, recorded):
    return recorded.get("hostname") or found.info.primary_name or "localhost"


def regeneration_reasons(found, settings, hostname=None, key_type=None):
    """Why the default certificate `found` must be made again (empty when it is fine)."""
    reasons = []
    if found.key_problem:
        reasons.append(found.key_problem)
    reasons += x509.weaknesses(found.info)
    validity = x509.validity_problem(found.info)
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
    return dict(recorded, hostname=hostname_of(found, recorded), key_type=found.info.key_type,
                generated_fingerprint=found.info.fingerprint, generated_pem_sha256=found.pem_sha256)


def make_default(paths, recorded, hostname, key_type, extra_names, days):
    """Generate and write a new default pair with the state that records it; the new state."""
    key = x509.new_key(key_type)
    cert = x509.self_signed(key, hostname, extra_names, days)
    pem = x509.certs_pem([cert])
    new = dict(recorded, hostname=hostname, key_type=key_type, san=tuple(extra_names),
               generated_fingerprint=x509.fingerprint(cert),
               generated_pem_sha256=hashlib.sha256(pem).hexdigest())
    files.write_pair(paths, x509.key_pem(key), pem, state.render(new))
    info = x509.describe(cert)
    print(f"xivo-certs: generated a self-signed certificate for {hostname} "
          f"({key_type}, valid until {info.not_after:%Y-%m-%d})")
    return new
