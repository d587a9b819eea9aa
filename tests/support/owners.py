"""The owners a run gives its files: as root, root and www-data (the pair's group); without root,
the test user's ids, injected (in-process: `cli.main(owner=INJECTED_OWNER)`; in a subprocess:
OWNER_ENV, XIVO_CERTS_TEST_OWNER, which xivo-certs ignores when run as root)."""

import os

from xivo_certs.context import TEST_OWNER, Owner

from .layout import WWW_DATA as WWW_DATA_GID

AS_ROOT = os.geteuid() == 0
# UID, GID: of the root-only files; WWW_DATA: the group of the pair and the CA file.
UID, GID, WWW_DATA = (0, 0, WWW_DATA_GID) if AS_ROOT else (os.getuid(), os.getgid(), os.getgid())
OWNER = Owner(UID, GID, WWW_DATA)
INJECTED_OWNER = None if AS_ROOT else OWNER  # as root: the process's own (reads the root's /etc/group)
OWNER_ENV = {TEST_OWNER: f"{UID}:{GID}"}
