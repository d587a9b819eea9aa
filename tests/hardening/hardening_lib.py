"""What only the hardening tests need (fixtures are in conftest.py; what every suite shares is in
tests/support): roots with a secret to leak, admin pairs written to files for `install`, the
consistency check every fault test ends with, and mounts that fill or freeze a file system.

Everything runs Debian's /usr/bin/python3 against a temporary root (`--root`), as root: the
tests check owners (root:www-data) and some mount tmpfs or read-only bind mounts.
"""

import os
import subprocess
from pathlib import Path

from support import certs, chains, roots
from support.asserts import check_modes
from support.facts import fingerprint, key_matches
from support.layout import LINK_NAME, OVERRIDE
from xivo_certs import override as override_module
from xivo_certs import pair as pair_module
from xivo_certs import settings as settings_module

SECRET = b"TOP-SECRET-root:$6$do-not-leak$not-a-real-hash:19000:0:99999:7:::\n"
NEW_SUFFIX = ".xivo-certs-new"


# --- a temporary root ------------------------------------------------------------------------

class Root(roots.Root):
    """support's root, with a secret file in it and the hook runs as (previous fingerprint or
    "-", fingerprint, reason)."""

    @property
    def secret(self):
        return self.path / "secret"

    def hook_runs(self):
        return [(run.get("XIVO_CERTS_PREVIOUS_FINGERPRINT") or "-", run["XIVO_CERTS_FINGERPRINT"],
                 run["XIVO_CERTS_REASON"]) for run in super().hook_runs()]


def make_root(path, **options):
    """support.roots.make_root (`hooks`, `record`, `confd`), plus the secret file."""
    root = Root(roots.make_root(path, **options).path)
    root.secret.write_bytes(SECRET)
    os.chmod(root.secret, 0o600)
    return root


# --- certificates made to order ----------------------------------------------------------------

def new_key(kind="ec"):
    """A P-256 key for "ec", else a key of support.certs' types ("rsa:BITS", "ec:p384", ...)."""
    return certs.new_key("ec:p256" if kind == "ec" else kind)


def make_cert(key=None, names=("pbx.example.com",), cn=None, issuer=None, ips=(), san=True,
              ca=False, not_before=None, not_after=None, raw_names=False, hash_name="sha256",
              eku=True):
    """A hand-made certificate (and its key). `issuer` is a support.chains.CA, (key, cert) or
    None for self-signed; `raw_names` puts the strings into the SAN without any validation."""
    key = key or new_key()
    if cn is None:
        cn = names[0] if names else "no-name"
    issuer_key, issuer_cert = (issuer.key, issuer.cert) if isinstance(issuer, chains.CA) else (
        issuer or (None, None))
    return key, certs.make_cert(key, certs.name(cn), issuer=issuer_cert, issuer_key=issuer_key,
                                ca=ca, dns=names, ips=ips, raw_dns=raw_names, san=san, eku=eku,
                                not_before=not_before, not_after=not_after, days=400,
                                hash_alg=hash_name)


def make_ca(name="Hardening Test CA"):
    return chains.CA(name)


class AdminPair:
    """An admin's certificate (+ chain) and key, written to files the tests hand to `install`:
    issued by `issuer` (a support.chains.CA), else `pair` (key, cert), else a self-signed one."""

    def __init__(self, directory, name, names=(), issuer=None, chain=(), pair=None):
        if issuer is not None:
            leaf = issuer.issue(*names)
            self.key, self.cert = leaf.key, leaf.cert
        else:
            self.key, self.cert = pair or make_cert(names=names)
        self.chain = list(chain)
        self.fingerprint = fingerprint(self.cert)
        directory.mkdir(parents=True, exist_ok=True)
        self.cert_file = directory / f"{name}.crt"
        self.key_file = directory / f"{name}.key"
        self.chain_file = directory / f"{name}-chain.crt"
        self.cert_file.write_bytes(certs.cert_pem(self.cert))
        self.key_file.write_bytes(certs.key_pem(self.key))
        self.chain_file.write_bytes(certs.cert_pem(*self.chain))

    def install_args(self):
        args = ["install", "--cert", self.cert_file, "--key", self.key_file]
        return args + (["--chain", self.chain_file] if self.chain else [])

    @property
    def pem(self):
        """The certificate file `install` writes: the leaf, then the chain."""
        return certs.cert_pem(self.cert, *self.chain)

    @property
    def key_bytes(self):
        return certs.key_pem(self.key)


# --- checks ------------------------------------------------------------------------------------

def leftovers(root):
    """Temporary files a finished command must not leave behind."""
    found = []
    for directory, dirnames, filenames in os.walk(root.path):
        for name in dirnames + filenames:
            if name.endswith(NEW_SUFFIX):
                found.append(os.path.join(directory, name))
    if os.path.lexists(root.paths.pending):
        found.append(root.paths.pending)
    return found


def expected_override(root, certs_in_place=None):
    """What `xivo-certs override` must have written for the certificate in place."""
    settings = settings_module.load(root.paths.settings)
    certs_in_place = certs_in_place or pair_module.read(root.paths).certs
    return override_module.plan(root.paths, settings, certs_in_place)


def check_consistent(root):
    """Everything a finished command promises; the certificate's fingerprint."""
    assert not leftovers(root), f"leftovers: {leftovers(root)}"
    cert, key = certs.load_cert(root.cert), certs.load_key(root.key)
    assert key_matches(cert, key), "the key does not match the certificate"
    check_modes(root)
    cert_fingerprint = fingerprint(cert)
    state = root.state()
    assert state.fingerprint == cert_fingerprint, "the state does not record the certificate"
    plan = expected_override(root)
    links = [d / LINK_NAME for d in root.confd_dirs()]
    if plan.needed and plan.text:
        assert root.override.read_bytes() == plan.text, "the override does not match the certificate"
        assert not root.override.is_symlink()
        for link in links:
            assert os.readlink(link) == OVERRIDE, link
    else:
        assert not os.path.lexists(root.override), "an override is left while none is needed"
        for link in links:
            assert not os.path.lexists(link), f"{link} left while no override is needed"
    return cert_fingerprint


# --- mounts ------------------------------------------------------------------------------------

def can_mount(probe_dir):
    if os.geteuid() != 0:
        return False
    probe = Path(probe_dir) / "mount-probe"
    probe.mkdir(exist_ok=True)
    ok = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(probe)],
                        capture_output=True).returncode == 0
    if ok:
        subprocess.run(["umount", str(probe)], check=True)
    probe.rmdir()
    return ok


def mount(*args):
    subprocess.run(["mount", *map(str, args)], check=True, capture_output=True)


def umount(path):
    subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)


def fill(directory, leave=0):
    """Fill the file system of `directory` up, leaving about `leave` bytes; the filler's path."""
    filler = Path(directory) / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 20, 65536, 4096, 512, 1):
            block = b"\0" * size
            try:
                while True:
                    os.write(fd, block)
            except OSError:
                pass
    finally:
        os.close(fd)
    if leave:
        os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler
