"""Assertions on what the command did: its refusals, owners and modes."""

import os
import stat

from .layout import WWW_DATA


def one_line(stderr):
    """The stderr of a refused command: exactly one non-empty line."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line on stderr, got {len(lines)}:\n{stderr}"
    return lines[0]


def assert_refused(result, path_text, problem_text):
    """Exit 1 and one line on stderr naming the file and the problem; the line."""
    assert result.returncode == 1, result
    line = one_line(result.stderr)
    assert line.startswith("xivo-certs: "), line
    assert str(path_text) in line, line
    assert problem_text.lower() in line.lower(), line
    return line


def owner_mode(path):
    """(uid, gid, permission bits) of `path` itself (not of what a link points to)."""
    info = os.lstat(path)
    return info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)


def check_modes(root, exact=True):
    """The pair's owner and modes (root.cert, root.key): exactly README's table, or (exact=False)
    never wider."""
    for path, mode in ((root.cert, 0o644), (root.key, 0o640)):
        info = os.lstat(path)
        assert stat.S_ISREG(info.st_mode), f"{path} is not a regular file"
        assert info.st_uid == 0, f"{path}: owner {info.st_uid}"
        assert info.st_gid in ((WWW_DATA,) if exact else (0, WWW_DATA)), f"{path}: group {info.st_gid}"
        actual = stat.S_IMODE(info.st_mode)
        assert (actual == mode) if exact else not actual & ~mode, f"{path}: mode {actual:04o}"
