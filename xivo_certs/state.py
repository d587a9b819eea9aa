"""The state file: plain `key=value` lines, so POSIX sh (debconf config, postrm) can read it too."""

import dataclasses
from dataclasses import dataclass

from . import files

LIST_KEYS = ("confd_dir", "san")


@dataclass(frozen=True)
class State:
    """What xivo-certs recorded. None (or an empty tuple) is a key the file does not hold."""
    hostname: str | None = None
    key_type: str | None = None
    san: tuple = ()
    generated_fingerprint: str | None = None
    generated_pem_sha256: str | None = None
    fingerprint: str | None = None
    cert_stat: str | None = None
    key_stat: str | None = None
    settings_stat: str | None = None
    confd_dir: tuple = ()
    changed_at: str | None = None

    def recorded_stamps(self):
        """The recorded metadata, as current_stamps gives it for the files in place."""
        return {"cert_stat": self.cert_stat or "", "key_stat": self.key_stat or "",
                "settings_stat": self.settings_stat or "", "confd_dir": self.confd_dir}


KEYS = tuple(field.name for field in dataclasses.fields(State))


def read(path):
    """The recorded state (unknown keys ignored); an empty one when there is none."""
    try:
        with open(path, encoding="utf-8") as stream:
            lines = stream.read().splitlines()
    except FileNotFoundError:
        return State()
    values: dict = {}
    for line in lines:
        key, sep, value = line.partition("=")
        if not sep or key not in KEYS:
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
            if item is not None and "\n" not in item:
                lines.append(f"{key}={item}")
    return "\n".join(lines) + "\n"


def write(paths, owner, state):
    files.ensure_private_dir(paths.state_dir, owner)
    files.atomic_write(paths.state, render(state).encode(), 0o600, owner.private)


def current_stamps(paths, confd_globs):
    """The metadata that tells whether anything changed since the state was recorded: the stat
    stamps of the pair and the settings, and the conf.d directories."""
    return {"cert_stat": files.stat_stamp(paths.cert), "key_stat": files.stat_stamp(paths.key),
            "settings_stat": files.stat_stamp(paths.settings),
            "confd_dir": tuple(paths.confd_dirs(confd_globs))}
