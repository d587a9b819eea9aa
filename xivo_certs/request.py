"""`xivo-certs request`: a certificate signing request for a commercial CA. The new key stays in
the state directory (request.key, root's, 0600) until `install` without --key puts the signed
certificate in place with it; then it is forgotten."""

import os

from cryptography import x509 as crypto_x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from . import files, names, settings as settings_module, x509
from .context import refuse_early
from .errors import Problem

KEY_NAME = "request.key"
CSR_MODE = 0o644  # a CSR holds nothing secret


def key_path(paths):
    return os.path.join(paths.state_dir, KEY_NAME)


def request(ctx, notes, hostname, extra_names=(), key_type=None, out=None):
    """Make a key and a CSR for `hostname` (and `extra_names`); the CSR goes to `out` or stdout."""
    hostname = names.normalize(hostname)
    alt_names = list(dict.fromkeys([hostname, *map(_alt_name, extra_names or ())]))
    key_type = key_type or settings_module.DEFAULT_KEY_TYPE
    if out:
        _check_out(ctx.paths, out)
    refuse_early(ctx)
    key = x509.new_key(key_type)
    csr = signing_request(key, hostname, alt_names)
    with files.locked(ctx.paths, ctx.owner):
        previous = _write(ctx, x509.key_pem(key), csr, out)
    if previous:  # its certificate may still come back from the CA
        notes.warn(f"the key of the previous request was backed up to {previous}")
    kept = f"the key stays in {key_path(ctx.paths)} until `xivo-certs install --cert FILE " \
           "[--chain FILE]` (without --key) installs the signed certificate"
    if out:
        notes.say(f"wrote the request for {', '.join(alt_names)} ({key_type}) to {out}; {kept}")
    else:
        notes.out.extend(csr.decode().splitlines())
        notes.warn(kept)  # stderr: stdout is the CSR alone


def _check_out(paths, out):
    """--out must not be one of the files xivo-certs manages (the pair, the CA, its state)."""
    target = os.path.realpath(out)
    managed = {os.path.realpath(path) for path in (paths.cert, paths.key, paths.ca)}
    if target in managed or target.startswith(os.path.realpath(paths.state_dir) + os.sep):
        raise Problem("is a file xivo-certs manages: write the request elsewhere", out)


def _alt_name(name):
    """A --san name: a host name, or a wildcard `*.` before one."""
    wildcard = name.startswith("*.")
    return ("*." if wildcard else "") + names.normalize(name[2:] if wildcard else name, "subjectAltName")


def signing_request(key, hostname, alt_names):
    """The PEM of a CSR for `hostname` (CN, as in generated certificates) and `alt_names` (SAN)."""
    subject = crypto_x509.Name([crypto_x509.NameAttribute(NameOID.COMMON_NAME,
                                                          x509.common_name_for(hostname))])
    builder = (crypto_x509.CertificateSigningRequestBuilder().subject_name(subject)
               .add_extension(crypto_x509.SubjectAlternativeName(
                   [crypto_x509.DNSName(name) for name in alt_names]), critical=False))
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def _write(ctx, key_pem, csr, out):
    """The key beside its final name, then the CSR, then the key renamed into place: a CSR that
    cannot be written to `out` leaves the previous request's key as it was. That key, replaced,
    is backed up first (a CSR for stdout is printed only after): its backup's path, or None."""
    kept = key_path(ctx.paths)
    files.remove(kept + files.NEW_SUFFIX)
    files.write_new(kept + files.NEW_SUFFIX, key_pem, 0o600, ctx.owner.private)
    try:
        if out:
            files.atomic_write(os.path.abspath(out), csr, CSR_MODE, ctx.owner.private)
    except BaseException as error:
        files.remove(kept + files.NEW_SUFFIX)
        if isinstance(error, OSError):
            raise Problem(f"cannot write the request: {error.strerror or error}", out)
        raise
    previous = files.backup(ctx.paths, ctx.owner, [kept], "request-key") if os.path.exists(kept) else None
    os.rename(kept + files.NEW_SUFFIX, kept)
    files.fsync_dir(ctx.paths.state_dir)
    return previous


def kept_key(paths, cert_file):
    """(key, path): the key `install` uses when no file given holds one, the one `request` kept."""
    kept = key_path(paths)
    if not os.path.exists(kept):
        raise Problem(f"holds no private key, and `xivo-certs request` kept none ({kept}): "
                      "give it with --key", cert_file)
    return x509.parse_private_key(files.read_input(kept, follow=False), kept), kept


def forget(paths, installed_key):
    """Remove the kept key once installed, unless a newer request replaced it meanwhile."""
    kept = key_path(paths)
    try:
        key = x509.parse_private_key(files.read_input(kept, follow=False), kept)
    except Problem:
        return
    if x509.key_pem(key) == x509.key_pem(installed_key):
        files.remove(kept)
