"""X.509 work: make the default pair, read and judge certificates and keys. Imports cryptography."""

import contextlib
import datetime
import hashlib
import ipaddress
import os
import re

from cryptography import x509
from cryptography.exceptions import InternalError, InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, SignatureAlgorithmOID

try:  # the cryptography-38 shim, see _rsa_key_check_skipped
    from cryptography.hazmat.backends.openssl.backend import backend as _openssl_backend
except ImportError:
    _openssl_backend = None  # type: ignore[assignment]

from .certinfo import UTC, CertInfo, now
from .errors import Problem
from .settings import KEY_TYPES

CURVES = {"p256": ec.SECP256R1, "p384": ec.SECP384R1}
CURVE_NAMES = {"secp256r1": "p256", "secp384r1": "p384", "secp521r1": "p521"}
LOCAL_ADDRESSES = ("127.0.0.1", "::1")
MAX_CN = 64
PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.S)


# --- making the default pair ---------------------------------------------------------------

def new_key(key_type):
    kind, _, size = key_type.partition(":")
    if key_type not in KEY_TYPES:
        raise Problem(f"key type {key_type!r} is not one of {', '.join(KEY_TYPES)}")
    if kind == "rsa":
        with _rsa_key_check_skipped():
            return rsa.generate_private_key(public_exponent=65537, key_size=int(size))
    return ec.generate_private_key(CURVES[size]())


def self_signed(key, hostname, extra_names=(), days=825):
    """A self-signed server certificate that strict verifiers accept (Python 3.13, Go, -x509_strict)."""
    dns = list(dict.fromkeys([hostname, *extra_names, "localhost"]))
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name_for(hostname))])
    public = key.public_key()
    start = now() - datetime.timedelta(minutes=5)
    alt_names = [x509.DNSName(n) for n in dns] + [
        x509.IPAddress(ipaddress.ip_address(a)) for a in LOCAL_ADDRESSES]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject).issuer_name(subject).public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_key_usage(key), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(public), critical=False)
    )
    return builder.sign(key, hashes.SHA256())


def common_name_for(hostname):
    """The CN of a certificate or request for `hostname`: the name, or its first label when it is
    longer than a CN may hold."""
    return hostname if len(hostname) <= MAX_CN else hostname.split(".")[0]


def _key_usage(key):
    rsa_key = isinstance(key, rsa.RSAPrivateKey)
    return x509.KeyUsage(
        digital_signature=True, key_encipherment=rsa_key, content_commitment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False)


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def certs_pem(certs):
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


# --- reading --------------------------------------------------------------------------------

def parse_certificates(data, path):
    """All certificates of a PEM file in order, or the one of a DER file."""
    blocks = PEM_BLOCK.findall(data)
    if not blocks:
        if b"-----BEGIN" in data:
            raise Problem("malformed PEM: no complete BEGIN/END block", path)
        return [_der_certificate(data, path)]
    kinds = {kind for kind, _ in blocks}
    if kinds != {b"CERTIFICATE"}:
        found = ", ".join(sorted(k.decode() for k in kinds - {b"CERTIFICATE"}))
        raise Problem(f"expected only certificates, found {found}", path)
    return [pem_certificate(match.group(0), number, path)
            for number, match in enumerate(PEM_BLOCK.finditer(data), 1)]


def pem_certificate(block, number, path):
    """The certificate of one PEM block, the `number`th of the file at `path`."""
    try:
        cert = x509.load_pem_x509_certificate(block)
    except (ValueError, UnsupportedAlgorithm) as error:
        raise Problem(f"certificate {number} is not valid X.509: {_short(error)}", path)
    return readable(cert, f"certificate {number}", path)


def _der_certificate(data, path):
    try:
        cert = x509.load_der_x509_certificate(data)
    except (ValueError, UnsupportedAlgorithm):
        raise Problem("not a certificate (neither PEM nor DER X.509)", path)
    return readable(cert, "the certificate", path)


def readable(cert, what, path):
    """`cert`, once every part we judge is parsed: cryptography parses the extensions, the
    signature algorithm and the key only when asked, so a certificate we cannot judge would
    otherwise fail later, in the middle of a command."""
    if cert.signature_algorithm_oid == SignatureAlgorithmOID.RSASSA_PSS:
        raise Problem(f"{what} is signed with RSASSA-PSS, which xivo-certs does not support "
                      "(ask for RSA PKCS#1 v1.5 or ECDSA signatures)", path)
    try:
        cert.extensions, cert.signature_hash_algorithm, cert.public_key()
    except (ValueError, UnsupportedAlgorithm, x509.DuplicateExtension) as error:
        raise Problem(f"{what} cannot be read: {_short(error)}", path)
    return cert


def parse_private_key(data, path, password=None, password_file=None):
    """The RSA or EC private key of a PEM or DER file; an encrypted one needs `password` (bytes,
    read from `password_file`)."""
    blocks = PEM_BLOCK.findall(data)
    kinds = {kind for kind, _ in blocks}
    if b"CERTIFICATE" in kinds and not any(k.endswith(b"PRIVATE KEY") for k in kinds):
        raise Problem("is a certificate, not a private key", path)
    encrypted = b"ENCRYPTED PRIVATE KEY" in kinds or b"Proc-Type: 4,ENCRYPTED" in data
    if encrypted and password is None:
        raise Problem(encrypted_key_advice(path), path)
    load = serialization.load_pem_private_key if blocks else serialization.load_der_private_key
    try:
        key = _load_unchecked(load, data, password if encrypted else None)
    except TypeError:  # an encrypted DER key, which says so only when read
        raise Problem(encrypted_key_advice(path), path)
    except (ValueError, UnsupportedAlgorithm) as error:
        if encrypted:
            raise Problem(f"the password in {password_file} does not decrypt the private key", path)
        raise Problem(f"not a private key (PEM or DER): {_short(error)}", path)
    return supported_key(key, path)


def supported_key(key, path):
    if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
        raise Problem("only RSA and EC private keys are supported", path)
    return key


def encrypted_key_advice(path):
    """Never `-out` the input itself: openssl truncates it before reading it."""
    stem, extension = os.path.splitext(path)
    return ("the private key is encrypted: use a copy without the passphrase (openssl pkey -in "
            f"{path} -out {stem}-decrypted{extension or '.key'}), or give the passphrase to "
            "`xivo-certs install --password-file`")


def _short(error):
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:120]


# --- judging ----------------------------------------------------------------------------------

def describe(cert):
    """The CertInfo of `cert`."""
    san = _extension(cert, x509.SubjectAlternativeName)
    constraints = _extension(cert, x509.BasicConstraints)
    return CertInfo(
        subject_cn=_common_name(cert.subject),
        issuer_cn=_common_name(cert.issuer),
        issuer=name_text(cert.issuer),
        names=tuple(san.get_values_for_type(x509.DNSName)) if san else (),
        ip_addresses=tuple(str(a) for a in san.get_values_for_type(x509.IPAddress)) if san else (),
        self_signed=is_self_signed(cert),
        is_ca=bool(constraints and constraints.ca),
        not_before=_utc(cert, "not_valid_before"),
        not_after=_utc(cert, "not_valid_after"),
        key_type=key_type_of(cert.public_key()),
        fingerprint=fingerprint(cert),
        signature_hash=cert.signature_hash_algorithm.name if cert.signature_hash_algorithm else "none",
        has_san=san is not None,
    )


def _extension(cert, kind):
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _common_name(name):
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(values[0].value) if values else ""


def name_text(name):
    """How messages call an x509.Name: its CN, else the whole name (RFC 4514)."""
    return _common_name(name) or name.rfc4514_string()


def _utc(cert, attribute):
    aware = getattr(cert, attribute + "_utc", None)  # cryptography >= 42
    return aware if aware is not None else getattr(cert, attribute).replace(tzinfo=UTC)


def fingerprint(cert):
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def key_type_of(public_key):
    if isinstance(public_key, rsa.RSAPublicKey):
        return f"rsa:{public_key.key_size}"
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        return "ec:" + CURVE_NAMES.get(public_key.curve.name, public_key.curve.name)
    if isinstance(public_key, ed25519.Ed25519PublicKey):
        return "ed25519"
    if isinstance(public_key, ed448.Ed448PublicKey):
        return "ed448"
    return "unknown"


PAIRWISE_DATA = b"xivo-certs pairwise consistency test"


def key_matches(cert, key):
    """Whether `key` is the private half of `cert`'s public key and works: a signature it makes
    verifies with the certificate's key (this also catches the damaged private parts that
    RSA_check_key would, as far as a TLS server would notice them)."""
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    public = cert.public_key()
    if public.public_bytes(*spki) != key.public_key().public_bytes(*spki):
        return False
    scheme: tuple
    if isinstance(key, rsa.RSAPrivateKey):
        scheme = (padding.PKCS1v15(), hashes.SHA256())
    else:
        scheme = (ec.ECDSA(hashes.SHA256()),)
    try:
        public.verify(key.sign(PAIRWISE_DATA, *scheme), PAIRWISE_DATA, *scheme)
    except (InvalidSignature, ValueError, InternalError):
        return False
    return True


def signed_by(cert, issuer):
    """Whether `issuer`'s key made `cert`'s signature."""
    public = issuer.public_key()
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(),
                          cert.signature_hash_algorithm)
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(cert.signature, cert.tbs_certificate_bytes,
                          ec.ECDSA(cert.signature_hash_algorithm))
        elif isinstance(public, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            public.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
        return False
    return True


def issued_by(cert, issuer):
    """Whether `issuer` issued `cert`: its subject is `cert`'s issuer, and its key made the signature."""
    return cert.issuer == issuer.subject and signed_by(cert, issuer)


def is_self_signed(cert):
    return issued_by(cert, cert)


# --- trust ---------------------------------------------------------------------------------

def trust_anchor(certs):
    """The certificate a client must trust when the system does not: the chain's self-signed top."""
    top = certs[-1]
    return top if is_self_signed(top) else None


def anchor_pem(certs):
    """The PEM of `trust_anchor(certs)`, or None."""
    anchor = trust_anchor(certs)
    return certs_pem([anchor]) if anchor is not None else None


def subject_is_only_cn(cert, common_name):
    return cert.subject == x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


# --- the cryptography-38 shim: remove it when bookworm (python3-cryptography 38) is gone --------
# cryptography < 39 runs OpenSSL's RSA_check_key on every RSA key it generates or loads, with no
# public switch (>= 39 skips it for generated keys and takes unsafe_skip_rsa_key_validation when
# loading). With OpenSSL 3 it costs ~60 ms at 2048 bits and ~1 s at 4096, on every sync after a
# change. A key we generated needs no check; a loaded one gets key_matches' pairwise test instead,
# which proves what matters: the key signs what the certificate's key verifies.

@contextlib.contextmanager
def _rsa_key_check_skipped():
    saved = getattr(_openssl_backend, "_rsa_skip_check_key", None)
    if saved is None:  # no such switch: nothing to skip
        yield
        return
    _openssl_backend._rsa_skip_check_key = True
    try:
        yield
    finally:
        _openssl_backend._rsa_skip_check_key = saved


def _load_unchecked(load, data, password=None):
    """`load(data, password)` without RSA_check_key."""
    try:
        return load(data, password=password, unsafe_skip_rsa_key_validation=True)  # cryptography >= 39
    except TypeError as error:
        if "unsafe_skip_rsa_key_validation" not in str(error):
            raise
    with _rsa_key_check_skipped():
        return load(data, password=password)
