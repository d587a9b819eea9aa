"""Whole-tree snapshots (to assert that nothing changed, or what did) and their difference."""

import hashlib
import os
import stat


def entry(path, inodes=True):
    """(type, mode, uid, gid) then the link's target, or the bytes' sha256 (and the inode when
    `inodes`: a file rewritten with the same bytes differs) of a regular file."""
    info = os.lstat(path)
    result: list = [stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid]
    if stat.S_ISLNK(info.st_mode):
        result.append(os.readlink(path))
    elif stat.S_ISREG(info.st_mode):
        with open(path, "rb") as stream:
            result.append(hashlib.sha256(stream.read()).hexdigest())
        if inodes:
            result.append(info.st_ino)
    return tuple(result)


def snapshot(top, skip=(), inodes=True):
    """{path relative to `top`: entry} of `top` (".") and everything under it but the relative
    paths in `skip`. Never opens anything but regular files."""
    top = str(top)
    result = {".": entry(top, inodes)}
    for directory, dirnames, filenames in os.walk(top):
        for name in dirnames + filenames:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, top)
            if relative not in skip:
                result[relative] = entry(path, inodes)
    return result


def diff(before, after):
    """The entries that differ, one line each: "path: before -> after"."""
    return "\n".join(f"{path}: {before.get(path)} -> {after.get(path)}"
                     for path in sorted(set(before) | set(after))
                     if before.get(path) != after.get(path))
