"""Certificates made by hand, for the cases trustme cannot make (support.chains makes the ordinary
chains): weak (SHA-1, RSA 1024), malformed (raw invalid DNS names, no SAN, no key identifiers,
CA:TRUE leaves), expired or not yet valid, self-signed with chosen extensions, EC keys. Keys by type
string, PEM in and out. Plain python3-cryptography (Debian's, 38 on bookworm)."""

import datetime
import ipaddress
import re
import subprocess
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = datetime.timezone.utc
DAY = datetime.timedelta(days=1)
CURVES: dict = {"p256": ec.SECP256R1, "p384": ec.SECP384R1, "p521": ec.SECP521R1}
HASHES = {"sha256": hashes.SHA256, "sha1": hashes.SHA1}
CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True, content_commitment=False, key_encipherment=False,
    data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
    encipher_only=False, decipher_only=False)
PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\s*", re.S)


def now():
    return datetime.datetime.now(UTC)


# --- keys and names -------------------------------------------------------------------------------

def new_key(key_type="rsa:2048"):
    """A new private key: "rsa:BITS" or "ec:p256", "ec:p384", "ec:p521"."""
    kind, _, size = key_type.partition(":")
    if kind == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=int(size))
    return ec.generate_private_key(CURVES[size]())


def name(cn, org=None):
    """O=org (if any), CN=cn (none when cn is empty: an empty subject)."""
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, cn)] if cn else []
    if org:
        attributes.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attributes)


# --- the certificate builder ----------------------------------------------------------------------

def make_cert(key, subject, *, issuer=None, issuer_key=None, ca=False, path_length=None,
              dns=(), ips=(), raw_dns=False, san=None, eku=True, key_ids=True,
              not_before=None, not_after=None, days=365, hash_alg=None, key_ids_critical=False):
    """A certificate for `key` named `subject` (an x509.Name), self-signed unless `issuer` (a
    certificate) and `issuer_key` sign it.

    ca: a CA (KeyUsage keyCertSign, cRLSign; `path_length`), else serverAuth when `eku`.
    san: None adds a SAN of `dns` and `ips` when there are any, True always (maybe empty), False
    never; `raw_dns` puts the DNS strings in without validation. key_ids: subject and authority
    key identifiers (critical with `key_ids_critical`, which no verifier accepts). Valid from
    `not_before` (default a day ago) to `not_after` (default `days` later); signed with `hash_alg`
    (a hashes instance or a HASHES name; default SHA-256)."""
    signer_key = issuer_key or key
    not_before = not_before or now() - DAY
    not_after = not_after or not_before + days * DAY
    if isinstance(hash_alg, str):
        hash_alg = HASHES[hash_alg]()
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(issuer.subject if issuer else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length), critical=True))
    if ca:
        builder = builder.add_extension(CA_KEY_USAGE, critical=True)
    elif eku:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    if san or (san is None and (dns or ips)):
        builder = builder.add_extension(alt_names(dns, ips, raw_dns), critical=False)
    if key_ids:
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=key_ids_critical)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
            critical=key_ids_critical)
    return builder.sign(signer_key, hash_alg or hashes.SHA256())


def self_signed(names, key_type="rsa:2048", days=365, org=None):
    """(key, certificate): an ordinary self-signed server certificate for `names` (DNS names; the
    first one is the CN, O=`org`), valid from a day ago to `days` from now."""
    key = new_key(key_type)
    return key, make_cert(key, name(names[0], org), dns=names, not_after=now() + days * DAY)


def package_like(key, hostname="localhost", dns=None, days=825, not_before=None, not_after=None,
                 hash_alg=None, san=True, cn=None):
    """A self-signed server certificate for `key` like the ones xivo-certs (or the packages before
    it) made: CN `hostname`, a SAN of `dns` (default the host name and localhost) and the loopback
    addresses (none when not `san`)."""
    dns = tuple(dict.fromkeys((hostname, "localhost") if dns is None else dns))
    return make_cert(key, name(cn or hostname), dns=dns, ips=("127.0.0.1", "::1") if san else (),
                     san=None if san else False, days=days, not_before=not_before,
                     not_after=not_after, hash_alg=hash_alg)


def alt_names(dns=(), ips=(), raw_dns=False):
    """A SubjectAlternativeName of DNS names then IP addresses (strings)."""
    make_dns = x509.DNSName._init_without_validation if raw_dns else x509.DNSName
    return x509.SubjectAlternativeName(
        [make_dns(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(a)) for a in ips])


def openssl_weak_pair(workdir, kind):
    """(cert PEM, key PEM) of a weak self-signed pair as an old package (or an admin following old
    docs) made it with `openssl req -x509 -subj /CN=localhost`: `kind` is nosan, sha1, rsa1024 or
    expiring (3 days)."""
    key, crt = f"{workdir}/{kind}.key", f"{workdir}/{kind}.crt"
    argv = ["openssl", "req", "-x509", "-nodes", "-subj", "/CN=localhost", "-keyout", key, "-out", crt]
    san = ["-addext", "subjectAltName=DNS:localhost"]
    argv += {
        "nosan": ["-newkey", "rsa:2048", "-days", "825", "-sha256"],
        "sha1": ["-newkey", "rsa:2048", "-days", "825", "-sha1", *san],
        "rsa1024": ["-newkey", "rsa:1024", "-days", "825", "-sha256", *san],
        "expiring": ["-newkey", "rsa:2048", "-days", "3", "-sha256", *san],
    }[kind]
    subprocess.run(argv, check=True, capture_output=True)
    return Path(crt).read_bytes(), Path(key).read_bytes()


def unreadable_pair(workdir, kind):
    """(cert PEM, key PEM) of a self-signed pair for pbx.example.test that loads but cannot be
    judged: `kind` "rsa-pss" (signed with RSASSA-PSS by openssl) or "duplicate-extension" (one
    private extension twice, which cryptography reports only when the extensions are read)."""
    if kind == "rsa-pss":
        crt, key = openssl_req_x509(workdir, "pbx.example.test", options=(
            "-sha256", "-sigopt", "rsa_padding_mode:pss"))
        return crt.read_bytes(), key.read_bytes()
    key = new_key()
    builder = (x509.CertificateBuilder().subject_name(name("pbx.example.test"))
               .issuer_name(name("pbx.example.test")).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now() - DAY).not_valid_after(now() + 30 * DAY)
               .add_extension(alt_names(["pbx.example.test"]), critical=False))
    for arc in (1, 2):
        builder = builder.add_extension(
            x509.UnrecognizedExtension(x509.ObjectIdentifier(f"1.3.6.1.4.1.55555.{arc}"), b"\x05\x00"),
            critical=False)
    der = builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
    oid_der = b"\x06\x09\x2b\x06\x01\x04\x01\x83\xb2\x03"  # 1.3.6.1.4.1.55555. (last arc follows)
    assert der.count(oid_der + b"\x02") == 1
    der = der.replace(oid_der + b"\x02", oid_der + b"\x01")  # same length: the DER stays well formed
    return cert_pem(x509.load_der_x509_certificate(der)), key_pem(key)


def openssl_req_x509(workdir, hostname, days=30, options=()):
    """(cert path, key path) of a self-signed pair for `hostname` made as an admin would with plain
    `openssl req -x509` and Debian's openssl.cnf: basicConstraints critical CA:TRUE, key
    identifiers, a SAN of the name (given with -addext), no keyUsage or extendedKeyUsage; more
    `options` for openssl req."""
    key, crt = Path(workdir) / f"{hostname}.key", Path(workdir) / f"{hostname}.crt"
    subprocess.run(["openssl", "req", "-x509", "-nodes", "-newkey", "rsa:2048", "-days", str(days),
                    *options, "-subj", f"/CN={hostname}", "-addext", f"subjectAltName=DNS:{hostname}",
                    "-keyout", key, "-out", crt], check=True, capture_output=True)
    return crt, key


def openssl_pkcs12(path, cert_file, key_file=None, chain_file=None, password="", legacy=False):
    """`path`, a PKCS#12 file made by `openssl pkcs12 -export` from PEM files (password "" is the
    empty one; `legacy`: RC2/3DES as old Windows exports, else OpenSSL 3's AES and PBKDF2)."""
    argv = ["openssl", "pkcs12", "-export", "-in", cert_file, "-out", path, "-passout", f"pass:{password}"]
    argv += ["-inkey", key_file] if key_file else ["-nokeys"]
    argv += ["-certfile", chain_file] if chain_file else []
    argv += ["-legacy"] if legacy else []
    subprocess.run(argv, check=True, capture_output=True)
    return path


# --- PEM out and in -------------------------------------------------------------------------------

def cert_pem(*certs):
    return b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certs)


def key_pem(key, fmt="pkcs8", password=None):
    """PEM of a private key: "pkcs8" or "traditional", encrypted when `password` (bytes)."""
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    formats = {"pkcs8": serialization.PrivateFormat.PKCS8,
               "traditional": serialization.PrivateFormat.TraditionalOpenSSL}
    return key.private_bytes(serialization.Encoding.PEM, formats[fmt], encryption)


def pem(*items):
    """PEM bytes of certificates and keys (PKCS#8), in order."""
    return b"".join(cert_pem(item) if isinstance(item, x509.Certificate) else key_pem(item)
                    for item in items)


def certs_from_pem(data):
    """Every certificate of PEM bytes, in order (text around them ignored)."""
    return [x509.load_pem_x509_certificate(m.group(0)) for m in PEM_CERT.finditer(data)]


def key_from_pem(data):
    return serialization.load_pem_private_key(data, password=None)


def load_certs(path):
    return certs_from_pem(Path(path).read_bytes())


def load_cert(path):
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def load_key(path):
    return key_from_pem(Path(path).read_bytes())
