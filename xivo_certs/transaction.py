"""The key, the certificate and the state that describes them, replaced as one transaction.

Both new files are written and synced beside the old ones; then the new state is written to
`pending`, which is the commit point: `recover` (run by every command under the lock) finishes a
committed change and drops an uncommitted one.
"""

import os

from .files import CERT_MODE, KEY_MODE, NEW_SUFFIX, atomic_write, fsync_dir, make_dirs, remove, write_new


def write_pair(paths, owner, key_pem, cert_pem, new_state_text):
    """Replace key and certificate together with the state that describes them."""
    make_dirs(os.path.dirname(paths.cert), 0o755)
    discard_uncommitted(paths)
    try:
        write_new(paths.key + NEW_SUFFIX, key_pem, KEY_MODE, owner.shared)
        write_new(paths.cert + NEW_SUFFIX, cert_pem, CERT_MODE, owner.shared)
        fsync_dir(os.path.dirname(paths.cert))
        atomic_write(paths.pending, new_state_text.encode(), 0o600, owner.private)
    except BaseException:
        if not os.path.exists(paths.pending):  # not committed: leave nothing behind
            discard_uncommitted(paths)
        raise
    recover(paths)


def recover(paths):
    """Finish a committed pair change (rename the new files, then the pending state into place);
    whether there was one."""
    if not os.path.exists(paths.pending):
        discard_uncommitted(paths)
        return False
    for final in (paths.key, paths.cert):
        if os.path.lexists(final + NEW_SUFFIX):
            os.rename(final + NEW_SUFFIX, final)
    fsync_dir(os.path.dirname(paths.cert))
    os.rename(paths.pending, paths.state)
    fsync_dir(paths.state_dir)
    return True


def discard_uncommitted(paths):
    for final in (paths.key, paths.cert, paths.state, paths.pending, paths.hooks_due):
        remove(final + NEW_SUFFIX)
