"""Trust boundaries.

- Hooks run as root: none runs from a hooks directory, or a hook file, that anyone but root can
  write (or replace); the command says why and which file, and the hooks stay owed until fixed.
- The state directory and the backups are root's alone (0700), their files 0600.
- No write follows a symlink planted at the path it writes (override, ca.crt, temporary names).
- Nothing executes a string taken from a certificate: names like `$(touch ...)` in the CN or the
  SAN (a certificate copied by hand escapes install's checks) create no file, through the hooks
  either, and the override still loads to exactly the expected mapping.
"""

import os
import stat
import subprocess

import pytest
import yaml

from hardening_lib import SECRET, AdminPair, check_consistent, make_ca, make_cert, make_root
from support.certs import cert_pem, key_pem

USER = 1000


def _admin_root(path):
    root = make_root(path / "root")
    root.run("generate", "--key-type", "ec:p256", check=0)
    ca = make_ca()
    pairs = [AdminPair(path / "in", name, (f"{name}.example.com",), issuer=ca, chain=[ca.cert])
             for name in ("pbx", "other")]
    return root, pairs


@pytest.fixture
def admin_root(tmp_path):
    return _admin_root(tmp_path)


@pytest.fixture(scope="module")
def shared_root(tmp_path_factory):
    """One root for the many small cases; each leaves it consistent for the next."""
    return _admin_root(tmp_path_factory.mktemp("trust"))


def _next_pair(root, pairs):
    """The admin pair not in place (installing it is a change)."""
    current = root.cert.read_bytes()
    return next(p for p in pairs if p.pem != current)


# --- hooks ----------------------------------------------------------------------------------

def _hooks(root):
    return root / "etc/xivo-certs/hooks.d"


UNTRUSTED = {
    "hooks.d mode 0777": lambda r: (os.chmod(_hooks(r), 0o777), _hooks(r))[1],
    "hooks.d mode 0775": lambda r: (os.chmod(_hooks(r), 0o775), _hooks(r))[1],
    "hooks.d owned by a user": lambda r: (os.chown(_hooks(r), USER, USER), _hooks(r))[1],
    "hook mode 0777": lambda r: (os.chmod(_hooks(r) / "50-record", 0o777), _hooks(r) / "50-record")[1],
    "hook mode 0775": lambda r: (os.chmod(_hooks(r) / "50-record", 0o775), _hooks(r) / "50-record")[1],
    "hook owned by a user": lambda r: (os.chown(_hooks(r) / "50-record", USER, 0),
                                       _hooks(r) / "50-record")[1],
    "hook is a link to a user's script": lambda r: _link_to_user_script(r),
    "/etc/xivo-certs writable by others": lambda r: (os.chmod(_hooks(r).parent, 0o777),
                                                     _hooks(r).parent)[1],
    "/etc/xivo-certs owned by a user": lambda r: (os.chown(_hooks(r).parent, USER, USER),
                                                  _hooks(r).parent)[1],
}


def _link_to_user_script(root):
    script = root.path / "user-script"
    script.write_text("#!/bin/sh\ntouch \"$XIVO_CERTS_ROOT/user-script-ran\"\n")
    os.chown(script, USER, USER)
    os.chmod(script, 0o755)
    os.symlink(script, _hooks(root) / "60-user")
    return _hooks(root) / "60-user"


@pytest.mark.parametrize("case", sorted(UNTRUSTED))
def test_untrusted_hooks_are_not_run(shared_root, case):
    root, pairs = shared_root
    pbx = _next_pair(root, pairs)
    if root.override.exists():
        os.unlink(root.override)  # so that a hook run would show
    runs = len(root.hook_runs())
    culprit = UNTRUSTED[case](root)
    result = root.run(*pbx.install_args())
    assert result.returncode == 1
    assert f"{culprit}: " in result.stderr and "hooks not run" in result.stderr, result.stderr
    assert len(root.hook_runs()) == runs, "a hook ran"
    assert not (root.path / "user-script-ran").exists()
    assert not root.override.exists(), "10-hostname-override ran"
    # fixed: the owed hooks run at the next sync
    subprocess.run(["chown", "-R", "root:root", str(_hooks(root).parent)], check=True)
    os.chmod(_hooks(root).parent, 0o755)
    os.chmod(_hooks(root), 0o755)
    os.chmod(_hooks(root) / "50-record", 0o755)
    if os.path.islink(_hooks(root) / "60-user"):
        os.unlink(_hooks(root) / "60-user")
    result = root.run("sync")
    assert result.returncode == 0, result.stderr
    assert root.hook_runs()[-1][1] == pbx.fingerprint
    check_consistent(root)


def test_names_run_parts_skips_do_not_block_and_never_run(admin_root):
    """A world-writable *.dpkg-old (a name run-parts skips) is not a hook: it neither runs nor
    blocks the others."""
    root, (pbx, other) = admin_root
    for name in ("20-evil.dpkg-old", "20-evil.dpkg-dist", "20-evil~", "20-evil.sh", ".20-evil"):
        path = _hooks(root) / name
        path.write_text(f"#!/bin/sh\ntouch \"$XIVO_CERTS_ROOT/ran-{name}\"\n")
        os.chmod(path, 0o777)
    result = root.run(*pbx.install_args())
    assert result.returncode == 0, result.stderr
    assert not list(root.path.glob("ran-*"))
    assert root.hook_runs()[-1][1] == pbx.fingerprint


# --- root-only directories ---------------------------------------------------------------------

def _private(path, file_mode=0o600):
    info = os.lstat(path)
    if stat.S_ISDIR(info.st_mode):
        assert stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == 0, f"{path}: {info.st_mode:o}"
        for name in os.listdir(path):
            _private(os.path.join(path, name), file_mode)
    elif stat.S_ISREG(info.st_mode):
        assert stat.S_IMODE(info.st_mode) & 0o077 == 0 and info.st_uid == 0, \
            f"{path}: {stat.S_IMODE(info.st_mode):o}"


def test_state_and_backups_are_root_only(admin_root):
    root, (pbx, other) = admin_root
    state_dir, backups = root.paths.state_dir, root.paths.backups
    os.chmod(state_dir, 0o755)
    os.makedirs(backups, exist_ok=True)
    os.chmod(backups, 0o777)
    root.run(*pbx.install_args(), check=0)
    root.run(*other.install_args(), check=0)       # backs up pbx
    root.run("generate", "--force", "--key-type", "ec:p256", check=0)  # backs up other
    root.run(*pbx.install_args(), check=0)
    root.run("revert", check=0)                    # backs up pbx
    _private(state_dir)
    _private(backups)
    assert len(os.listdir(backups)) >= 3
    for entry in os.listdir(backups):
        assert sorted(os.listdir(os.path.join(backups, entry))) == ["server.crt", "server.key"]


# --- planted symlinks at the paths written ------------------------------------------------------

def _plant(path, target):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if os.path.lexists(path):
        os.unlink(path)
    os.symlink(target, path)


@pytest.mark.parametrize("position", ["server.key", "server.crt",
                                      "server.key.xivo-certs-new", "server.crt.xivo-certs-new",
                                      "pending.xivo-certs-new", "state.xivo-certs-new",
                                      "custom-certificate.yml.xivo-certs-new",
                                      "ca.crt", "ca.crt.xivo-certs-new", "pending"])
def test_no_write_follows_a_planted_symlink(shared_root, position):
    root, pairs = shared_root
    other = _next_pair(root, pairs)
    where = {"server.key": root.paths.key, "server.crt": root.paths.cert,
             "server.key.xivo-certs-new": root.paths.key + ".xivo-certs-new",
             "server.crt.xivo-certs-new": root.paths.cert + ".xivo-certs-new",
             "pending.xivo-certs-new": root.paths.pending + ".xivo-certs-new",
             "state.xivo-certs-new": root.paths.state + ".xivo-certs-new",
             "custom-certificate.yml.xivo-certs-new": root.paths.override + ".xivo-certs-new",
             "ca.crt": root.paths.ca, "ca.crt.xivo-certs-new": root.paths.ca + ".xivo-certs-new",
             "pending": root.paths.pending}[position]
    if position.startswith("custom") or position.startswith("ca.crt"):
        # the override and ca.crt are rewritten when the certificate changes
        _plant(where, root.secret)
        argv = other.install_args()
    else:
        _plant(where, root.secret)
        argv = ["generate", "--force", "--key-type", "ec:p256"]
    result = root.run(*argv)
    assert root.secret.read_bytes() == SECRET, "the planted link was followed"
    assert stat.S_IMODE(os.stat(root.secret).st_mode) == 0o600 and os.stat(root.secret).st_gid == 0
    assert SECRET.decode().strip() not in result.stdout + result.stderr
    if position == "pending":
        # a planted pending is no state: the command refuses or ignores it, never trusts it
        assert result.returncode in (0, 1)
        if os.path.lexists(root.paths.pending):
            os.unlink(root.paths.pending)
        root.run("sync")
    else:
        assert result.returncode == 0, result.stderr
    check_consistent(root)


def test_override_adopt_backs_up_a_planted_link_as_a_link(admin_root):
    root, (pbx, other) = admin_root
    root.run(*pbx.install_args(), check=0)
    _plant(root.override, root.secret)
    link = root.confd_dirs()[0] / "010-custom-certificate.yml"
    _plant(link, root.secret)
    result = root.run("override", "--adopt")
    assert result.returncode == 0, result.stderr
    assert root.secret.read_bytes() == SECRET
    check_consistent(root)
    copies = [os.path.join(d, n) for d, _, names in os.walk(root.paths.backups) for n in names]
    assert copies and all(os.path.islink(c) and os.readlink(c) == str(root.secret) for c in copies)


# --- nothing executes a string from a certificate -------------------------------------------------

HOSTILE = ("$(touch {p}/pwned-1)", "`touch {p}/pwned-2`", "x;touch {p}/pwned-3",
           "x|touch {p}/pwned-4", "x&&touch {p}/pwned-5", "$(touch${{IFS}}{p}/pwned-6)",
           "'\"$(touch {p}/pwned-7)\"'", "x\ntouch {p}/pwned-8")


def _pwned(root):
    return sorted(p.name for p in root.path.rglob("pwned*"))


def test_cn_with_shell_code_is_installed_and_never_run(admin_root):
    """A valid certificate (good SAN) whose CN is shell code: installed, status shown, hooks run,
    and nothing executes it."""
    root, _ = admin_root
    ca = make_ca()
    key, cert = make_cert(names=("pbx.example.com",), cn=f"$(touch {root.path}/pwned-cn)",
                          issuer=ca)
    directory = root.path.parent / "cn"
    directory.mkdir()
    (directory / "c.pem").write_bytes(cert_pem(cert, ca.cert))
    (directory / "k.pem").write_bytes(key_pem(key))
    root.run("install", "--cert", directory / "c.pem", "--key", directory / "k.pem", check=0)
    for argv in (["status"], ["status", "--json"], ["sync"], ["override"], ["renew"]):
        root.run(*argv)
    assert _pwned(root) == []
    check_consistent(root)


def test_hand_copied_certificate_with_shell_code_names(admin_root):
    """A certificate copied by hand skips install's checks: its hostile SAN names reach sync, the
    hook environment (XIVO_CERTS_NAMES) and the override code, and none of them runs."""
    root, _ = admin_root
    hostile = [h.format(p=root.path) for h in HOSTILE]
    ca = make_ca()
    key, cert = make_cert(names=tuple(hostile) + ("pbx.example.com",), cn=hostile[0],
                          issuer=ca, raw_names=True)
    echo = _hooks(root) / "70-echo-names"  # a hook that uses the names the way a careful hook would
    echo.write_text('#!/bin/sh\nfor name in $XIVO_CERTS_NAMES; do printf "%s\\n" "$name"; done '
                    '>/dev/null\nprintf "%s\\n" "$XIVO_CERTS_HOSTNAME" > "$XIVO_CERTS_ROOT/hostname"\n')
    os.chmod(echo, 0o755)
    for path, data, mode in ((root.key, key_pem(key), 0o640), (root.cert, cert_pem(cert, ca.cert), 0o644)):
        with open(f"{path}.tmp", "wb") as stream:
            os.fchmod(stream.fileno(), mode)
            stream.write(data)
        os.rename(f"{path}.tmp", path)
    result = root.run("sync")
    assert result.returncode == 0, result.stderr
    for argv in (["status"], ["status", "--json"], ["override"], ["renew"], ["sync"]):
        root.run(*argv)
    assert _pwned(root) == []
    assert (root.path / "hostname").read_text() == "pbx.example.com\n"
    loaded = yaml.safe_load(root.override.read_text())
    assert {section["host"] for section in loaded.values()} == {"pbx.example.com"}
    assert all(set(section) <= {"host", "verify", "verify_certificate"} for section in loaded.values())
    assert root.state().fingerprint
    check_consistent(root)
