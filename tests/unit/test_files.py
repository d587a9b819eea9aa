"""xivo_certs.files: bounded reads, atomic writes, the pair as one transaction, backups, the lock."""

import fcntl
import json
import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from xivo_certs import context, files, state, transaction
from xivo_certs.errors import Problem
from support.asserts import owner_mode
from support.certs import load_certs, package_like, pem
from support.command import environment as command_env
from support.facts import fingerprint
from support.layout import COMMAND, PYTHON
from support.locks import blocked_or_done
from support.owners import AS_ROOT, GID, OWNER, UID, WWW_DATA
from xc_testlib import refusal_line


# --- reading input ---------------------------------------------------------------------------------

def test_read_input_returns_the_bytes(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"\x00data\xff")
    assert files.read_input(str(path)) == b"\x00data\xff"


def test_read_input_refusals(tmp_path):
    missing = tmp_path / "missing.pem"
    with pytest.raises(Problem, match=f"^{missing}: no such file$"):
        files.read_input(str(missing))
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(Problem, match=f"^{fifo}: not a regular file$"):
        files.read_input(str(fifo))  # and does not hang waiting for a writer
    directory = tmp_path / "dir"
    directory.mkdir()
    with pytest.raises(Problem, match=f"^{directory}: not a regular file$"):
        files.read_input(str(directory))
    below_a_file = tmp_path / "f" / "x"
    (tmp_path / "f").write_text("")
    with pytest.raises(Problem, match=f"^{below_a_file}: cannot open: Not a directory$"):
        files.read_input(str(below_a_file))
    big = tmp_path / "big"
    big.write_bytes(b"x" * 101)
    with pytest.raises(Problem, match=r"too large \(101 bytes; at most 100\)"):
        files.read_input(str(big), limit=100)


def test_read_input_follows_symlinks_only_when_asked(tmp_path):
    target = tmp_path / "target"
    target.write_bytes(b"secret")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert files.read_input(str(link)) == b"secret"
    with pytest.raises(Problem, match="is a symbolic link; xivo-certs manages regular files only"):
        files.read_input(str(link), follow=False)


def test_signature_is_inode_size_mtime_ctime(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"12345")
    info = os.lstat(path)
    assert files.stat_stamp(str(path)) == \
        f"{info.st_ino}:5:{info.st_mtime_ns}:{info.st_ctime_ns}"
    assert files.stat_stamp(str(tmp_path / "absent")) == ""
    path.chmod(0o600)  # a chmod changes ctime: a hand-made change is noticed
    assert files.stat_stamp(str(path)) != f"{info.st_ino}:5:{info.st_mtime_ns}:{info.st_ctime_ns}"


# --- directories and single files -----------------------------------------------------------------------

def test_ensure_private_dir_creates_and_narrows(tmp_path):
    path = tmp_path / "a" / "b"
    files.ensure_private_dir(str(path), OWNER)
    assert owner_mode(path) == (UID, GID, 0o700)
    path.chmod(0o755)
    os.chown(path, UID, WWW_DATA)
    files.ensure_private_dir(str(path), OWNER)
    assert owner_mode(path) == (UID, GID, 0o700)
    afile = tmp_path / "file"
    afile.write_text("")
    with pytest.raises((Problem, FileExistsError)):
        files.ensure_private_dir(str(afile), OWNER)
    assert afile.read_text() == ""


def test_ensure_private_dir_sets_aside_what_root_did_not_make_alone(tmp_path):
    """A state directory found open: a file with a second name elsewhere, a symlink, are not the
    state's own (root's files wider than 0600 are narrowed, directories are kept)."""
    path = tmp_path / "state-dir"
    path.mkdir(mode=0o777)
    path.chmod(0o777)
    outside = tmp_path / "outside"
    outside.write_text("not the state\n")
    os.link(outside, path / "state")
    (path / "hooks-due").write_text("x y\n")
    (path / "hooks-due").chmod(0o644)
    (path / "sub").mkdir()
    (path / "pending").symlink_to(outside)  # recover would rename it to the state
    files.ensure_private_dir(str(path), OWNER)
    assert owner_mode(path) == (UID, GID, 0o700)
    set_aside = [n for n in os.listdir(path) if n.startswith(("untrusted-state.", "untrusted-pending."))]
    assert sorted(os.listdir(path)) == sorted(["hooks-due", "sub"] + set_aside) and len(set_aside) == 2
    assert owner_mode(path / "hooks-due") == (UID, GID, 0o600)
    assert outside.read_text() == "not the state\n" and os.stat(outside).st_mode & 0o777 == 0o644
    files.ensure_private_dir(str(path), OWNER)  # what is set aside stays as it is
    assert sorted(os.listdir(path)) == sorted(["hooks-due", "sub"] + set_aside)


def test_make_dirs_gives_exact_modes_whatever_the_umask(tmp_path):
    previous = os.umask(0o077)
    try:
        files.make_dirs(str(tmp_path / "usr/share/xivo-certs"), 0o755)
        files.make_dirs(str(tmp_path / "var/lib/xivo-certs"), 0o700)
    finally:
        os.umask(previous)
    for directory, mode in (("usr", 0o755), ("usr/share", 0o755), ("usr/share/xivo-certs", 0o755),
                            ("var", 0o755), ("var/lib", 0o755), ("var/lib/xivo-certs", 0o700)):
        assert owner_mode(tmp_path / directory)[2] == mode, directory
    (tmp_path / "usr").chmod(0o750)
    files.make_dirs(str(tmp_path / "usr/share/xivo-certs"), 0o755)  # what exists is left alone
    assert owner_mode(tmp_path / "usr")[2] == 0o750


def test_under_umask_077_www_data_still_reaches_the_key(root, xc):
    """With umask 077 the pair's directories were made 0700: www-data could not read the key."""
    previous = os.umask(0o077)
    try:
        assert xc("generate", "--key-type", "ec:p256").code == 0
    finally:
        os.umask(previous)
    for directory in ("usr", "usr/share", "usr/share/xivo-certs", "var", "var/lib"):
        assert owner_mode(root / directory) == (UID, GID, 0o755), directory
    assert owner_mode(root.paths.state_dir) == (UID, GID, 0o700)
    assert owner_mode(root.key) == (UID, WWW_DATA, 0o640)
    status = xc("status", "--json")
    assert json.loads(status.out)["problems"] == [], status


def test_write_new_never_exposes_the_bytes_wider_than_the_final_mode(tmp_path, monkeypatch):
    """The key file is born 0600 with O_EXCL; owner and mode are set before any byte is written."""
    opened, at_write = [], []
    real_open, real_write = os.open, os.write

    def spy_open(path, flags, mode=0o777, **kw):
        fd = real_open(path, flags, mode, **kw)
        opened.append((path, flags, mode, owner_mode_fd(fd)))
        return fd

    def spy_write(fd, data):
        at_write.append(owner_mode_fd(fd))
        return real_write(fd, data)
    monkeypatch.setattr(files.os, "open", spy_open)
    monkeypatch.setattr(files.os, "write", spy_write)
    target = tmp_path / "server.key"
    files.write_new(str(target), b"KEY" * 1000, 0o640, OWNER.shared)
    monkeypatch.undo()
    (path, flags, mode, born) = opened[0]
    assert path == str(target)
    for flag in (os.O_CREAT, os.O_EXCL, os.O_NOFOLLOW, os.O_WRONLY):
        assert flags & flag == flag
    assert mode == 0o600
    assert born[2] & 0o077 == 0  # nobody but root can open it while it is being set up
    assert at_write and set(at_write) == {(UID, WWW_DATA, 0o640)}
    assert owner_mode(target) == (UID, WWW_DATA, 0o640)
    assert target.read_bytes() == b"KEY" * 1000


def owner_mode_fd(fd):
    info = os.fstat(fd)
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


def test_write_new_refuses_an_existing_path_and_a_planted_link(tmp_path):
    existing = tmp_path / "existing"
    existing.write_bytes(b"old")
    with pytest.raises(FileExistsError):
        files.write_new(str(existing), b"new", 0o644, OWNER.private)
    assert existing.read_bytes() == b"old"
    victim = tmp_path / "victim"
    victim.write_bytes(b"victim")
    planted = tmp_path / "planted"
    planted.symlink_to(victim)
    with pytest.raises(OSError):
        files.write_new(str(planted), b"new", 0o644, OWNER.private)
    assert victim.read_bytes() == b"victim"


def test_write_new_cleans_up_when_writing_fails(tmp_path, monkeypatch):
    def broken_write(fd, data):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(files.os, "write", broken_write)
    with pytest.raises(OSError):
        files.write_new(str(tmp_path / "f"), b"data", 0o644, OWNER.private)
    monkeypatch.undo()
    assert not os.path.lexists(tmp_path / "f")


def test_atomic_write_replaces_a_symlink_without_following_it(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"victim")
    path = tmp_path / "override.yml"
    path.symlink_to(victim)
    (tmp_path / "override.yml.xivo-certs-new").write_bytes(b"stale temporary")
    files.atomic_write(str(path), b"new", 0o644, OWNER.private)
    assert victim.read_bytes() == b"victim"
    assert not path.is_symlink() and path.read_bytes() == b"new"
    assert owner_mode(path) == (UID, GID, 0o644)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["override.yml", "victim"]


def test_a_request_out_to_a_directory_leaves_no_temporary_file(root, xc):
    """atomic_write: its temporary file is removed when the rename fails."""
    out = root / "tmp/somedir"
    out.mkdir(parents=True)
    result = xc("request", "--hostname", "pbx.example.org", "--out", out)
    assert result.code == 1, result
    assert len(result.err_lines) == 1 and "Is a directory" in result.err_lines[0], result
    assert os.listdir(root / "tmp") == ["somedir"] and os.listdir(out) == []


def test_write_at_leaves_no_temporary_file_when_the_rename_fails(tmp_path):
    (tmp_path / "hosts").mkdir()
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(IsADirectoryError):
            files.write_at(fd, "hosts", b"new", 0o644, OWNER.private)
    finally:
        os.close(fd)
    assert os.listdir(tmp_path) == ["hosts"]


# --- the pair ----------------------------------------------------------------------------------------

@pytest.fixture
def old_and_new(root, keys):
    """An old pair in place (recorded), and the bytes and state of a new one."""
    old_key, new_key = keys.distinct("rsa:2048", 2)
    old_cert = package_like(old_key)
    root.put_default(old_cert, old_key, fingerprint=fingerprint(old_cert))
    new_cert = package_like(new_key, "pbx.example.test")
    # as write_pair's callers do: the recorded state, updated ("fingerprint" is still the old one)
    new_state = state.render(state.State(hostname="pbx.example.test", key_type="rsa:2048",
                                         generated_fingerprint=fingerprint(new_cert),
                                         fingerprint=fingerprint(old_cert)))
    return {"old": (pem(old_cert), pem(old_key)), "new": (pem(new_cert), pem(new_key)),
            "new_state": new_state, "state_before": Path(root.paths.state).read_text()}


def test_write_pair_replaces_key_certificate_and_state_together(root, old_and_new):
    cert_pem, key_pem = old_and_new["new"]
    transaction.write_pair(root.paths, OWNER, key_pem, cert_pem, old_and_new["new_state"])
    assert root.cert.read_bytes() == cert_pem and root.key.read_bytes() == key_pem
    assert owner_mode(root.cert) == (UID, WWW_DATA, 0o644)
    assert owner_mode(root.key) == (UID, WWW_DATA, 0o640)
    assert Path(root.paths.state).read_text() == old_and_new["new_state"]
    assert owner_mode(root.paths.state) == (UID, GID, 0o600)
    assert sorted(os.listdir(root.cert.parent)) == ["server.crt", "server.key"]
    assert sorted(os.listdir(root.paths.state_dir)) == ["state"]


@pytest.mark.skipif(not AS_ROOT, reason="chown to another group needs root (tests/hardening covers it)")
def test_write_pair_uses_the_www_data_gid_of_the_root(root, old_and_new):
    (root / "etc/group").write_text("root:x:0:\nwww-data:x:4242:\n")
    cert_pem, key_pem = old_and_new["new"]
    owner = context.process_owner(root.paths)  # root's, with the root's www-data
    transaction.write_pair(root.paths, owner, key_pem, cert_pem, old_and_new["new_state"])
    assert owner_mode(root.key) == (0, 4242, 0o640)
    assert owner_mode(root.cert) == (0, 4242, 0o644)


def crash_before_recover(root, old_and_new, monkeypatch):
    """Run write_pair up to its commit point (pending written), as if the power went then."""
    monkeypatch.setattr(transaction, "recover", lambda paths: None)
    cert_pem, key_pem = old_and_new["new"]
    transaction.write_pair(root.paths, OWNER, key_pem, cert_pem, old_and_new["new_state"])
    monkeypatch.undo()


def test_a_crash_after_the_commit_point_leaves_the_old_pair_then_recovery_the_new(
        root, old_and_new, monkeypatch):
    crash_before_recover(root, old_and_new, monkeypatch)
    # at this instant: the old pair in place, the new one beside it, the change committed
    assert (root.cert.read_bytes(), root.key.read_bytes()) == old_and_new["old"]
    assert Path(root.paths.pending).read_text() == old_and_new["new_state"]
    assert os.path.exists(str(root.cert) + ".xivo-certs-new")
    assert owner_mode(str(root.key) + ".xivo-certs-new") == (UID, WWW_DATA, 0o640)
    assert transaction.recover(root.paths) is True
    assert (root.cert.read_bytes(), root.key.read_bytes()) == old_and_new["new"]
    assert Path(root.paths.state).read_text() == old_and_new["new_state"]
    assert not os.path.exists(root.paths.pending)
    assert sorted(os.listdir(root.cert.parent)) == ["server.crt", "server.key"]


def test_a_crash_in_the_middle_of_recovery_is_finished(root, old_and_new, monkeypatch):
    crash_before_recover(root, old_and_new, monkeypatch)
    os.rename(str(root.key) + ".xivo-certs-new", root.key)  # the key was renamed, then the crash
    assert transaction.recover(root.paths) is True
    assert (root.cert.read_bytes(), root.key.read_bytes()) == old_and_new["new"]
    assert Path(root.paths.state).read_text() == old_and_new["new_state"]


def test_an_uncommitted_change_is_dropped(root, old_and_new):
    cert_pem, key_pem = old_and_new["new"]
    files.write_new(str(root.key) + ".xivo-certs-new", key_pem, 0o640, OWNER.shared)
    files.write_new(str(root.cert) + ".xivo-certs-new", cert_pem, 0o644, OWNER.shared)
    Path(root.paths.pending + ".xivo-certs-new").write_text("half written")
    assert transaction.recover(root.paths) is False
    assert (root.cert.read_bytes(), root.key.read_bytes()) == old_and_new["old"]
    assert Path(root.paths.state).read_text() == old_and_new["state_before"]
    assert sorted(os.listdir(root.cert.parent)) == ["server.crt", "server.key"]
    assert sorted(os.listdir(root.paths.state_dir)) == ["state"]


def test_the_command_finishes_a_committed_change_and_runs_the_hooks(root, old_and_new, monkeypatch, xc):
    crash_before_recover(root, old_and_new, monkeypatch)
    result = xc("sync")
    assert result.code == 0, result
    assert (root.cert.read_bytes(), root.key.read_bytes()) == old_and_new["new"]
    new_cert = load_certs(root.cert)[0]
    assert root.state().fingerprint == fingerprint(new_cert)
    assert root.state().hostname == "pbx.example.test"
    runs = root.hook_runs()
    assert len(runs) == 1
    assert runs[0]["XIVO_CERTS_FINGERPRINT"] == fingerprint(new_cert)
    assert runs[0]["XIVO_CERTS_PREVIOUS_FINGERPRINT"] == fingerprint(old_and_new["old"][0])  # PEM
    assert runs[0]["XIVO_CERTS_DEFAULT"] == "yes"


def test_the_command_drops_an_uncommitted_change_without_hooks(root, old_and_new, xc):
    assert xc("sync").code == 0  # records what is in place
    runs = len(root.hook_runs())
    cert_pem, key_pem = old_and_new["new"]
    files.write_new(str(root.key) + ".xivo-certs-new", key_pem, 0o640, OWNER.shared)
    files.write_new(str(root.cert) + ".xivo-certs-new", cert_pem, 0o644, OWNER.shared)
    before_state = Path(root.paths.state).read_text()
    assert xc("sync").code == 0
    assert (root.cert.read_bytes(), root.key.read_bytes()) == old_and_new["old"]
    assert Path(root.paths.state).read_text() == before_state
    assert len(root.hook_runs()) == runs
    assert sorted(os.listdir(root.cert.parent)) == ["server.crt", "server.key"]


# --- owner and mode of hand-copied files ------------------------------------------------------------

def test_normalize_modes_fixes_hand_copied_files_never_widening_the_key(root, keys, monkeypatch):
    key = keys.get("rsa:2048")
    root.put_pair(package_like(key), key, cert_mode=0o600, key_mode=0o604, gid=GID)
    seen = []
    real_fchown, real_fchmod = os.fchown, os.fchmod

    def spy_fchown(fd, uid, gid):
        real_fchown(fd, uid, gid)
        seen.append(owner_mode_fd(fd))

    def spy_fchmod(fd, mode):
        real_fchmod(fd, mode)
        seen.append(owner_mode_fd(fd))
    monkeypatch.setattr(files.os, "fchown", spy_fchown)
    monkeypatch.setattr(files.os, "fchmod", spy_fchmod)
    files.normalize_modes(root.paths, OWNER)
    monkeypatch.undo()
    assert owner_mode(root.key) == (UID, WWW_DATA, 0o640)
    assert owner_mode(root.cert) == (UID, WWW_DATA, 0o644)
    # while the key's group is www-data, its mode is never wider than 0640
    for uid, gid, mode in seen:
        if gid == WWW_DATA and mode & 0o060:
            assert mode & 0o037 == 0 or mode == 0o644


def test_normalize_modes_leaves_symlinks_and_their_targets_alone(root, keys, tmp_path):
    key = keys.get("rsa:2048")
    elsewhere = tmp_path / "elsewhere.key"
    elsewhere.write_bytes(pem(key))
    elsewhere.chmod(0o600)
    root.cert.parent.mkdir(parents=True)
    root.key.symlink_to(elsewhere)
    files.normalize_modes(root.paths, OWNER)
    assert owner_mode(elsewhere) == (UID, GID, 0o600)
    assert os.readlink(root.key) == str(elsewhere)


def test_normalize_modes_changes_no_mode_through_a_hard_link(root, xc, keys, tmp_path):
    """A key that is also another name of a private file: making it 0640 root:www-data would
    open that file to www-data."""
    key = keys.get("rsa:2048")
    root.put_pair(package_like(key), key, key_mode=0o600, gid=GID)
    secret = tmp_path / "secret"
    os.link(root.key, secret)
    with pytest.raises(Problem, match=rf"^{root.key}: has 2 hard links: its mode would change"):
        files.normalize_modes(root.paths, OWNER)
    assert owner_mode(secret) == (UID, GID, 0o600)
    root.lock_ready()
    line = refusal_line(root, xc, "sync")
    assert line == f"xivo-certs: {root.key}: has 2 hard links: its mode would change for the other " \
                   "names too; xivo-certs leaves it alone (copy it instead)"
    assert owner_mode(secret) == (UID, GID, 0o600)


# --- backups ---------------------------------------------------------------------------------------------

def test_backup_copies_into_a_new_root_only_directory(root, tmp_path):
    one = root / "usr/share/xivo-certs/server.crt"
    one.parent.mkdir(parents=True)
    one.write_bytes(b"cert bytes")
    link = root / "etc/xivo-dird/conf.d/010-custom-certificate.yml"
    link.symlink_to("/somewhere/else.yml")
    first = Path(files.backup(root.paths, OWNER, [str(one), str(link), str(root / "absent")], "admin"))
    second = Path(files.backup(root.paths, OWNER, [str(one)], "admin"))
    assert first.parent == second.parent == Path(root.paths.backups)
    assert re.fullmatch(r"\d{8}-\d{6}-admin(\.\d+)?", first.name)
    assert first != second
    assert owner_mode(root.paths.backups) == (UID, GID, 0o700)
    assert owner_mode(first) == (UID, GID, 0o700)
    assert sorted(os.listdir(first)) == ["010-custom-certificate.yml", "server.crt"]
    assert (first / "server.crt").read_bytes() == b"cert bytes"
    assert owner_mode(first / "server.crt") == (UID, GID, 0o600)
    assert os.readlink(first / "010-custom-certificate.yml") == "/somewhere/else.yml"


def test_backup_keeps_files_of_the_same_name_apart(root):
    """Foreign links in several conf.d directories all have the same name."""
    sources = []
    for number, directory in enumerate(("etc/xivo-dird/conf.d", "etc/wazo-calld/conf.d")):
        link = root / directory / "010-custom-certificate.yml"
        link.symlink_to(f"/admin/override-{number}.yml")
        sources.append(str(link))
    target = Path(files.backup(root.paths, OWNER, sources, "override"))
    kept = {p.name: os.readlink(p) for p in target.iterdir()}
    assert kept == {"010-custom-certificate.yml": "/admin/override-0.yml",
                    "etc_wazo-calld_conf.d_010-custom-certificate.yml": "/admin/override-1.yml"}


# --- the lock -------------------------------------------------------------------------------------------

def test_a_second_command_waits_for_the_lock(root, keys):
    key = keys.get("rsa:2048")
    cert = package_like(key)
    root.put_default(cert, key)
    with files.locked(root.paths, OWNER):
        assert owner_mode(root.paths.lock) == (UID, GID, 0o600)
        waiting = subprocess.Popen([PYTHON, COMMAND, "--root", str(root), "sync"], env=command_env(),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # an event, not a time: the kernel lists sync as a waiter on the lock
        assert blocked_or_done(waiting, root.paths.lock) == "blocked", "sync did not wait for the lock"
        assert root.state().fingerprint is None
    out, err = waiting.communicate(timeout=30)
    assert waiting.returncode == 0, err
    assert root.state().fingerprint == fingerprint(cert)
    assert len(root.hook_runs()) == 1


def test_a_lock_file_with_another_name_is_set_aside(root, tmp_path):
    root.lock_ready()
    os.link(root.paths.lock, tmp_path / "elsewhere")
    with files.locked(root.paths, OWNER):
        assert os.stat(root.paths.lock).st_nlink == 1
    assert os.stat(tmp_path / "elsewhere").st_nlink == 2  # with its set-aside name


def test_the_lock_is_an_flock_on_the_state_directory_lock_file(root):
    with files.locked(root.paths, OWNER):
        fd = os.open(root.paths.lock, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    assert owner_mode(root.paths.state_dir) == (UID, GID, 0o700)


# --- a read-only file system ----------------------------------------------------------------------------

@pytest.fixture
def read_only_cert_dir(root):
    """usr/share/xivo-certs of the root on a tmpfs remounted read-only once populated."""
    directory = root.cert.parent
    directory.mkdir(parents=True, exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", str(directory)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")

    def make_read_only():
        subprocess.run(["mount", "-o", "remount,ro", str(directory)], check=True)
    yield make_read_only
    subprocess.run(["umount", str(directory)], check=True)


def test_a_read_only_file_system_is_one_line_and_nothing_changed(root, xc, read_only_cert_dir):
    assert xc("ensure").code == 0
    read_only_cert_dir()
    before = root.snapshot()
    for args in (["generate"], ["generate", "--hostname", "pbx.example.test", "--force"]):
        result = xc(*args)
        assert result.code == 1, result
        assert len(result.err_lines) == 1, result
        assert result.err_lines[0].startswith(f"xivo-certs: {root.cert.parent}/")
        assert result.err_lines[0].endswith(": Read-only file system")
    assert root.snapshot() == before
    # commands with nothing to write still work (a missing name on a read-only file system is
    # EROFS, not ENOENT, to unlink)
    for args in (["sync"], ["revert"], ["renew"], ["ensure"], ["override"]):
        assert xc(*args).code == 0, args
    assert root.snapshot() == before
    assert len(root.hook_runs()) == 1
