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


def link_a_hook(root, directory):
    """hooks.d/60-vendor, a link to a root-owned hook (0755) in `directory`: (link, target)."""
    target = recording_hook(directory / "vendor-hook", root.log)
    link = root.hooks / "60-vendor"
    link.symlink_to(target)
    return link, target


def link_the_hooks_directory(root, directory):
    """hooks.d moved into `directory` (root's, 0755, root's hooks), a link in its place."""
    moved = directory / "hooks.d"
    shutil.move(root.hooks, moved)
    root.hooks.symlink_to(moved)
    return root.hooks, moved


@pytest.mark.parametrize("linked", [link_a_hook, link_the_hooks_directory])
@pytest.mark.parametrize("nonfatal", [False, True])
def test_links_through_a_users_directory_are_refused(default_root, user_dir, linked, nonfatal):
    root = default_root
    link, target = linked(root, user_dir)  # all the old check looked at is root's and 0755
    runs = len(root.hook_runs())
    result = root.run("generate", "--force", "--key-type", "ec:p256") if not nonfatal else \
        root.run("ensure", "--key-type", "ec:p384", "--hooks-nonfatal")
    assert result.returncode == (0 if nonfatal else 1)
    assert result.stderr == (f"xivo-certs: {'warning: ' if nonfatal else ''}{link}: a link to {target}, "
                             f"through {user_dir}, which a user other than root can write: {UNTRUSTED}\n")
    assert len(root.hook_runs()) == runs


def test_links_through_roots_directories_still_run(default_root, roots_only_dir):
    root = default_root
    link_the_hooks_directory(root, roots_only_dir)
    link_a_hook(root, roots_only_dir)  # a second recording hook
    runs = len(root.hook_runs())
    result = root.run("generate", "--force", "--key-type", "ec:p256")
    assert result.returncode == 0, result.stderr
    fresh = root.hook_runs()[runs:]
    assert len(fresh) == 2 and fresh[0] == fresh[1]  # 50-record and the linked one, same change
