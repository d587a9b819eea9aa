"""Full and read-only file systems: every writing command fails with one clear line naming the file,
and the pair, the override, its links and the state are left exactly as they were.

Needs root and mount(2): a small tmpfs (filled up) and read-only bind mounts under the temporary
root. Skipped when mounting is not possible.
"""

import os
import shutil
import subprocess

import pytest

from hardening_lib import AdminPair, can_mount, check_consistent, fill, make_ca, make_root, mount, umount
from support.asserts import one_line
from support.snapshots import diff as snapshot_diff, snapshot

PAIR_DIR = "usr/share/xivo-certs"


@pytest.fixture
def mounts(tmp_path):
    if not can_mount(tmp_path):
        pytest.skip("mount(2) is not allowed here")
    done = []

    def do(*args):
        mount(*args)
        done.append(args[-1])

    yield do
    for target in reversed(done):
        umount(target)


def prepared_root(path, mounts=None, root_on_tmpfs=False):
    """A root with an admin's pair (override, links, ca.crt in place) and another admin's pair,
    a cert covering localhost, ready to install."""
    if root_on_tmpfs:
        path.mkdir(parents=True)
        mounts("-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", path)
    root = make_root(path)
    root.run("generate", "--key-type", "ec:p256", check=0)
    ca = make_ca()
    inputs = path.parent / "inputs"
    admin = AdminPair(inputs, "pbx", ("pbx.example.com",), issuer=ca, chain=[ca.cert])
    other = AdminPair(inputs, "other", ("other.example.com",), issuer=ca, chain=[ca.cert])
    root.run(*admin.install_args(), check=0)
    check_consistent(root)
    return root, admin, other


def without_backups(tree):
    return {path: entry for path, entry in tree.items() if not path.startswith("var/backups")}


def refused(root, argv, names_under):
    """`argv` fails with one line naming a file under `names_under`; nothing changes, except that a
    replaced admin's pair may have been copied to the backups first (a copy, so nothing is lost)."""
    before = snapshot(root.path)
    result = root.run(*argv, timeout=60)
    assert result.returncode == 1, f"{argv}: exit {result.returncode}\n{result.stdout}{result.stderr}"
    line = one_line(result.stderr)
    assert str(names_under) in line, f"{argv}: the line names no file under {names_under}: {line}"
    after = snapshot(root.path)
    assert without_backups(after) == without_backups(before), \
        f"{argv} changed:\n" + snapshot_diff(without_backups(before), without_backups(after))
    return line


# --- full disks ----------------------------------------------------------------------------

def test_full_tmpfs_under_the_pair(tmp_path, mounts):
    root, admin, other = prepared_root(tmp_path / "root")
    pair_dir = root / PAIR_DIR
    saved = tmp_path / "saved"
    shutil.copytree(pair_dir, saved, symlinks=True)
    mounts("-t", "tmpfs", "-o", "size=256k,mode=0755", "tmpfs", pair_dir)
    subprocess.run(["cp", "-a", f"{saved}/.", str(pair_dir)], check=True)
    filler = fill(pair_dir)
    for argv in (["generate", "--force", "--key-type", "ec:p256"], other.install_args(), ["revert"]):
        line = refused(root, argv, pair_dir)
        assert "No space left on device" in line, line
    os.unlink(filler)
    root.run(*other.install_args(), check=0)
    check_consistent(root)


def test_full_root_file_system(tmp_path, mounts):
    root, admin, other = prepared_root(tmp_path / "root", mounts, root_on_tmpfs=True)
    filler = fill(root.path)
    for argv in (["generate", "--force", "--key-type", "ec:p256"], other.install_args(), ["revert"]):
        line = refused(root, argv, root.path)
        assert "No space left on device" in line, line
    # with nothing to do, the commands run after every apt run still succeed on a full disk
    before = snapshot(root.path)
    for argv in (["sync"], ["sync", "--quiet"]):
        result = root.run(*argv)
        assert result.returncode == 0, f"{argv}: {result.stderr}"
    assert root.run("status").returncode in (0, 1)  # 1: pbx.example.com does not resolve here
    assert snapshot(root.path) == before
    os.unlink(filler)
    root.run("sync", check=0)
    root.run(*other.install_args(), check=0)
    check_consistent(root)


def test_disk_filling_up_at_every_step_of_generate(tmp_path, mounts):
    """Leave 0 to 6 pages free: generate --force either fails with one line and changes
    nothing, or gets far enough that, once space is back, sync finishes the job."""
    root, admin, other = prepared_root(tmp_path / "root", mounts, root_on_tmpfs=True)
    outcomes = []
    for pages in range(0, 7):
        filler = fill(root.path, leave=pages * 4096)
        before = snapshot(root.path, skip={"filler"})
        result = root.run("generate", "--force", "--key-type", "ec:p256", timeout=60)
        after = snapshot(root.path, skip={"filler"})
        if result.returncode != 0:
            line = one_line(result.stderr)
            assert str(root.path) in line, line
            unchanged = without_backups(after) == without_backups(before)
            outcomes.append((pages, "refused, nothing changed" if unchanged else "failed after commit"))
            if not unchanged:
                # the pair went in; only the bookkeeping after it failed: it must still be whole
                assert before["usr/share/xivo-certs/server.crt"] != \
                    after["usr/share/xivo-certs/server.crt"], \
                    f"{line}\n" + snapshot_diff(without_backups(before), without_backups(after))
        else:
            outcomes.append((pages, "done"))
        os.unlink(filler)
        assert root.run("sync").returncode == 0
        check_consistent(root)
        root.run(*admin.install_args(), check=0)  # back to the admin's pair for the next round
        check_consistent(root)
    print("\nfree pages -> outcome:", outcomes)
    assert outcomes[0][1] == "refused, nothing changed"
    assert outcomes[-1][1] == "done"


# --- read-only file systems -------------------------------------------------------------------

def test_read_only_root(tmp_path, mounts):
    root, admin, other = prepared_root(tmp_path / "root")
    mounts("--bind", root.path, root.path)
    mounts("-o", "remount,bind,ro", root.path)
    for argv in (["generate", "--force", "--key-type", "ec:p256"], other.install_args(), ["revert"],
                 ["renew"], ["ensure", "--hostname", "pbx.example.com"], ["override", "--adopt"],
                 ["sync"]):
        line = refused(root, argv, root.path)
        assert "Read-only file system" in line, line
    before = snapshot(root.path)
    assert root.run("status").returncode in (0, 1)  # only reads
    assert snapshot(root.path) == before


def test_read_only_pair_directory(tmp_path, mounts):
    """A read-only /usr: the state and the override stay as they were too."""
    root, admin, other = prepared_root(tmp_path / "root")
    pair_dir = root / PAIR_DIR
    mounts("--bind", pair_dir, pair_dir)
    mounts("-o", "remount,bind,ro", pair_dir)
    for argv in (["generate", "--force", "--key-type", "ec:p256"], other.install_args(), ["revert"]):
        line = refused(root, argv, pair_dir)
        assert "Read-only file system" in line, line


def test_read_only_override_directory(tmp_path, mounts):
    """/etc read-only: install puts the pair in place, but the hook cannot write the override; the
    failure names the override, and the next sync once /etc is writable brings it in line."""
    root, admin, other = prepared_root(tmp_path / "root")
    etc = root / "etc"
    mounts("--bind", etc, etc)
    mounts("-o", "remount,bind,ro", etc)
    result = root.run(*other.install_args())
    assert result.returncode == 1
    assert "custom-certificate.yml" in result.stderr or "ca.crt" in result.stderr, result.stderr
    assert "hook 10-hostname-override" in result.stderr
    umount(etc)
    # a failed hook is not run again by itself: status says what is wrong and how to fix it
    status = root.run("status")
    assert status.returncode == 1 and "xivo-certs override" in status.stdout, status.stdout
    root.run("override", check=0)
    check_consistent(root)
