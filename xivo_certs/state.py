"""The state file: plain `key=value` lines, so POSIX sh (debconf config, postrm) can read it too."""

import collections
import os

from . import files

LIST_KEYS = ("confd_dir", "san", "override_watch")

# A namedtuple rather than a dataclass: `sync` reads the state after every apt run, and importing
# dataclasses (inspect, ast) would cost more than that whole no-op sync may take (make bench).
_Fields = collections.namedtuple("_Fields", [
    "hostname", "key_type", "san", "generated_fingerprint", "generated_pem_sha256",
    "fingerprint", "cert_stat", "key_stat", "settings_stat", "confd_dir", "changed_at",
    "pem_sha256", "letsencrypt_lineage",
    "answered_hostname", "answered_key_type",  # debconf's answers last applied (debian/config)
    "override_watch",
], defaults=(None, None, (), None, None, None, None, None, None, (), None, None, None, None, None, ()))


class State(_Fields):
    """What xivo-certs recorded: strings, tuples of strings for LIST_KEYS; None (or an empty
    tuple) is a key the file does not hold. Change one with `state._replace(key=value)`."""
    __slots__ = ()

    def recorded_stamps(self):
        """The recorded metadata, as current_stamps gives it for the files in place."""
        return {"cert_stat": self.cert_stat or "", "key_stat": self.key_stat or "",
                "settings_stat": self.settings_stat or "", "confd_dir": self.confd_dir}


KEYS = State._fields


def read(path):
    """The recorded state (unknown keys, and values no state holds, ignored); an empty one when
    there is none. Only a file of this process's user, mode 0600, one link, is believed."""
    data = files.read_private(path, os.geteuid())
    if data is None:
        return State()
    values: dict = {}
    # "\n" only: str.splitlines would also split on "\r", "\v", U+2028..., which a conf.d
    # path can hold, and the rest of that path would be read as a line of its own
    for line in data.decode("utf-8", errors="replace").split("\n"):
        key, sep, value = line.partition("=")
        if not sep or key not in KEYS or not storable(value):
            continue
        if key in LIST_KEYS:
            values[key] = values.get(key, ()) + (value,)
        else:
            values[key] = value
    return State(**values)


def render(state):
    lines = []
    for key in KEYS:
        value = getattr(state, key)
        for item in (value if key in LIST_KEYS else (value,)):
            if item is not None and storable(item):
                lines.append(f"{key}={item}")
    return "\n".join(lines) + "\n"


def storable(value):
    """Whether a value can be a line's: no control characters (C0, C1, DEL), no line or
    paragraph separators, no bidi controls."""
    return value.isprintable()


def write(paths, owner, state):
    files.ensure_private_dir(paths.state_dir, owner)
    files.atomic_write(paths.state, render(state).encode(), 0o600, owner.private)


def watch_unchanged(recorded):
    """Whether the override and its links are as `xivo-certs override` left them (override_watch:
    `STAMP PATH` lines, STAMP `-` for absent); when not, the hooks run again (issue 11)."""
    for line in recorded.override_watch:
        stamp, _, path = line.partition(" ")
        if files.stat_stamp(path) != ("" if stamp == "-" else stamp):
            return False
    return True


def current_stamps(paths, confd_globs):
    """The metadata that tells whether anything changed since the state was recorded: the stat
    stamps of the pair and the settings, and the conf.d directories."""
    return {"cert_stat": files.stat_stamp(paths.cert), "key_stat": files.stat_stamp(paths.key),
            "settings_stat": files.stat_stamp(paths.settings),
            "confd_dir": tuple(d for d in paths.confd_dirs(confd_globs) if storable(d))}
