"""Where everything lives, resolved under a root directory (tests use a temporary one)."""

import os

CERT = "/usr/share/xivo-certs/server.crt"
KEY = "/usr/share/xivo-certs/server.key"
CA = "/usr/share/xivo-certs/ca.crt"
OVERRIDE = "/etc/xivo/custom/custom-certificate.yml"
LINK_NAME = "010-custom-certificate.yml"
SETTINGS = "/etc/xivo-certs/xivo-certs.conf"
HOOKS = "/etc/xivo-certs/hooks.d"
STATE_DIR = "/var/lib/xivo-certs"
BACKUPS = "/var/backups/xivo-certs"
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
GROUP_FILE = "/etc/group"


class Paths:
    """Absolute paths of the package's files under `root`."""

    def __init__(self, root="/"):
        self.root = os.path.abspath(root)

    def under(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    @property
    def cert(self):
        return self.under(CERT)

    @property
    def key(self):
        return self.under(KEY)

    @property
    def ca(self):
        return self.under(CA)

    @property
    def override(self):
        return self.under(OVERRIDE)

    @property
    def settings(self):
        return self.under(SETTINGS)

    @property
    def hooks(self):
        return self.under(HOOKS)

    @property
    def state_dir(self):
        return self.under(STATE_DIR)

    @property
    def state(self):
        return os.path.join(self.state_dir, "state")

    @property
    def pending(self):
        return os.path.join(self.state_dir, "pending")

    @property
    def lock(self):
        return os.path.join(self.state_dir, "lock")

    @property
    def hooks_due(self):
        return os.path.join(self.state_dir, "hooks-due")

    @property
    def backups(self):
        return self.under(BACKUPS)

    @property
    def system_ca_bundle(self):
        return self.under(SYSTEM_CA_BUNDLE)

    def confd_dirs(self, globs):
        """The daemons' conf.d directories that exist now, sorted."""
        found = set()
        for pattern in globs:
            found.update(d for d in expand(self.root, pattern.strip("/").split("/"))
                         if os.path.isdir(d))
        return sorted(found)

    def link_in(self, confd_dir):
        return os.path.join(confd_dir, LINK_NAME)

    def www_data_gid(self):
        """www-data is static (gid 33, base-passwd); read the root's group file when it has one."""
        try:
            with open(self.under(GROUP_FILE), encoding="utf-8") as group:
                for line in group:
                    fields = line.split(":")
                    if fields[0] == "www-data" and len(fields) > 2:
                        return int(fields[2])
        except (OSError, ValueError):
            pass
        return 33


def expand(directory, parts):
    """The paths under `directory` matching `parts` (components where `*` is a wildcard).

    A small glob: `sync` runs after every apt run, and the glob module costs more to import
    than the whole no-op sync is allowed to take.
    """
    if not parts:
        return [directory]
    first, rest = parts[0], parts[1:]
    if "*" not in first:
        candidate = os.path.join(directory, first)
        return expand(candidate, rest) if os.path.lexists(candidate) else []
    try:
        entries = os.listdir(directory)
    except OSError:
        return []
    return [path for name in entries if not name.startswith(".") and wildcard_match(name, first)
            for path in expand(os.path.join(directory, name), rest)]


def wildcard_match(name, pattern):
    """Whether `name` matches `pattern`, where `*` stands for any run of characters."""
    pieces = pattern.split("*")
    if not name.startswith(pieces[0]) or len(name) < len(pieces[0]) + len(pieces[-1]):
        return False
    position = len(pieces[0])
    for piece in pieces[1:-1]:
        position = name.find(piece, position)
        if position < 0:
            return False
        position += len(piece)
    return name.endswith(pieces[-1]) and position <= len(name) - len(pieces[-1])
