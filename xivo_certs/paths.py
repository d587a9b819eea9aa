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

    @property
    def group_file(self):
        return self.under(GROUP_FILE)

    def confd_dirs(self, globs):
        """The daemons' conf.d directories that exist now, sorted (`*` matches no hidden name)."""
        found: set[str] = set()
        for pattern in globs:
            matches = glob.glob(os.path.join(glob.escape(self.root), pattern.lstrip("/")))
            found.update(path for path in matches if os.path.isdir(path))
        return sorted(found)

    def link_in(self, confd_dir):
        return os.path.join(confd_dir, LINK_NAME)
