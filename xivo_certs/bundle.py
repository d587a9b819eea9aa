"""The files an admin got from a CA, read for `install`: certificates and a private key in PEM (in
any order, with text around them), a DER certificate, or PKCS#12; each with the file it came from."""

from typing import NamedTuple

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.serialization import pkcs12

from . import files, x509
from .errors import Problem

IGNORED_PEM = (b"EC PARAMETERS",)  # what `openssl ecparam -genkey` writes before the key


class Given(NamedTuple):
    """What the files hold, in the order given."""
    certs: list  # (certificate, path)
    keys: list  # (private key, path)


def read(cert_file, key_file=None, chain_files=(), password_file=None):
    """The certificates of `cert_file` and of each chain file, and the key of `key_file`, else the
    one(s) `cert_file` holds. The password (PKCS#12, encrypted keys) is the first line of
    `password_file`."""
    password = read_password(password_file) if password_file else None
    certs, keys = read_cert_file(cert_file, password, password_file)
    for chain_file in chain_files:
        data = files.read_input(chain_file)
        certs += [(cert, chain_file) for cert in x509.parse_certificates(data, chain_file)]
    if key_file:
        keys = read_key_file(key_file, password, password_file)
    return Given(certs, keys)


def read_key_file(path, password, password_file):
    """[(key, path)]: each private key of a PEM file (validate refuses two different ones), or
    the one of a DER file."""
    data = files.read_input(path)
    blocks = [match.group(0) for match in x509.PEM_BLOCK.finditer(data)
              if match.group(1).endswith(b"PRIVATE KEY")]
    return [(x509.parse_private_key(block, path, password, password_file), path)
            for block in blocks or [data]]


def read_password(path):
    line = files.read_input(path).split(b"\n", 1)[0]
    return line.removesuffix(b"\r")


def read_cert_file(path, password, password_file):
    """([(certificate, path)], [(key, path)]) of a PEM, DER or PKCS#12 file."""
    data = files.read_input(path)
    if b"-----BEGIN" in data:
        return _pem(data, path, password, password_file)
    try:
        return [(cert, path) for cert in x509.parse_certificates(data, path)], []
    except Problem:
        pass
    try:
        key, cert, others = pkcs12.load_key_and_certificates(data, password)
    except (ValueError, UnsupportedAlgorithm) as error:
        raise Problem(_pkcs12_problem(error, password_file), path)
    certs = ([cert] if cert is not None else []) + list(others)
    if not certs:
        raise Problem("the PKCS#12 file holds no certificate", path)
    keys = [(x509.supported_key(key, path), path)] if key is not None else []
    return [(x509.readable(c, f"certificate {n}", path), path) for n, c in enumerate(certs, 1)], keys


def _pkcs12_problem(error, password_file):
    if "password" not in str(error).lower():
        return "not a certificate (neither PEM nor DER X.509, nor PKCS#12)"
    if password_file is None:
        return "a PKCS#12 file protected by a password: give it with --password-file"
    return f"the password in {password_file} does not open this PKCS#12 file"


def _pem(data, path, password, password_file):
    certs: list = []
    keys: list = []
    for match in x509.PEM_BLOCK.finditer(data):
        kind, block = match.group(1), match.group(0)
        if kind == b"CERTIFICATE":
            certs.append((x509.pem_certificate(block, len(certs) + 1, path), path))
        elif kind.endswith(b"PRIVATE KEY"):
            keys.append((x509.parse_private_key(block, path, password, password_file), path))
        elif kind not in IGNORED_PEM:
            raise Problem(f"expected certificates and a private key, found {kind.decode()}", path)
    if certs:
        return certs, keys
    if keys:
        raise Problem("holds a private key but no certificate", path)
    raise Problem("holds no certificate (malformed PEM: no complete BEGIN/END block)", path)
