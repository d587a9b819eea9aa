"""The pair in place: read it, tell the package's own certificate from an admin's, make a new default."""

import json
import os

from . import certinfo, files, state
from .certinfo import CertInfo
from .errors import Problem

LEGACY_SUBJECT_CN = "localhost"
DESCRIBED = "described"  # in the state directory: see remember()


class Pair:
    """The certificates in place, and their key: read and checked on first use of `key` or
    `key_problem`. The override and the test for an admin's pair need the certificate only, and
    loading an RSA key checks it (RSA_check_key: ~50 ms at 2048 bits, ~1 s at 4096, OpenSSL 3)."""

    def __init__(self, certs, info, pem_sha256, key=None, key_problem=None, paths=None):
        self.certs, self.info, self.pem_sha256 = certs, info, pem_sha256  # certs None: described
        self._key, self._key_problem = key, key_problem
        self._paths = paths  # where to read the key from, until it is read
        self._described = {}  # what read_described knows in place of the certificates

    @property
    def chain_length(self):
        return len(self.certs) if self.certs is not None else self._described["chain_length"]

    def anchor_pem(self):
        """The PEM of the chain's self-signed top (see x509.trust_anchor), or None."""
        if self.certs is None:
            pem = self._described["anchor_pem"]
            return pem.encode() if pem is not None else None
        from . import x509
        return x509.anchor_pem(self.certs)

    def legacy_subject(self):
        """Whether the subject is exactly CN=localhost, as the packages before the record made it."""
        if self.certs is None:
            return self._described["legacy_subject"]
        from . import x509
        return x509.subject_is_only_cn(self.certs[0], LEGACY_SUBJECT_CN)

    @property
    def key(self):
        self._read_key()
        return self._key

    @property
    def key_problem(self):
        self._read_key()
        return self._key_problem

    def _read_key(self):
        paths, self._paths = self._paths, None
        if paths is None:
            return
        from . import x509
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
    import hashlib
    from . import x509
    data = files.read_input(paths.cert, follow=False)
    certs = x509.parse_certificates(data, paths.cert)
    return Pair(certs, x509.describe(certs[0]), hashlib.sha256(data).hexdigest(), paths=paths)


# --- what the last settle found, for `status` --------------------------------------------------
# Reading the pair costs the cryptography import (~80 ms) and, for RSA, a key check (~50 ms at
# 2048 bits, ~1 s at 4096). Settle records what it found with the metadata of the files it read
# (the signatures taken before reading them, as in the state); `status` uses the record while the
# files still have that metadata (inode, size, mtime and ctime: any write or replacement changes
# ctime) and reads the pair otherwise. Only a cache: written without fsync, a record that cannot
# be read is ignored.

def remember(paths, found, signatures):
    """Record `found`, read from files whose signatures (files.signature) were `signatures`."""
    anchor = found.anchor_pem()
    record = {"version": 1, "cert_stat": signatures["cert_stat"], "key_stat": signatures["key_stat"],
              "info": found.info.record(), "pem_sha256": found.pem_sha256,
              "key_problem": found.key_problem, "chain_length": found.chain_length,
              "anchor_pem": anchor.decode() if anchor is not None else None,
              "legacy_subject": found.legacy_subject()}
    fd = os.open(os.path.join(paths.state_dir, DESCRIBED),
                 os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as stream:
        json.dump(record, stream)


def read_described(paths):
    """The pair as the last settle recorded it, when the files are still the ones it read; else None."""
    try:
        with open(os.path.join(paths.state_dir, DESCRIBED), encoding="utf-8") as stream:
            record = json.load(stream)
        if record.get("version") != 1 or not record["cert_stat"] \
                or record["cert_stat"] != files.signature(paths.cert) \
                or record["key_stat"] != files.signature(paths.key):
            return None
        found = Pair(None, CertInfo.from_record(record["info"]), record["pem_sha256"],
                     key_problem=record["key_problem"])
        found._described = {"chain_length": int(record["chain_length"]),
                            "anchor_pem": record["anchor_pem"],
                            "legacy_subject": bool(record["legacy_subject"])}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return found


def is_default(found, recorded):
    """Whether the package generated this certificate: as recorded, or, while nothing is recorded,
    as the packages before the record did (self-signed, subject exactly CN=localhost)."""
    if recorded.get("generated_fingerprint"):
        return found.info.fingerprint == recorded["generated_fingerprint"]
    return found.info.self_signed and found.legacy_subject()


def hostname_of(found, recorded):
    return recorded.get("hostname") or found.info.primary_name or "localhost"


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
    return dict(recorded, hostname=hostname_of(found, recorded), key_type=found.info.key_type,
                generated_fingerprint=found.info.fingerprint, generated_pem_sha256=found.pem_sha256)


def make_default(paths, recorded, hostname, key_type, extra_names, days):
    """Generate and write a new default pair with the state that records it; the new state."""
    import hashlib
    from . import x509
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
