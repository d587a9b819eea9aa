"""Safe file operations: bounded reads, atomic writes, the key/certificate pair as one transaction."""

import errno
import fcntl
import os
import stat
import time

from .errors import Problem

MAX_INPUT = 1 << 20  # no certificate, key or chain file is anywhere near 1 MiB
NEW_SUFFIX = ".xivo-certs-new"
KEY_MODE, CERT_MODE, PRIVATE_DIR_MODE = 0o640, 0o644, 0o700


def read_input(path, limit=MAX_INPUT, follow=True):
    """The bytes of a regular file; FIFOs, devices, huge files (and, unless `follow`, symlinks) refused."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as error:
        raise Problem(_describe(error, follow), path)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Problem("not a regular file", path)
        if info.st_size > limit:
            raise Problem(f"too large ({info.st_size} bytes; at most {limit})", path)
        with os.fdopen(os.dup(fd), "rb") as stream:
            data = stream.read(limit + 1)
    except OSError as error:
        raise Problem(f"cannot read: {error.strerror}", path)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise Problem(f"too large (more than {limit} bytes)", path)
    return data


def _describe(error, follow):
    if error.errno == errno.ELOOP and not follow:
        return "is a symbolic link; xivo-certs manages regular files only (copy the file instead)"
    if error.errno == errno.ENOENT:
        return "no such file"
    return f"cannot open: {error.strerror}"


def signature(path):
    """`inode:size:mtime_ns:ctime_ns` of a path (not followed), or '' when it does not exist."""
    try:
        info = os.lstat(path)
    except OSError:
        return ""
    return f"{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}"


def ensure_private_dir(path):
    """A root-only directory (state, backups), created if missing and narrowed if it was wider."""
    os.makedirs(path, mode=PRIVATE_DIR_MODE, exist_ok=True)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise Problem("is not a directory", path)
    if info.st_uid != 0 or stat.S_IMODE(info.st_mode) != PRIVATE_DIR_MODE:
        os.chown(path, 0, 0, follow_symlinks=False)
        os.chmod(path, PRIVATE_DIR_MODE)


def write_new(path, data, mode, gid=0):
    """Write `data` to a new file at `path`, born 0600 with O_EXCL, owner and mode set before the bytes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        os.fchown(fd, 0, gid)
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException as error:
        os.close(fd)
        _unlink(path)
        if isinstance(error, OSError) and not error.filename:
            error.filename = path  # os.write/os.fsync name no file: the one-line message must
        raise
    os.close(fd)


def atomic_write(path, data, mode, gid=0):
    """Replace `path` by a file holding `data` in one rename (a symlink at `path` is replaced, not followed)."""
    temporary = path + NEW_SUFFIX
    _unlink(temporary)
    write_new(temporary, data, mode, gid)
    os.rename(temporary, path)
    fsync_dir(os.path.dirname(path))


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as error:  # a read-only file system says EROFS even for a name that is not there
        if error.errno != errno.EROFS or os.path.lexists(path):
            raise


# --- the pair ------------------------------------------------------------------------------

def write_pair(paths, key_pem, cert_pem, new_state_text):
    """Replace key and certificate together with the state that describes them.

    Both new files are written and synced first; then the new state is written to `pending`,
    which is the commit point: `recover` finishes a committed change and drops an uncommitted one.
    """
    gid = paths.www_data_gid()
    os.makedirs(os.path.dirname(paths.cert), mode=0o755, exist_ok=True)
    discard_uncommitted(paths)
    try:
        write_new(paths.key + NEW_SUFFIX, key_pem, KEY_MODE, gid)
        write_new(paths.cert + NEW_SUFFIX, cert_pem, CERT_MODE, gid)
        fsync_dir(os.path.dirname(paths.cert))
        atomic_write(paths.pending, new_state_text.encode(), 0o600)
    except BaseException:
        if not os.path.exists(paths.pending):  # not committed: leave nothing behind
            discard_uncommitted(paths)
        raise
    recover(paths)


def recover(paths):
    """Finish a committed pair change (rename the new files, then the pending state into place)."""
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
        _unlink(final + NEW_SUFFIX)


def normalize_modes(paths):
    """Give hand-copied files the table's owner and mode (root:www-data, key 0640, cert 0644).

    Works on descriptors opened without following symlinks, so a planted link changes nothing.
    """
    gid = paths.www_data_gid()
    for path, mode in ((paths.key, KEY_MODE), (paths.cert, CERT_MODE)):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as error:
            if error.errno in (errno.ENOENT, errno.ELOOP):
                continue  # missing or a symlink: reading the pair reports it
            raise
        try:
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode) and (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) \
                    != (0, gid, mode):
                os.fchmod(fd, mode & 0o600)  # never wider than the target while the group changes
                os.fchown(fd, 0, gid)
                os.fchmod(fd, mode)
        finally:
            os.close(fd)


def backup(paths, sources, label=""):
    """Copy `sources` (those that exist) into a new root-only directory under the backups; its path."""
    ensure_private_dir(paths.backups)
    stamp = time.strftime("%Y%m%d-%H%M%S") + (f"-{label}" if label else "")
    target = os.path.join(paths.backups, stamp)
    suffix = 0
    while os.path.lexists(target):
        suffix += 1
        target = os.path.join(paths.backups, f"{stamp}.{suffix}")
    os.mkdir(target, PRIVATE_DIR_MODE)
    for source in sources:
        if os.path.lexists(source):
            destination = os.path.join(target, os.path.basename(source))
            if os.path.lexists(destination):  # the links of several conf.d dirs share one name
                destination = os.path.join(
                    target, os.path.relpath(source, paths.root).replace(os.sep, "_"))
            if os.path.islink(source):
                os.symlink(os.readlink(source), destination)
            else:
                write_new(destination, read_input(source, follow=False), 0o600)
    fsync_dir(target)
    return target


class locked:
    """One xivo-certs at a time: a second one waits here. (A class, not contextlib: `sync`
    must start fast and contextlib's imports cost a third of its budget.)"""

    def __init__(self, paths):
        self.paths = paths
        self.fd = None

    def __enter__(self):
        ensure_private_dir(self.paths.state_dir)
        self.fd = os.open(self.paths.lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc_info):
        os.close(self.fd)
