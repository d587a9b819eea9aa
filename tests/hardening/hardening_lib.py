"""Shared tools of the hardening tests (fixtures are in conftest.py): temporary roots, the real command, certificates made to
order, whole-tree snapshots, and the consistency check every fault test ends with.

Everything runs Debian's /usr/bin/python3 against a temporary root (`--root`), as root: the
tests check owners (root:www-data) and some mount tmpfs or read-only bind mounts.
"""

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(CHECKOUT))
sys.path.insert(0, str(CHECKOUT / "tests"))

from cryptography import x509  # noqa: E402

import certkit  # noqa: E402
from certkit import cert_pem, key_matches, key_pem, load_key, now  # noqa: E402,F401
from certkit import fingerprint as fingerprint_of  # noqa: E402
from xivo_certs import override as override_module  # noqa: E402
from xivo_certs import settings as settings_module  # noqa: E402
from xivo_certs.paths import Paths  # noqa: E402

PYTHON = "/usr/bin/python3"
COMMAND = str(CHECKOUT / "bin" / "xivo-certs")
SHIPPED_HOOKS = CHECKOUT / "bin" / "hooks.d"
WWW_DATA = 33
SECRET = b"TOP-SECRET-root:$6$do-not-leak$not-a-real-hash:19000:0:99999:7:::\n"
CONFD_DIRS = ("etc/xivo-auth/conf.d", "etc/xivo-dird/conf.d", "etc/wazo-webhookd/conf.d")
NEW_SUFFIX = ".xivo-certs-new"

RECORD_HOOK = """#!/bin/sh
# Records every hook run: previous fingerprint, new fingerprint, reason.
printf '%s %s %s\\n' "${XIVO_CERTS_PREVIOUS_FINGERPRINT:--}" "$XIVO_CERTS_FINGERPRINT" \\
    "$XIVO_CERTS_REASON" >> "$XIVO_CERTS_ROOT/hooks.log"
"""



def command_env(**extra):
    env = {
        "PATH": f"{CHECKOUT / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin",
        "PYTHONPATH": str(CHECKOUT),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        "HOME": "/root",
    }
    env.update(extra)
    return env


# --- a temporary root ------------------------------------------------------------------------

class Root:
    """A temporary system root with the shipped hooks, a recording hook and some conf.d dirs."""

    def __init__(self, path):
        self.path = Path(path)
        self.paths = Paths(str(self.path))

    def __str__(self):
        return str(self.path)

    def __truediv__(self, relative):
        return self.path / str(relative).lstrip("/")

    @property
    def cert(self):
        return Path(self.paths.cert)

    @property
    def key(self):
        return Path(self.paths.key)

    @property
    def override(self):
        return Path(self.paths.override)

    @property
    def secret(self):
        return self.path / "secret"

    @property
    def hooks_log(self):
        return self.path / "hooks.log"

    def argv(self, *args):
        return [PYTHON, COMMAND, "--root", str(self.path), *map(str, args)]

    def run(self, *args, timeout=120, check=None):
        result = subprocess.run(self.argv(*args), env=command_env(), capture_output=True,
                                text=True, errors="replace", timeout=timeout,
                                stdin=subprocess.DEVNULL)
        if check is not None and result.returncode != check:
            raise AssertionError(f"xivo-certs {' '.join(map(str, args))}: exit {result.returncode}, "
                                 f"expected {check}\nstdout: {result.stdout}\nstderr: {result.stderr}")
        return result

    def popen(self, *args, **kwargs):
        """A command in its own process group (so a kill -9 of the group takes its hooks too)."""
        return subprocess.Popen(self.argv(*args), env=command_env(), stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                start_new_session=True, **kwargs)

    def hook_runs(self):
        try:
            lines = self.hooks_log.read_text().splitlines()
        except FileNotFoundError:
            return []
        return [tuple(line.split()) for line in lines]

    def confd_dirs(self):
        return [self / d for d in CONFD_DIRS if (self / d).is_dir()]


def make_root(path, hooks=True, record=True, confd=CONFD_DIRS):
    root = Root(path)
    root.path.mkdir(parents=True, exist_ok=True)
    os.chmod(root.path, 0o755)
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc/group").write_text("root:x:0:\nwww-data:x:33:\n")
    for directory in confd:
        (root / directory).mkdir(parents=True, exist_ok=True)
    if hooks:
        hooks_dir = root / "etc/xivo-certs/hooks.d"
        hooks_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(hooks_dir, 0o755)
        for hook in SHIPPED_HOOKS.iterdir():
            shutil.copy(hook, hooks_dir / hook.name)
            os.chmod(hooks_dir / hook.name, 0o755 if os.access(hook, os.X_OK) else 0o644)
        if record:
            (hooks_dir / "50-record").write_text(RECORD_HOOK)
            os.chmod(hooks_dir / "50-record", 0o755)
    root.secret.write_bytes(SECRET)
    os.chmod(root.secret, 0o600)
    return root




# --- certificates made to order ----------------------------------------------------------------

def new_key(kind="ec"):
    """A P-256 key for "ec", else a key of certkit's types ("rsa:BITS", "ec:p384", ...)."""
    return certkit.new_key("ec:p256" if kind == "ec" else kind)


def make_cert(key=None, names=("pbx.example.com",), cn=None, issuer=None, ips=(), san=True,
              ca=False, not_before=None, not_after=None, raw_names=False, hash_name="sha256",
              eku=True):
    """A certificate (and its key). `issuer` is (key, cert) or None for self-signed; `raw_names`
    puts the strings into the SAN without any validation."""
    key = key or new_key()
    if cn is None:
        cn = names[0] if names else "no-name"
    issuer_key, issuer_cert = issuer or (None, None)
    return key, certkit.make_cert(key, certkit.name(cn), issuer=issuer_cert, issuer_key=issuer_key,
                                  ca=ca, dns=names, ips=ips, raw_dns=raw_names, san=san, eku=eku,
                                  not_before=not_before, not_after=not_after, days=400,
                                  hash_alg=hash_name)


def make_ca(name="Hardening Test CA"):
    return make_cert(names=(), cn=name, ca=True, san=False)


class AdminPair:
    """An admin's certificate (+ chain) and key, written to files the tests hand to `install`."""

    def __init__(self, directory, name, names, issuer=None, chain=()):
        self.key, self.cert = make_cert(names=names, issuer=issuer)
        self.chain = list(chain)
        self.fingerprint = fingerprint_of(self.cert)
        directory.mkdir(parents=True, exist_ok=True)
        self.cert_file = directory / f"{name}.crt"
        self.key_file = directory / f"{name}.key"
        self.chain_file = directory / f"{name}-chain.crt"
        self.cert_file.write_bytes(cert_pem(self.cert))
        self.key_file.write_bytes(key_pem(self.key))
        self.chain_file.write_bytes(cert_pem(*self.chain))

    def install_args(self):
        args = ["install", "--cert", self.cert_file, "--key", self.key_file]
        return args + (["--chain", self.chain_file] if self.chain else [])

    @property
    def pem(self):
        """The certificate file `install` writes: the leaf, then the chain."""
        return cert_pem(self.cert, *self.chain)

    @property
    def key_bytes(self):
        return key_pem(self.key)


# --- snapshots and checks --------------------------------------------------------------------

def snapshot(top, skip=()):
    """Every entry under `top` (itself included): type, mode, owner, bytes (sha256 and inode of
    regular files), link target. Never opens anything but regular files."""
    top = str(top)
    result = {}

    def record(path):
        info = os.lstat(path)
        entry = [stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid]
        if stat.S_ISLNK(info.st_mode):
            entry.append(os.readlink(path))
        elif stat.S_ISREG(info.st_mode):
            with open(path, "rb") as stream:
                entry += [hashlib.sha256(stream.read()).hexdigest(), info.st_ino]
        result[os.path.relpath(path, top)] = tuple(entry)

    record(top)
    for directory, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = os.path.join(directory, name)
            if os.path.relpath(path, top) not in skip:
                record(path)
    return result


def snapshot_diff(before, after):
    lines = []
    for path in sorted(set(before) | set(after)):
        if before.get(path) != after.get(path):
            lines.append(f"{path}: {before.get(path)} -> {after.get(path)}")
    return "\n".join(lines)


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


def load_cert(path):
    return x509.load_pem_x509_certificate(Path(path).read_bytes())


def check_modes(root, exact=True):
    """The pair's owner and modes: exactly the table's, or (exact=False) never wider."""
    for path, mode in ((root.cert, 0o644), (root.key, 0o640)):
        info = os.lstat(path)
        assert stat.S_ISREG(info.st_mode), f"{path} is not a regular file"
        assert info.st_uid == 0, f"{path}: owner {info.st_uid}"
        assert info.st_gid in ((WWW_DATA,) if exact else (0, WWW_DATA)), f"{path}: group {info.st_gid}"
        actual = stat.S_IMODE(info.st_mode)
        assert (actual == mode) if exact else not actual & ~mode, f"{path}: mode {actual:04o}"


def read_state(root):
    from xivo_certs import state
    return state.read(root.paths.state)


def expected_override(root, certs=None):
    """What `xivo-certs override` must have written for the certificate in place."""
    from xivo_certs import pair
    settings = settings_module.load(root.paths.settings)
    certs = certs or pair.read(root.paths).certs
    return override_module.plan(root.paths, settings, certs)


def check_consistent(root):
    """Everything a finished command promises; the certificate's fingerprint."""
    assert not leftovers(root), f"leftovers: {leftovers(root)}"
    cert, key = load_cert(root.cert), load_key(root.key)
    assert key_matches(cert, key), "the key does not match the certificate"
    check_modes(root)
    fingerprint = fingerprint_of(cert)
    state = read_state(root)
    assert state.get("fingerprint") == fingerprint, "the state does not record the certificate"
    plan = expected_override(root)
    links = [d / "010-custom-certificate.yml" for d in root.confd_dirs()]
    if plan.needed and plan.text:
        assert root.override.read_bytes() == plan.text, "the override does not match the certificate"
        assert not root.override.is_symlink()
        for link in links:
            assert os.readlink(link) == "/etc/xivo/custom/custom-certificate.yml", link
    else:
        assert not os.path.lexists(root.override), "an override is left while none is needed"
        for link in links:
            assert not os.path.lexists(link), f"{link} left while no override is needed"
    return fingerprint


def one_line(stderr):
    """The stderr of a refused command: exactly one non-empty line."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    return lines[0]


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
