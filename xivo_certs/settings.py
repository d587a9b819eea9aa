"""Settings from /etc/xivo-certs/xivo-certs.conf: `key = value` lines, `#` comments (a whole line,
or the end of one after a space or tab)."""

import collections

from . import files
from .errors import Problem

KEY_TYPES = ("rsa:2048", "rsa:3072", "rsa:4096", "ec:p256", "ec:p384")  # debconf's choices too
DEFAULT_KEY_TYPE = "rsa:2048"
DEFAULT_SERVICES = ("consul:verify agentd ajam amid auth calld confd ctid_ng dird "
                    "webhookd websocketd")
DEFAULTS = {
    "days": "825",
    "renew_days": "30",
    "services": DEFAULT_SERVICES,
    "confd_globs": "/etc/xivo-*/conf.d /etc/wazo-*/conf.d",
    "restart_services": "no",
    "probe": "auto",
    "hook_timeout": "120",
    "override_host": "",
    "manage_hosts": "yes",
    "manage_override": "yes",
}
IDENTIFIER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")
GLOB_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.*/")


# The settings in force: days and renew_days (int), services ((service, verify key) pairs),
# confd_globs (tuple), restart_services (bool), hook_timeout (int, seconds), probe (None for `auto`,
# else (name or None, port) pairs; see probe.endpoints), override_host (str, "" for automatic),
# manage_hosts and manage_override (bool). A namedtuple, as state.State, for the no-op sync.
Settings = collections.namedtuple("Settings", ["days", "renew_days", "services", "confd_globs",
                                               "restart_services", "hook_timeout", "probe",
                                               "override_host", "manage_hosts", "manage_override"],
                                  defaults=[int(DEFAULTS["hook_timeout"]), None, "", True, True])


def load(path):
    """The settings in force: the file's values over the defaults. A missing file means defaults."""
    raw = dict(DEFAULTS)
    try:  # -sig: a BOM an editor put first is no key
        lines = files.read_input(path, missing=b"").decode("utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise Problem(f"cannot read settings: {error}", path)
    for number, line in enumerate(lines, 1):
        line = _uncommented(line).strip()
        if not line:
            continue
        key, sep, value = (part.strip() for part in line.partition("="))
        if not sep or key not in DEFAULTS:
            raise Problem(f"line {number}: expected one of {', '.join(DEFAULTS)} as `key = value`", path)
        raw[key] = value
    return _parse(raw, path)


def _uncommented(line):
    """`line` without its comment: from a `#` that starts the line or follows a space or tab (no
    setting's value can hold a `#`)."""
    for index, char in enumerate(line):
        if char == "#" and (index == 0 or line[index - 1] in " \t"):
            return line[:index]
    return line


def defaults():
    """The settings when the file holds none (what `ensure` falls back on, see actions.ensure)."""
    return _parse(dict(DEFAULTS), None)


def _parse(raw, path):
    return Settings(
        days=_number(raw, "days", 1, 3650, path),
        renew_days=_number(raw, "renew_days", 0, 3650, path),
        services=tuple(_service(word, path) for word in raw["services"].split()),
        confd_globs=tuple(_glob(word, path) for word in raw["confd_globs"].split()),
        restart_services=_boolean(raw, "restart_services", path),
        hook_timeout=_number(raw, "hook_timeout", 1, 86400, path),
        probe=_probe(raw["probe"], path),
        override_host=_host(raw["override_host"], path),
        manage_hosts=_boolean(raw, "manage_hosts", path),
        manage_override=_boolean(raw, "manage_override", path),
    )


def _number(raw, key, low, high, path):
    value = raw[key]
    if not value.isdigit() or not low <= int(value) <= high:
        raise Problem(f"{key} must be a whole number from {low} to {high}, not {value!r}", path)
    return int(value)


def _boolean(raw, key, path):
    value = raw[key].lower()
    if value not in ("yes", "no", "true", "false"):
        raise Problem(f"{key} must be yes or no, not {raw[key]!r}", path)
    return value in ("yes", "true")


def _host(value, path):
    """A DNS host name in lowercase A-label form (checked as names.is_host_name does, without
    importing re on the no-op sync's path), or "" for the automatic choice."""
    labels = value.lower().rstrip(".").split(".")
    if value and not (len(value) <= 253 and not labels[-1].isdigit() and all(
            0 < len(label) < 64 and set(label) <= HOST_CHARS and label[0] != "-" != label[-1]
            for label in labels)):
        raise Problem(f"override_host must be a DNS host name (A-labels), not {value!r}", path)
    return ".".join(labels) if value else ""


def _service(word, path):
    name, _, verify_key = word.partition(":")
    verify_key = verify_key or "verify_certificate"
    if not (_identifier(name) and _identifier(verify_key)):
        raise Problem(f"services: {word!r} is not `name` or `name:verify_key`", path)
    return name, verify_key


def _identifier(word):
    return bool(word) and word[0].isalpha() and set(word) <= IDENTIFIER_CHARS


def _glob(word, path):
    if not word.startswith("/") or ".." in word.split("/") or not set(word) <= GLOB_CHARS:
        raise Problem(f"confd_globs: {word!r} must be an absolute path; `*` is the only wildcard", path)
    return word


def _probe(value, path):
    """`auto`, `none`, or `[name:]port` words: the TLS endpoints `status` connects to."""
    if value in ("auto", "none"):
        return None if value == "auto" else ()
    endpoints = []
    for word in value.split():
        name, _, port = word.rpartition(":")
        if not (port.isdigit() and 1 <= int(port) <= 65535 and (not name or _identifier(name))):
            raise Problem(f"probe: {word!r} is not `port` or `name:port` (or auto, none)", path)
        endpoints.append((name or None, int(port)))
    return tuple(endpoints)
