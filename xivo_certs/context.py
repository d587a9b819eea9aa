"""What every command works with: where the files are, who owns them, the settings in force."""

import collections
import functools
import os

from . import settings as settings_module
from .errors import Problem
from .paths import Paths

ROOT_ONLY = "must be run as root (it writes the private key)"
TEST_OWNER = "XIVO_CERTS_TEST_OWNER"  # "UID:GID", read only when not run as root
WWW_DATA_GID = 33  # static in base-passwd


class Owner(collections.namedtuple("Owner", ["uid", "gid", "www_data_gid"])):
    """The owner of the files xivo-certs writes: root, with group www-data for the pair (the
    daemons read the key). Tests that run without root use their own ids instead. (Plain
    classes and namedtuples here, not dataclasses: see state.State.)"""
    __slots__ = ()

    @property
    def private(self):
        """(uid, gid) of the files only root reads."""
        return self.uid, self.gid

    @property
    def shared(self):
        """(uid, gid) of the pair and the CA file, which the daemons read."""
        return self.uid, self.www_data_gid


def process_owner(paths):
    """root, unless a process that is not root was given XIVO_CERTS_TEST_OWNER (as root it is
    ignored: it can never widen what root trusts)."""
    if os.geteuid() != 0:
        uid, sep, gid = os.environ.get(TEST_OWNER, "").partition(":")
        if sep and uid.isdigit() and gid.isdigit():
            return Owner(int(uid), int(gid), int(gid))
    return Owner(0, 0, www_data_gid(paths))


def www_data_gid(paths):
    """The gid of www-data in the root's group file; the static one when it has none."""
    try:
        with open(paths.group_file, encoding="utf-8") as group:
            for line in group:
                fields = line.split(":")
                if fields[0] == "www-data" and len(fields) > 2:
                    return int(fields[2])
    except (OSError, ValueError):
        pass
    return WWW_DATA_GID


class Context:
    def __init__(self, paths: Paths, owner: Owner):
        self.paths, self.owner = paths, owner

    @functools.cached_property
    def settings(self):
        return settings_module.load(self.paths.settings)


def refuse_early(ctx):
    """Refuse before anything is touched: not the owner (root), or bad settings (read before the
    lock, whose directory would otherwise be created)."""
    if os.geteuid() != ctx.owner.uid:
        raise Problem(ROOT_ONLY)
    ctx.settings  # noqa: B018 -- loading them is the check


class Notes:
    """What a command has to say, line by line (a line holds no newline: one is shown escaped);
    the command line prints it."""

    def __init__(self):
        self.out: list[str] = []  # for stdout
        self.err: list[str] = []  # for stderr
        self.output_lost = False  # stdout could not take some of it

    def say(self, text):
        self.out.append(f"xivo-certs: {text}")

    def warn(self, text):
        self.err.append(f"xivo-certs: {text}")
