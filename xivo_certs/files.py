"""Safe file operations: bounded reads, atomic writes, modes, backups, the lock."""

import errno
import fcntl
import os
import stat
import time

from .errors import Problem

MAX_INPUT = 1 << 20  # no certificate, key or chain file is anywhere near 1 MiB
NEW_SUFFIX = ".xivo-certs-new"
KEY_MODE, CERT_MODE, PRIVATE_DIR_MODE = 0o640, 0o644, 0o700


REFUSED = object()  # read_input's `missing`: a missing file is a Problem


def read_input(path, limit=MAX_INPUT, follow=True, missing=REFUSED, dir_fd=None, shown=None):
    """The bytes of a regular file (`path` relative to `dir_fd` when given; named `shown` in
    messages, default `path`); FIFOs, devices, huge files (and, unless `follow`, symlinks)
    refused. A missing file is refused too, unless `missing` is given: then that is the answer."""
    shown = shown or path
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags, dir_fd=dir_fd)
    except FileNotFoundError:
        if missing is REFUSED:
            raise Problem("no such file", shown)
        return missing
    except OSError as error:
        raise Problem(_describe(error, follow), shown)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Problem("not a regular file", shown)
        if info.st_size > limit:
            raise Problem(f"too large ({info.st_size} bytes; at most {limit})", shown)
        with os.fdopen(os.dup(fd), "rb") as stream:
            data = stream.read(limit + 1)
    except OSError as error:
        raise Problem(f"cannot read: {error.strerror}", shown)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise Problem(f"too large (more than {limit} bytes)", shown)
    return data


def _describe(error, follow):
    if error.errno == errno.ELOOP and not follow:
        return "is a symbolic link; xivo-certs manages regular files only (copy the file instead)"
    return f"cannot open: {error.strerror}"


def stat_stamp(path):
    """`inode:size:mtime_ns:ctime_ns` of a path (not followed), or '' when it does not exist."""
    try:
        info = os.lstat(path)
    except OSError:
        return ""
    return f"{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}"


def make_dirs(path, mode, parents_mode=0o755):
    """Create the directory `path` (and its missing parents) with exactly these modes, whatever
    the umask: under umask 077 os.makedirs makes them 0700, and www-data no longer reaches the key."""
    if os.path.isdir(path):
        return
    parent = os.path.dirname(path)
    if parent != path:
        make_dirs(parent, parents_mode, parents_mode)
    try:
        os.mkdir(path, PRIVATE_DIR_MODE)  # born narrow, then given its mode
    except FileExistsError:
        return
    os.chmod(path, mode)


def ensure_private_dir(path, owner):
    """A root-only directory (state, backups), created if missing and narrowed if it was wider;
    what was put in it by others while it was open is set aside (see _set_aside_untrusted)."""
    make_dirs(path, PRIVATE_DIR_MODE)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Problem("is not a directory", path)
        raise
    try:
        info = os.fstat(fd)
        if info.st_uid != owner.uid or stat.S_IMODE(info.st_mode) != PRIVATE_DIR_MODE:
            os.fchown(fd, *owner.private)  # first: its former owner can chmod it no more
            os.fchmod(fd, PRIVATE_DIR_MODE)
        _set_aside_untrusted(fd, owner)
    finally:
        os.close(fd)


UNTRUSTED_PREFIX = "untrusted-"


def _set_aside_untrusted(dir_fd, owner):
    """Rename what root did not make alone, once the directory is root's: entries of another
    owner (a user's `lock` held locked would hang every command; a user's `state` would be
    believed), files with other hard links, and what is neither a file nor a directory (a
    `pending` symlink would become the state). Root's files wider than 0600 are narrowed."""
    for name in os.listdir(dir_fd):
        if name.startswith(UNTRUSTED_PREFIX):
            continue
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        is_file = stat.S_ISREG(info.st_mode) and info.st_nlink == 1
        if info.st_uid != owner.uid or not (is_file or stat.S_ISDIR(info.st_mode)):
            os.rename(name, f"{UNTRUSTED_PREFIX}{name}.{info.st_ino}", src_dir_fd=dir_fd,
                      dst_dir_fd=dir_fd)
        elif is_file and info.st_mode & 0o077:
            os.chmod(name, stat.S_IMODE(info.st_mode) & 0o700, dir_fd=dir_fd)


def read_private(path, uid):
    """The bytes of one of root's own files (the state): refused unless a regular file of
    `uid`'s, with no access for others and one link; None when there is none."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise Problem(_describe(error, False), path)
    try:
        check_private(os.fstat(fd), path, uid)
        with os.fdopen(os.dup(fd), "rb") as stream:
            return stream.read(MAX_INPUT)
    finally:
        os.close(fd)


def check_private(info, path, uid):
    if not stat.S_ISREG(info.st_mode) or info.st_uid != uid or info.st_mode & 0o077 \
            or info.st_nlink != 1:
        raise Problem(f"must be a regular file of uid {uid}, mode 0600 at most, with one "
                      f"link (it has uid {info.st_uid}, mode {stat.S_IMODE(info.st_mode):04o}, "
                      f"{info.st_nlink} links); xivo-certs does not trust it", path)


def write_new(path, data, mode, ids, dir_fd=None):
    """Write `data` to a new file at `path` (relative to `dir_fd` when given), born 0600 with
    O_EXCL; owner (`ids`: uid, gid) and mode set before the bytes."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600,
                 dir_fd=dir_fd)
    try:
        os.fchown(fd, *ids)
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    except BaseException as error:
        os.close(fd)
        _discard(path, dir_fd)
        if isinstance(error, OSError) and not error.filename:
            error.filename = path  # os.write/os.fsync name no file: the one-line message must
        raise
    os.close(fd)


def atomic_write(path, data, mode, ids):
    """Replace `path` by a file holding `data` in one rename (a symlink at `path` is replaced,
    not followed)."""
    temporary = path + NEW_SUFFIX
    remove(temporary)
    write_new(temporary, data, mode, ids)
    _rename_new(temporary, path)
    fsync_dir(os.path.dirname(path))


def _rename_new(temporary, path, dir_fd=None):
    """Rename the new file `temporary` to `path`; when that fails (`path` a directory...),
    `temporary` is removed: no stray file is left beside `path`."""
    try:
        os.rename(temporary, path, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        _discard(temporary, dir_fd)
        raise


def _discard(path, dir_fd):
    if dir_fd is None:
        remove(path)
    else:
        unlink_at(dir_fd, path)


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def remove(path):
    """Unlink `path`; quiet when it is missing, even on a read-only file system."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as error:  # a read-only file system says EROFS even for a name that is not there
        if error.errno != errno.EROFS or os.path.lexists(path):
            raise


def normalize_modes(paths, owner):
    """Give hand-copied files the table's owner and mode (root:www-data, key 0640, cert 0644).

    Works on descriptors opened without following symlinks, so a planted link changes nothing.
    """
    for path, mode in ((paths.key, KEY_MODE), (paths.cert, CERT_MODE)):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as error:
            if error.errno in (errno.ENOENT, errno.ELOOP):
                continue  # missing or a symlink: reading the pair reports it
            raise
        try:
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode) and info.st_nlink != 1:
                raise Problem(f"has {info.st_nlink} hard links: its mode would change for the "
                              "other names too; xivo-certs leaves it alone (copy it instead)", path)
            if stat.S_ISREG(info.st_mode) and (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) \
                    != (*owner.shared, mode):
                os.fchmod(fd, mode & 0o600)  # never wider than the target while the group changes
                os.fchown(fd, *owner.shared)
                os.fchmod(fd, mode)
        finally:
            os.close(fd)


def backup(paths, owner, sources, label=""):
    """Copy `sources` (those that exist) into a new root-only directory under the backups; its path."""
    target = backup_dir(paths, owner, label)
    for source in sources:
        if os.path.lexists(source):
            back_up(paths, owner, source, target)
    return target


def backup_dir(paths, owner, label=""):
    """A new root-only directory under the backups, named for the time and `label`; its path."""
    ensure_private_dir(paths.backups, owner)
    stamp = time.strftime("%Y%m%d-%H%M%S") + (f"-{label}" if label else "")
    target = os.path.join(paths.backups, stamp)
    suffix = 0
    while os.path.lexists(target):
        suffix += 1
        target = os.path.join(paths.backups, f"{stamp}.{suffix}")
    os.mkdir(target, PRIVATE_DIR_MODE)
    return target


def back_up(paths, owner, source, target):
    """Copy the regular file or symbolic link `source` into the backup directory `target`, durably
    (its source may be removed next); a Problem for anything else."""
    destination = os.path.join(target, os.path.basename(source))
    if os.path.lexists(destination):  # the links of several conf.d dirs share one name
        destination = os.path.join(target, os.path.relpath(source, paths.root).replace(os.sep, "_"))
    if os.path.islink(source):
        os.symlink(os.readlink(source), destination)
    else:
        write_new(destination, read_input(source, follow=False), 0o600, owner.private)
    fsync_dir(target)


def locked(paths, owner):
    """One xivo-certs at a time: the lock file, locked; `with` closes it, which unlocks it (a
    second command waits meanwhile)."""
    ensure_private_dir(paths.state_dir, owner)
    fd = os.open(paths.lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    lock = os.fdopen(fd, "rb", buffering=0)
    try:
        check_private(os.fstat(fd), paths.lock, owner.uid)
        fcntl.flock(fd, fcntl.LOCK_EX)
    except BaseException:
        lock.close()
        raise
    return lock


# --- through directory descriptors (issue 12): no symbolic link followed, no directory swapped -----
# A user who can write to a directory on the way (say /etc/wazo-x/, owner of conf.d) could put a
# link to any directory in its place between a check and a write. So each directory is opened from
# the root one component at a time (O_NOFOLLOW|O_DIRECTORY), each one holding the next must be the
# owner's alone, and the files are then read and written relative to the last descriptor.

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class opened_dir:  # noqa: N801 -- used as a function: `with files.opened_dir(...) as fd`
    """A descriptor of the directory `path` (under `root`), reached without following a link;
    missing directories are made with `make_mode` when given. A Problem naming the directory
    refused: a link, not a directory, or inside a directory others can write to (a missing one
    is FileNotFoundError).
    (A class, not contextlib: the no-op sync imports this module and must stay cheap.)"""

    def __init__(self, root, path, owner, make_mode=None):
        self.names = [name for name in os.path.relpath(path, root).split(os.sep) if name not in ("", ".")]
        self.root, self.owner, self.make_mode = root, owner, make_mode
        self.fd = -1

    def __enter__(self):
        self.fd = os.open(self.root, DIR_FLAGS)
        reached = self.root
        try:
            for name in self.names:
                _refuse_shared_dir(self.fd, reached, self.owner)
                reached = os.path.join(reached, name)
                child = _open_child(self.fd, name, reached, self.owner, self.make_mode)
                os.close(self.fd)
                self.fd = child
        except BaseException:
            os.close(self.fd)
            raise
        return self.fd

    def __exit__(self, *exc):
        os.close(self.fd)


def _refuse_shared_dir(fd, path, owner):
    info = os.fstat(fd)
    if info.st_uid != owner.uid or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise Problem("writable by a user other than root: nothing written below it "
                      "(chown root and chmod go-w to allow it)", path)


def _open_child(fd, name, path, owner, make_mode):
    try:
        return os.open(name, DIR_FLAGS, dir_fd=fd)
    except FileNotFoundError:
        if make_mode is None:
            raise
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.ENOTDIR):
            raise Problem("is a symbolic link or not a directory: nothing written through it", path)
        raise
    os.mkdir(name, 0o700, dir_fd=fd)
    child = os.open(name, DIR_FLAGS, dir_fd=fd)
    os.fchown(child, *owner.private)
    os.fchmod(child, make_mode)  # explicit: the umask does not decide who can read the override
    return child


def read_at(dir_fd, name, limit=MAX_INPUT, shown=None):
    """The bytes of the regular file `name` in `dir_fd`, None when absent; a Problem (naming
    `shown`, default `name`) for a link or anything but a regular file."""
    return read_input(name, limit, follow=False, missing=None, dir_fd=dir_fd, shown=shown)


def write_at(dir_fd, name, data, mode, ids):
    """Replace `name` in `dir_fd` by a file holding `data` in one rename (born 0600 with O_EXCL,
    owner and mode set before the bytes)."""
    temporary = name + NEW_SUFFIX
    unlink_at(dir_fd, temporary)
    write_new(temporary, data, mode, ids, dir_fd)
    _rename_new(temporary, name, dir_fd)
    os.fsync(dir_fd)


def overwrite_at(dir_fd, name, data):
    """Rewrite the regular file `name` in `dir_fd` in place, keeping its owner and mode: for a
    file mounted over (a container's /etc/hosts), which no rename can replace. Not atomic."""
    fd = os.open(name, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise Problem("not a regular file", name)
        os.ftruncate(fd, 0)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def unlink_at(dir_fd, name):
    """Unlink `name` in `dir_fd`; quiet when it is missing."""
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
