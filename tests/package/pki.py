"""Certificates for the scenarios (made on the host with Debian's python3-cryptography), and a
reader that turns a PEM certificate into the facts the scenarios assert."""

import datetime
import hashlib
import ipaddress
import re
import subprocess

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = datetime.timezone.utc


def now():
    return datetime.datetime.now(UTC).replace(tzinfo=None)


def gen_key(kind="rsa:2048"):
    algo, _, size = kind.partition(":")
    if algo == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=int(size))
    return ec.generate_private_key({"p256": ec.SECP256R1(), "p384": ec.SECP384R1()}[size])


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _name(cn, org="xivo-certs tests"):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_ca(cn, days=3650):
    key = gen_key("rsa:2048")
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder()
            .subject_name(_name(cn)).issuer_name(_name(cn))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now() - datetime.timedelta(days=1))
            .not_valid_after(now() + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))
    return key, cert


def make_intermediate(ca_key, ca_cert, cn, days=1825):
    """An intermediate CA signed by CA (pathlen 0)."""
    key = gen_key("rsa:2048")
    cert = (x509.CertificateBuilder()
            .subject_name(_name(cn)).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now() - datetime.timedelta(days=1))
            .not_valid_after(now() + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def make_leaf(ca_key, ca_cert, names, key_type="rsa:2048", days=365):
    """A server certificate for NAMES (first one is the CN) signed by the CA (or self-signed when
    ca_key is None)."""
    key = gen_key(key_type)
    subject = _name(names[0])
    issuer_key = ca_key or key
    issuer = ca_cert.subject if ca_cert is not None else subject
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now() - datetime.timedelta(days=1))
               .not_valid_after(now() + datetime.timedelta(days=days))
               .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]),
                              critical=False)
               .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                              critical=False)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                              critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   issuer_key.public_key()), critical=False))
    cert = builder.sign(issuer_key, hashes.SHA256())
    return key, cert


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

PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\s*", re.S)


def load_certs(pem):
    return [x509.load_pem_x509_certificate(m.group(0)) for m in PEM_CERT.finditer(pem)]


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
    der = cert.public_bytes(serialization.Encoding.DER)
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
        "fingerprint": hashlib.sha256(der).hexdigest(),
        "cert": cert,
    }


def key_matches(cert_pem_bytes, key_pem_bytes):
    cert = load_certs(cert_pem_bytes)[0]
    key = serialization.load_pem_private_key(key_pem_bytes, password=None)
    fmt = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return cert.public_key().public_bytes(*fmt) == key.public_key().public_bytes(*fmt)


def covers_ip(names_ips, ip):
    return any(ipaddress.ip_address(i) == ipaddress.ip_address(ip) for i in names_ips)
