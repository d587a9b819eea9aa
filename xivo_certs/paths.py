"""Where everything lives, resolved under a root directory (tests use a temporary one)."""

import glob
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
        self.cert = self.under(CERT)
        self.key = self.under(KEY)
        self.ca = self.under(CA)
        self.override = self.under(OVERRIDE)
        self.settings = self.under(SETTINGS)
        self.hooks = self.under(HOOKS)
        self.backups = self.under(BACKUPS)
        self.system_ca_bundle = self.under(SYSTEM_CA_BUNDLE)
        self.group_file = self.under(GROUP_FILE)
        self.state_dir = self.under(STATE_DIR)
        self.state = os.path.join(self.state_dir, "state")
        self.pending = os.path.join(self.state_dir, "pending")  # the next state, once committed
        self.lock = os.path.join(self.state_dir, "lock")
        self.hooks_due = os.path.join(self.state_dir, "hooks-due")

    def under(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def confd_dirs(self, globs):
        """The daemons' conf.d directories that exist now, sorted (`*` matches no hidden name)."""
        found: set[str] = set()
        for pattern in globs:
            matches = glob.glob(os.path.join(glob.escape(self.root), pattern.lstrip("/")))
            found.update(path for path in matches if os.path.isdir(path))
        return sorted(found)

    def link_in(self, confd_dir):
        return os.path.join(confd_dir, LINK_NAME)
