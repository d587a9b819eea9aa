"""The state file: plain `key=value` lines, so POSIX sh (debconf config, postrm) can read it too."""

from . import files

LIST_KEYS = ("confd_dir", "san")
KEYS = ("hostname", "key_type", "san", "generated_fingerprint", "generated_pem_sha256",
        "fingerprint", "cert_stat", "key_stat", "settings_stat", "confd_dir", "changed_at")


def read(path):
    """The recorded state: a dict of strings (tuples for list keys); empty when there is none."""
    try:
        with open(path, encoding="utf-8") as stream:
            lines = stream.read().splitlines()
    except FileNotFoundError:
        return {}
    state = {key: () for key in LIST_KEYS}
    for line in lines:
        key, sep, value = line.partition("=")
        if not sep or key not in KEYS:
            continue
        if key in LIST_KEYS:
            state[key] += (value,)
        else:
            state[key] = value
    return state


def render(state):
    lines = []
    for key in KEYS:
        values = state.get(key, ())
        for value in (values if key in LIST_KEYS else (values,)):
            if value != () and "\n" not in str(value):
                lines.append(f"{key}={value}")
    return "\n".join(lines) + "\n"


def write(paths, state):
    files.ensure_private_dir(paths.state_dir)
    files.atomic_write(paths.state, render(state).encode(), 0o600)
