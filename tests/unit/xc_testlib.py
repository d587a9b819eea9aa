"""Helpers of the unit suite: keys made once per session, a private test CA, certificates with
chosen names, dates, hashes and keys, a temporary root, snapshots, and running `xivo-certs`."""

import hashlib
import itertools
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization

CHECKOUT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(CHECKOUT))
sys.path.insert(0, str(CHECKOUT / "tests"))

import certkit  # noqa: E402
from certkit import fingerprint, load_certs, load_key, name, now, pem, spki  # noqa: E402,F401
from xivo_certs import cli, state as state_module  # noqa: E402,F401 (cli: for conftest)
from xivo_certs import x509 as core_x509  # noqa: E402
from xivo_certs.context import TEST_OWNER, Owner  # noqa: E402
from xivo_certs.paths import Paths  # noqa: E402

PYTHON = "/usr/bin/python3"
COMMAND = str(CHECKOUT / "bin" / "xivo-certs")
SHIPPED_HOOKS = CHECKOUT / "bin" / "hooks.d"
DATA = Path(__file__).resolve().parent / "data"
REAL_NEW_KEY = core_x509.new_key

# The owners xivo-certs gives its files: root and www-data (33) when the suite runs as root;
# without root, the test user's ids, injected (in-process: cli.main(owner=); subprocesses:
# XIVO_CERTS_TEST_OWNER, which xivo-certs ignores when run as root).
AS_ROOT = os.geteuid() == 0
UID, GID, WWW_DATA = (0, 0, 33) if AS_ROOT else (os.getuid(), os.getgid(), os.getgid())
OWNER = Owner(UID, GID, WWW_DATA)
INJECTED_OWNER = None if AS_ROOT else OWNER  # as root: the process's own (reads the root's /etc/group)
OWNER_ENV = {TEST_OWNER: f"{UID}:{GID}"}
CA_PATH = "/usr/share/xivo-certs/ca.crt"
OVERRIDE_PATH = "/etc/xivo/custom/custom-certificate.yml"
CONFD_DIRS = ("etc/xivo-dird/conf.d", "etc/xivo-confd/conf.d", "etc/wazo-calld/conf.d",
              "etc/wazo-webhookd/conf.d")
SERVICES = ("consul", "agentd", "ajam", "amid", "auth", "calld", "confd", "ctid_ng", "dird",
            "webhookd", "websocketd")
HOOK_VARIABLES = ("XIVO_CERTS_ROOT", "XIVO_CERTS_CERT", "XIVO_CERTS_KEY", "XIVO_CERTS_HOSTNAME",
                  "XIVO_CERTS_NAMES", "XIVO_CERTS_SELF_SIGNED", "XIVO_CERTS_DEFAULT",
                  "XIVO_CERTS_FINGERPRINT", "XIVO_CERTS_PREVIOUS_FINGERPRINT",
                  "XIVO_CERTS_NOT_AFTER", "XIVO_CERTS_REASON", "XIVO_CERTS_RESTART_SERVICES")


# --- keys, made once per session ------------------------------------------------------------------

class KeyPool:
    """Keys by type, handed out round-robin. RSA is slow here (0.4 s for 2048 bits, seconds to
    tens of seconds for 3072 and 4096), so the big ones come from test-only files in data/."""

    COUNTS = {"rsa:2048": 4, "rsa:1024": 2}

    def __init__(self):
        self._keys = {}
        self._cycles = {}

    def _make(self, key_type):
        kind, _, size = key_type.partition(":")
        if key_type in ("rsa:3072", "rsa:4096"):
            data = (DATA / f"test-only-rsa{size}.key").read_bytes()
            return [serialization.load_pem_private_key(data, password=None)]
        count = self.COUNTS.get(key_type, 1) if kind == "rsa" else 4
        return [certkit.new_key(key_type) for _ in range(count)]

    def get(self, key_type="rsa:2048"):
        if key_type not in self._keys:
            self._keys[key_type] = self._make(key_type)
            self._cycles[key_type] = itertools.cycle(self._keys[key_type])
        return next(self._cycles[key_type])

    def distinct(self, key_type, count):
        """`count` different keys of one type."""
        keys = []
        while len(keys) < count:
            key = self.get(key_type)
            if all(key is not other for other in keys):
                keys.append(key)
        return keys


POOL = KeyPool()


# --- certificates ----------------------------------------------------------------------------------

def make_cert(key, cn, dns=(), ips=(), issuer=None, issuer_key=None, ca=False, path_length=None,
              not_before=None, not_after=None, days=365, hash_alg=None, san=True, eku=True,
              subject=None, key_ids=True):
    """A certificate for `key`; self-signed unless `issuer` (a certificate) and `issuer_key`.
    A SAN (of `dns` and `ips`) when there are names and `san`."""
    return certkit.make_cert(key, subject or name(cn), issuer=issuer, issuer_key=issuer_key,
                             ca=ca, path_length=path_length, dns=dns, ips=ips,
                             san=None if san else False, eku=eku, key_ids=key_ids,
                             not_before=not_before, not_after=not_after, days=days,
                             hash_alg=hash_alg)


class PrivateCA:
    """A private CA (root, optional intermediate) issuing leaf certificates with chosen properties."""

    def __init__(self, pool, cn="xivo-certs Test Root CA", parent=None, key=None):
        self.key = key or pool.get("ec:p256")
        self.pool = pool
        self.parent = parent
        if parent is None:
            self.cert = make_cert(self.key, cn, ca=True, days=3650, subject=name(cn, "Test"))
        else:
            self.cert = make_cert(self.key, cn, ca=True, days=1825, issuer=parent.cert,
                                  issuer_key=parent.key, subject=name(cn, "Test"))

    def intermediate(self, cn="xivo-certs Test Intermediate CA"):
        return PrivateCA(self.pool, cn, parent=self, key=self.pool.get("ec:p256"))

    def leaf(self, dns=("pbx.example.test",), cn=None, key=None, key_type="rsa:2048", **options):
        key = key or self.pool.get(key_type)
        cert = make_cert(key, cn if cn is not None else (dns[0] if dns else "leaf"), dns=dns,
                         issuer=self.cert, issuer_key=self.key, **options)
        return cert, key

    def chain(self):
        """This CA and its parents, nearest first (what goes after the leaf)."""
        result, ca = [], self
        while ca is not None:
            result.append(ca.cert)
            ca = ca.parent
        return result


def package_like(key, hostname="localhost", dns=None, days=825, not_before=None, not_after=None,
                 hash_alg=None, san=True, cn=None):
    """A self-signed server certificate like the ones xivo-certs (or the packages before it) made."""
    dns = (hostname, "localhost") if dns is None else dns
    dns = tuple(dict.fromkeys(dns))
    return make_cert(key, cn or hostname, dns=dns, ips=("127.0.0.1", "::1") if san else (),
                     san=san, days=days, not_before=not_before, not_after=not_after,
                     hash_alg=hash_alg)


def sha256_file(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def owner_mode(path):
    info = os.lstat(path)
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


# --- the temporary root ------------------------------------------------------------------------------

RECORD_HOOK = """#!/bin/sh
# Test hook: record the XIVO_CERTS_* environment of each run, one file per run.
n=$(ls "{log}" | wc -l)
env | grep '^XIVO_CERTS_' | LC_ALL=C sort > "{log}/$(printf %03d "$n")"
"""


class Root:
    """A temporary root with the hooks directory (a recording hook), conf.d directories of
    xivo-* and wazo-* daemons, and helpers to read what xivo-certs wrote."""

    def __init__(self, base):
        self.path = base / "root"
        self.log = base / "hook-runs"
        self.path.mkdir(mode=0o755)
        self.log.mkdir()
        self.paths = Paths(str(self.path))
        self.hooks = Path(self.paths.hooks)
        self.hooks.mkdir(parents=True, mode=0o755)
        for directory in CONFD_DIRS:
            (self.path / directory).mkdir(parents=True)
        (self.path / "etc/xivo-certs/conf").mkdir()  # no conf.d: not a daemon
        (self.path / "etc/other-daemon/conf.d").mkdir(parents=True)  # matches no glob
        self.add_hook("50-record", RECORD_HOOK.format(log=self.log))

    def __str__(self):
        return str(self.path)

    def __truediv__(self, relative):
        return self.path / relative.lstrip("/")

    # hooks
    def add_hook(self, hook_name, text, mode=0o755):
        hook = self.hooks / hook_name
        hook.write_text(text)
        hook.chmod(mode)
        return hook

    def ship_hooks(self):
        """The shipped hooks, as the package installs them."""
        for source in SHIPPED_HOOKS.iterdir():
            target = self.hooks / source.name
            shutil.copyfile(source, target)
            target.chmod(0o755 if os.access(source, os.X_OK) else 0o644)

    def hook_runs(self):
        """The environment (XIVO_CERTS_* only, but the suite's own XIVO_CERTS_TEST_OWNER) of each
        recorded hook run, in order."""
        runs = []
        for run in sorted(self.log.iterdir()):
            variables = {}
            for line in run.read_text().splitlines():
                key, _, value = line.partition("=")
                if key != TEST_OWNER:
                    variables[key] = value
            runs.append(variables)
        return runs

    # the pair and the state
    @property
    def cert(self):
        return Path(self.paths.cert)

    @property
    def key(self):
        return Path(self.paths.key)

    def certs(self):
        return load_certs(self.cert)

    def put_pair(self, cert, key, chain=(), cert_mode=0o644, key_mode=0o640, gid=WWW_DATA):
        """Put a pair in place as a package or an admin would (no state)."""
        self.cert.parent.mkdir(parents=True, exist_ok=True)
        self.cert.write_bytes(pem(cert, *chain))
        self.key.write_bytes(pem(key))
        os.chown(self.cert, UID, gid)
        os.chown(self.key, UID, gid)
        self.cert.chmod(cert_mode)
        self.key.chmod(key_mode)

    def put_default(self, cert, key, hostname="localhost", key_type="rsa:2048", **extra):
        """A pair recorded as generated by xivo-certs (as the state file says)."""
        self.put_pair(cert, key)
        self.write_state(hostname=hostname, key_type=key_type,
                         generated_fingerprint=fingerprint(cert),
                         generated_pem_sha256=sha256_file(self.cert), **extra)

    def lock_ready(self):
        """The state directory and its lock file, as any earlier command leaves them (a refusal
        taken under the lock still creates them on a root that never saw xivo-certs)."""
        directory = Path(self.paths.state_dir)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        Path(self.paths.lock).touch(mode=0o600)

    def write_state(self, **values):
        directory = Path(self.paths.state_dir)
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        Path(self.paths.state).write_text(state_module.render(state_module.State(**values)))
        Path(self.paths.state).chmod(0o600)

    def state(self):
        return state_module.read(self.paths.state)

    def override_yaml(self):
        import yaml
        return yaml.safe_load((self / OVERRIDE_PATH).read_bytes())

    def links(self):
        """{conf.d dir relative to the root: link target or None}"""
        result = {}
        for directory in CONFD_DIRS:
            link = self / directory / "010-custom-certificate.yml"
            result[directory] = os.readlink(link) if os.path.islink(link) else (
                "<not a link>" if os.path.lexists(link) else None)
        return result

    def backups(self):
        directory = Path(self.paths.backups)
        return sorted(directory.iterdir()) if directory.is_dir() else []

    def snapshot(self):
        return snapshot(self.path)


def snapshot(top):
    """Every path under `top`: type, mode, owner, and the bytes' sha256 or the link's target."""
    result = {}
    for directory, subdirs, filenames in os.walk(top):
        for entry in [directory] + [os.path.join(directory, n) for n in subdirs + filenames]:
            info = os.lstat(entry)
            kind = stat.S_IFMT(info.st_mode)
            content = None
            if stat.S_ISLNK(info.st_mode):
                content = os.readlink(entry)
            elif stat.S_ISREG(info.st_mode):
                content = hashlib.sha256(Path(entry).read_bytes()).hexdigest()
            result[os.path.relpath(entry, top)] = (kind, stat.S_IMODE(info.st_mode), info.st_uid,
                                                   info.st_gid, content)
    return result


# --- running the command ------------------------------------------------------------------------------

class Result:
    def __init__(self, code, out, err):
        self.code, self.out, self.err = code, out, err

    @property
    def err_lines(self):
        return [line for line in self.err.splitlines() if line.strip()]

    def __repr__(self):
        return f"Result(code={self.code!r}, out={self.out!r}, err={self.err!r})"


def command_env(extra=None, path=None):
    env = {"PATH": path or f"{CHECKOUT / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin",
           "PYTHONPATH": str(CHECKOUT), "PYTHONDONTWRITEBYTECODE": "1", "LC_ALL": "C.UTF-8",
           "HOME": os.environ.get("HOME", "/root"), **OWNER_ENV}
    env.update(extra or {})
    return env


def run_command(root_dir, *args, env=None, path=None, python_options=(), timeout=120):
    """`/usr/bin/python3 bin/xivo-certs --root ROOT ARGS` as a subprocess: a Result."""
    result = subprocess.run([PYTHON, *python_options, COMMAND, "--root", str(root_dir), *map(str, args)],
                            env=command_env(env, path), capture_output=True, text=True,
                            timeout=timeout, cwd=str(CHECKOUT), stdin=subprocess.DEVNULL)
    return Result(result.returncode, result.stdout, result.stderr)


def assert_refused(result, path_text, problem_text):
    """One line on stderr naming the file and the problem, exit 1."""
    assert result.code == 1, result
    assert len(result.err_lines) == 1, result
    line = result.err_lines[0]
    assert line.startswith("xivo-certs: "), line
    assert str(path_text) in line, line
    assert problem_text.lower() in line.lower(), line
    return line
