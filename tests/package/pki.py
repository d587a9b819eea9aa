"""Certificates for the scenarios (made on the host with Debian's python3-cryptography, by the
shared builder of tests/certkit.py), and a reader that turns a PEM certificate into the facts the
scenarios assert."""

import ipaddress
import os
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/

import certkit  # noqa: E402
from certkit import cert_pem, key_pem  # noqa: E402,F401
from certkit import certs_from_pem as load_certs  # noqa: E402
from certkit import new_key as gen_key  # noqa: E402

ORG = "xivo-certs tests"


def now():
    return certkit.now().replace(tzinfo=None)


def _signed(key, cn, issuer_key, issuer, days, **options):
    """A certificate for KEY (O=ORG, CN=cn) valid from a day ago to DAYS from now, signed by
    ISSUER_KEY for ISSUER (a certificate), or self-signed when they are None."""
    return certkit.make_cert(key, certkit.name(cn, ORG), issuer=issuer, issuer_key=issuer_key,
                             not_after=certkit.now() + days * certkit.DAY, **options)


def make_ca(cn, days=3650):
    key = gen_key("rsa:2048")
    return key, _signed(key, cn, None, None, days, ca=True)


def make_intermediate(ca_key, ca_cert, cn, days=1825):
    """An intermediate CA signed by CA (pathlen 0)."""
    key = gen_key("rsa:2048")
    return key, _signed(key, cn, ca_key, ca_cert, days, ca=True, path_length=0)


def make_leaf(ca_key, ca_cert, names, key_type="rsa:2048", days=365):
    """A server certificate for NAMES (first one is the CN) signed by the CA (or self-signed when
    ca_key is None)."""
    key = gen_key(key_type)
    return key, _signed(key, names[0], ca_key, ca_cert, days, dns=names)


def openssl_weak_pair(workdir, kind):
    """A weak default pair as an old package (or an admin following old docs) made it with
    `openssl req -x509 -subj /CN=localhost`: kind is nosan, sha1, rsa1024 or expiring (3 days)."""
    key, crt = f"{workdir}/{kind}.key", f"{workdir}/{kind}.crt"
    cmd = ["openssl", "req", "-x509", "-nodes", "-subj", "/CN=localhost", "-keyout", key, "-out", crt]
    cmd += {
        "nosan": ["-newkey", "rsa:2048", "-days", "825", "-sha256"],
        "sha1": ["-newkey", "rsa:2048", "-days", "825", "-sha1",
                 "-addext", "subjectAltName=DNS:localhost"],
        "rsa1024": ["-newkey", "rsa:1024", "-days", "825", "-sha256",
                    "-addext", "subjectAltName=DNS:localhost"],
        "expiring": ["-newkey", "rsa:2048", "-days", "3", "-sha256",
                     "-addext", "subjectAltName=DNS:localhost"],
    }[kind]
    subprocess.run(cmd, check=True, capture_output=True)
    return open(crt, "rb").read(), open(key, "rb").read()


# ------------------------------------------------------------------------------------------ reading

def key_type_of(public_key):
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"rsa:{public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return {"secp256r1": "ec:p256", "secp384r1": "ec:p384"}.get(public_key.curve.name,
                                                                   public_key.curve.name)
    return type(public_key).__name__


def not_after(cert):
    value = getattr(cert, "not_valid_after_utc", None)
    return value.replace(tzinfo=None) if value is not None else cert.not_valid_after


def info(pem):
    """Facts about the first certificate of PEM (bytes)."""
    cert = load_certs(pem)[0]
    ext = {e.oid: e for e in cert.extensions}
    dns, ips = [], []
    san = ext.get(x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if san:
        dns = san.value.get_values_for_type(x509.DNSName)
        ips = [str(i) for i in san.value.get_values_for_type(x509.IPAddress)]
    eku = ext.get(x509.oid.ExtensionOID.EXTENDED_KEY_USAGE)
    bc = ext.get(x509.oid.ExtensionOID.BASIC_CONSTRAINTS)
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return {
        "cn": cns[0].value if cns else None,
        "dns": dns,
        "ips": ips,
        "eku_server_auth": bool(eku and ExtendedKeyUsageOID.SERVER_AUTH in eku.value),
        "basic_constraints_ca": bc.value.ca if bc else None,
        "has_ski": x509.oid.ExtensionOID.SUBJECT_KEY_IDENTIFIER in ext,
        "has_aki": x509.oid.ExtensionOID.AUTHORITY_KEY_IDENTIFIER in ext,
        "sig_hash": cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else None,
        "key_type": key_type_of(cert.public_key()),
        "self_signed": cert.issuer == cert.subject,
        "not_after": not_after(cert),
        "days_left": (not_after(cert) - now()).total_seconds() / 86400,
        "fingerprint": certkit.fingerprint(cert),
        "cert": cert,
    }


def key_matches(cert_pem_bytes, key_pem_bytes):
    key = serialization.load_pem_private_key(key_pem_bytes, password=None)
    return certkit.key_matches(load_certs(cert_pem_bytes)[0], key)


def covers_ip(names_ips, ip):
    return any(ipaddress.ip_address(i) == ipaddress.ip_address(ip) for i in names_ips)
