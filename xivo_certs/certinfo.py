"""What is known of a certificate once it is parsed, and the judgements made from that alone.

No cryptography import here: `status` rebuilds a CertInfo from what the last settle recorded
(pair.read_described) when the files have not changed since, and never loads cryptography then.
"""

import datetime

from . import names

WEAK_HASHES = ("md5", "sha1")
UTC = datetime.timezone.utc


def now():
    return datetime.datetime.now(UTC)


class CertInfo:
    """What a certificate says, immutable, compared and hashed by value. (A plain class rather
    than a frozen dataclass: dataclasses imports inspect and ast, a tenth of what `status` costs
    once it no longer loads cryptography.)"""

    FIELDS = ("subject_cn", "issuer_cn", "names", "ip_addresses", "self_signed", "is_ca",
              "not_before", "not_after", "key_type", "fingerprint", "signature_hash", "has_san")
    __slots__ = FIELDS

    def __init__(self, subject_cn, issuer_cn, names, ip_addresses, self_signed, is_ca,
                 not_before, not_after, key_type, fingerprint, signature_hash, has_san):
        values = locals()
        for name in self.FIELDS:
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name, value):
        raise AttributeError(f"CertInfo is immutable: cannot set {name}")

    def __delattr__(self, name):
        raise AttributeError(f"CertInfo is immutable: cannot delete {name}")

    def _values(self):
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __eq__(self, other):
        return self._values() == other._values() if type(other) is CertInfo else NotImplemented

    def __hash__(self):
        return hash(self._values())

    def __repr__(self):
        return "CertInfo(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS) + ")"

    @property
    def primary_name(self):
        """The DNS name daemons connect to: the first non-wildcard SAN, else a host-name CN."""
        for name in self.names:
            if not name.startswith("*") and names.is_host_name(name):
                return name
        cn = self.subject_cn.lower()
        return cn if not self.has_san and names.is_host_name(cn) else None

    def covers(self, host):
        if self.has_san:
            return any(names.covers(name, host) for name in self.names)
        return names.covers(self.subject_cn, host)

    def days_left(self, moment=None):
        return (self.not_after - (moment or now())).days

    def record(self):
        """The fields as JSON values (dates as ISO 8601)."""
        return {"subject_cn": self.subject_cn, "issuer_cn": self.issuer_cn, "names": list(self.names),
                "ip_addresses": list(self.ip_addresses), "self_signed": self.self_signed,
                "is_ca": self.is_ca, "not_before": self.not_before.isoformat(),
                "not_after": self.not_after.isoformat(), "key_type": self.key_type,
                "fingerprint": self.fingerprint, "signature_hash": self.signature_hash,
                "has_san": self.has_san}

    @classmethod
    def from_record(cls, record):
        fields = dict(record, names=tuple(record["names"]), ip_addresses=tuple(record["ip_addresses"]),
                      not_before=datetime.datetime.fromisoformat(record["not_before"]),
                      not_after=datetime.datetime.fromisoformat(record["not_after"]))
        return cls(**fields)


def weaknesses(info):
    """Why a certificate is too weak for today's TLS clients (empty when it is not)."""
    found = []
    if info.signature_hash in WEAK_HASHES:
        found.append(f"signed with {info.signature_hash.upper()}")
    if info.key_type.startswith("rsa:") and int(info.key_type[4:]) < 2048:
        found.append(f"RSA key of {info.key_type[4:]} bits")
    if not info.has_san:
        found.append("no subjectAltName")
    return found


def validity_problem(info, moment=None):
    moment = moment or now()
    if info.not_after <= moment:
        return f"expired on {info.not_after:%Y-%m-%d}"
    if info.not_before > moment:
        return f"is not valid before {info.not_before:%Y-%m-%d %H:%M} UTC"
    return None


def start_trust_check(cert_path, bundle_path):
    """Start `openssl verify` of the chain in `cert_path` against `bundle_path` and return at once;
    calling the result waits for the verdict. (~40 ms of openssl reading the bundle, which the
    caller spends on work of its own meanwhile.)"""
    import subprocess
    command = ["openssl", "verify", "-purpose", "sslserver", "-CAfile", bundle_path,
               "-untrusted", cert_path, cert_path]
    try:
        # stderr piped, not discarded: waiting with a timeout on a process with no pipe to read
        # polls for its exit with sleeps that double up to 50 ms.
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE)
    except OSError:
        return lambda: False

    def trusted():
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            return False
        return process.returncode == 0
    return trusted
