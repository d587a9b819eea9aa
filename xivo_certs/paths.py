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
HOSTS = "/etc/hosts"
HOSTNAME = "/etc/hostname"
# XiVO regenerates /etc/hosts from templates (xivo-update-config); an admin's own copy wins.
XIVO_HOSTS_TEMPLATE = "/usr/share/xivo-config/templates/system/etc/hosts"
CUSTOM_HOSTS_TEMPLATE = "/etc/xivo/custom-templates/system/etc/hosts"


class Paths:
    """Absolute paths of the package's files under `root`."""

    def __init__(self, root="/"):
        self.root = os.path.abspath(root)
        self.cert = self.under(CERT)
        self.key = self.under(KEY)
        self.ca = self.under(CA)
        self.override = self.under(OVERRIDE)
        self.settings = self.under(SETTINGS)
        self.hooks = self.under(HOOKS)
        self.backups = self.under(BACKUPS)
        self.system_ca_bundle = self.under(SYSTEM_CA_BUNDLE)
        self.group_file = self.under(GROUP_FILE)
        self.hosts = self.under(HOSTS)
        self.hostname = self.under(HOSTNAME)
        self.xivo_hosts_template = self.under(XIVO_HOSTS_TEMPLATE)
        self.custom_hosts_template = self.under(CUSTOM_HOSTS_TEMPLATE)
        self.state_dir = self.under(STATE_DIR)
        self.state = os.path.join(self.state_dir, "state")
        self.pending = os.path.join(self.state_dir, "pending")  # the next state, once committed
        self.lock = os.path.join(self.state_dir, "lock")
        self.hooks_due = os.path.join(self.state_dir, "hooks-due")

    def under(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def confd_dirs(self, globs):
        """The daemons' conf.d directories that exist now, sorted."""
        found: set[str] = set()
        for pattern in globs:
            found.update(path for path in expand(self.root, pattern.strip("/").split("/"))
                         if os.path.isdir(path))
        return sorted(found)

    def inside(self, path):
        """`path` (under the root) as the system under the root names it: absolute from its /."""
        relative = os.path.relpath(path, self.root)
        return "/" if relative == "." else "/" + relative

    def link_in(self, confd_dir):
        return os.path.join(confd_dir, LINK_NAME)


# Not the glob module: it imports re, which alone costs more than the no-op sync may take (make
# bench), and confd_globs need only `*` (settings.GLOB_CHARS).

def expand(directory, parts):
    """The paths under `directory` matching the path components `parts`, where `*` matches any
    run of characters within one name, but no hidden name."""
    if not parts:
        return [directory]
    first, rest = parts[0], parts[1:]
    if "*" in first:
        try:
            names = [name for name in os.listdir(directory)
                     if not name.startswith(".") and wildcard_match(name, first)]
        except OSError:
            return []
    else:
        names = [first]
    return [path for name in names for path in expand(os.path.join(directory, name), rest)]


def wildcard_match(name, pattern):
    """Whether `name` matches `pattern`, where `*` stands for any run of characters."""
    first, *middle, last = pattern.split("*")
    end = len(name) - len(last)
    if end < len(first) or not name.startswith(first) or not name.endswith(last):
        return False
    position = len(first)
    for piece in middle:
        position = name.find(piece, position, end)
        if position < 0:
            return False
        position += len(piece)
    return True
