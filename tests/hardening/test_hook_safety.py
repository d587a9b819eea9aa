"""Issue 12, item 1: the hook swap race. A hook (or hooks.d itself) that is a link was checked at
its target, then run-parts resolved it again: a user owning a directory on the target's path could
exchange the target between the two (renameat2 RENAME_EXCHANGE) and run code as root. Such a link
is refused outright unless every directory it resolves through is root's alone; the precondition
is enough to show it, no race needs winning. A link through root's directories still runs."""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from support.hooks import SCRIPT as RECORDING_HOOK

USER = 1000
UNTRUSTED = "hooks not run (they run as root; chown root and chmod go-w to trust them)"


@pytest.fixture
def user_dir(tmp_path):
    """A directory a user owns (mode 0755), holding root's files: all the old check looked at."""
    directory = tmp_path / "user"
    directory.mkdir()
    os.chown(directory, USER, USER)
    return directory


@pytest.fixture
def roots_only_dir():
    """A directory whose whole path is root's and not writable by others (/tmp is not)."""
    directory = Path(tempfile.mkdtemp(prefix="xivo-certs-test-", dir="/run"))
    directory.chmod(0o755)
    yield directory
    shutil.rmtree(directory)


def recording_hook(path, log):
    path.write_text(RECORDING_HOOK.format(log=log))
    path.chmod(0o755)
    return path


def test_a_hook_linked_through_a_users_directory_is_not_run(default_root, user_dir):
    root = default_root
    target = recording_hook(user_dir / "vendor-hook", root.log)  # root's, 0755: passed before
    link = root.hooks / "60-vendor"
    link.symlink_to(target)
    runs = len(root.hook_runs())
    result = root.run("generate", "--force", "--key-type", "ec:p256")
    assert result.returncode == 1
    assert result.stderr == (f"xivo-certs: {link}: a link to {target}, through {user_dir}, which a user "
                             f"other than root can write: {UNTRUSTED}\n")
    assert len(root.hook_runs()) == runs


def test_a_hooks_directory_linked_through_a_users_directory_is_not_trusted(default_root, user_dir):
    root = default_root
    moved = user_dir / "hooks.d"
    shutil.move(root.hooks, moved)  # root's, 0755, with root's hooks: passed before
    root.hooks.symlink_to(moved)
    runs = len(root.hook_runs())
    result = root.run("ensure", "--key-type", "ec:p384", "--hooks-nonfatal")
    assert result.returncode == 0
    assert result.stderr == (f"xivo-certs: warning: {root.hooks}: a link to {moved}, through {user_dir}, "
                             f"which a user other than root can write: {UNTRUSTED}\n")
    assert len(root.hook_runs()) == runs


def test_links_through_roots_directories_still_run(default_root, roots_only_dir):
    root = default_root
    vendor = roots_only_dir / "hooks.d"
    shutil.move(root.hooks, vendor)
    root.hooks.symlink_to(vendor)
    recording_hook(roots_only_dir / "second-record", root.log)
    (vendor / "60-linked").symlink_to(roots_only_dir / "second-record")
    runs = len(root.hook_runs())
    result = root.run("generate", "--force", "--key-type", "ec:p256")
    assert result.returncode == 0, result.stderr
    fresh = root.hook_runs()[runs:]
    assert len(fresh) == 2 and fresh[0] == fresh[1]  # 50-record and the linked copy, same change
