"""What is known of a certificate once it is parsed, and the judgements made from that alone."""

import datetime
from typing import NamedTuple

from . import names

WEAK_HASHES = ("md5", "sha1")
UTC = datetime.timezone.utc


def now():
    return datetime.datetime.now(UTC)


class CertInfo(NamedTuple):
    """What a certificate says (x509.describe makes it)."""
    subject_cn: str
    issuer_cn: str
    issuer: str  # its CN, else the whole name (RFC 4514): many private CAs have no CN
    names: tuple  # DNS names of the subjectAltName
    ip_addresses: tuple
    self_signed: bool
    is_ca: bool
    not_before: datetime.datetime
    not_after: datetime.datetime
    key_type: str  # "rsa:2048", "ec:p256", ...
    fingerprint: str  # sha256 of the DER, hex
    signature_hash: str
    has_san: bool

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
