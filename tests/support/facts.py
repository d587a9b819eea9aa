"""What a certificate says: fingerprints, whether a key matches, and `facts(pem)`, the reader the
suites assert on."""

import hashlib
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from .certs import certs_from_pem, key_from_pem, now

SPKI = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo


def fingerprint(cert):
    """SHA-256 of the DER of a certificate (or of the first one in PEM bytes), in hex."""
    if not isinstance(cert, x509.Certificate):
        cert = certs_from_pem(cert)[0]
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def dns_names(signed):
    """The DNS names of the subjectAltName of a certificate or a CSR."""
    return signed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value \
        .get_values_for_type(x509.DNSName)


def sha256_file(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def spki(public_key):
    return public_key.public_bytes(*SPKI)


def key_matches(cert, key):
    """Whether `key` goes with `cert`: objects, or PEM bytes of both (the first certificate)."""
    if isinstance(cert, bytes):
        cert = certs_from_pem(cert)[0]
    if isinstance(key, bytes):
        key = key_from_pem(key)
    return spki(cert.public_key()) == spki(key.public_key())


def key_type_of(public_key):
    """"rsa:BITS", "ec:p256", "ec:p384" (other curves by their name)."""
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"rsa:{public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        curve = public_key.curve.name
        return {"secp256r1": "ec:p256", "secp384r1": "ec:p384"}.get(curve, curve)
    return type(public_key).__name__


def not_after(cert):
    """The end of validity, naive UTC."""
    value = getattr(cert, "not_valid_after_utc", None)
    return value.replace(tzinfo=None) if value is not None else cert.not_valid_after


def facts(pem):
    """Facts about the first certificate of PEM bytes."""
    cert = certs_from_pem(pem)[0]
    ext = {e.oid: e for e in cert.extensions}
    dns, ips = [], []
    san = ext.get(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    if san:
        dns = san.value.get_values_for_type(x509.DNSName)
        ips = [str(i) for i in san.value.get_values_for_type(x509.IPAddress)]
    eku = ext.get(ExtensionOID.EXTENDED_KEY_USAGE)
    bc = ext.get(ExtensionOID.BASIC_CONSTRAINTS)
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    end = not_after(cert)
    return {
        "cn": cns[0].value if cns else None,
        "dns": dns,
        "ips": ips,
        "eku_server_auth": bool(eku and ExtendedKeyUsageOID.SERVER_AUTH in eku.value),
        "basic_constraints_ca": bc.value.ca if bc else None,
        "has_ski": ExtensionOID.SUBJECT_KEY_IDENTIFIER in ext,
        "has_aki": ExtensionOID.AUTHORITY_KEY_IDENTIFIER in ext,
        "sig_hash": cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else None,
        "key_type": key_type_of(cert.public_key()),
        "self_signed": cert.issuer == cert.subject,
        "not_after": end,
        "days_left": (end - now().replace(tzinfo=None)).total_seconds() / 86400,
        "fingerprint": fingerprint(cert),
        "cert": cert,
    }
