"""Run /etc/xivo-certs/hooks.d with run-parts, inputs in the environment; failures reported, not
fatal; and keep the hooks a crash cut short owed until they ran (`hooks-due`)."""

import fcntl
import os
import re
import stat
import subprocess
import sys

from . import files, runparts, tools
from .errors import Problem

FAILED = re.compile(r"^run-parts: (?:(?P<path>.+) exited (?:with return code (?P<code>\d+)"
                    r"|because of uncaught signal (?P<signal>\d+))"
                    r"|(?P<unseen>failed to stat component .+))$")
MAX_HOPS = 40  # the kernel's own limit on the links of one path
RUN_PARTS_NAME = re.compile(r"^[A-Za-z0-9_-]+$")
UNTRUSTED = "hooks not run (they run as root; chown root and chmod go-w to trust them)"


def run(paths, owner, environment, timeout, quiet=False):
    """Run the hooks; `name (why)` of those that failed, and what else run-parts and the hooks
    said on stderr. Their stdout goes to our stderr (stdout may be debconf's or apt's), or nowhere
    when `quiet`. A hook running longer than `timeout` seconds is killed, with the hooks after it."""
    if not os.path.isdir(paths.hooks):
        return [], []
    try:
        run_parts = tools.find("run-parts", "debianutils")
    except Problem as problem:
        raise Problem(f"{problem}: hooks not run", paths.hooks)
    refuse_untrusted(paths.hooks, owner.uid)
    dangling = links_to_nothing(paths.hooks)
    try:
        outcome = runparts.run(run_parts, paths.hooks, tools.environment(environment),
                               subprocess.DEVNULL if quiet else sys.stderr.fileno(), timeout)
    except (OSError, ValueError) as error:  # E2BIG, a NUL: what the environment cannot hold
        raise Problem(f"cannot run the hooks: {error}", paths.hooks)
    return failures_of(outcome, timeout, dangling)


def failures_of(outcome, timeout, dangling):
    """(`name (why)` of each hook that failed, the other lines) of a runparts.Outcome, after
    `dangling` (see links_to_nothing)."""
    failures, said = list(dangling), []
    for line in outcome.lines:
        match = FAILED.match(line)
        if match and match["unseen"]:
            continue  # Debian 12's word for one of `dangling`
        if match:
            how = f"exit code {match['code']}" if match["code"] else f"signal {match['signal']}"
            failures.append(f"{os.path.basename(match['path'])} ({how})")
        else:
            said.append(line)
    if outcome.timed_out is not None:
        failures.append(f"{outcome.timed_out} (still running after {timeout} s, the hook_timeout: "
                        "killed, with the hooks after it)")
    elif outcome.returncode and not failures:
        failures.append(f"run-parts (exit code {outcome.returncode})")
    return failures, said


def refuse_untrusted(directory, uid):
    """Hooks run as root: the directory, its parent (whoever can write there can put another
    directory in its place) and every hook run-parts would run must be root's alone; so must every
    directory a link among them resolves through (else its owner could swap the target after the
    check, before run-parts opens it)."""
    for path in [os.path.dirname(directory), directory] + hook_paths(directory):
        if os.path.islink(path):
            _refuse_open_directories(path, uid)
        try:
            info = os.stat(path)
        except OSError:  # a link to nothing, to itself, through a file: cannot run (links_to_nothing)
            continue
        if not _roots_alone(info, uid):
            raise Problem(f"writable by a user other than root: {UNTRUSTED}", path)


def links_to_nothing(directory):
    """`name (a link to nothing: target)` of each hook that is one: failed hooks, which Debian 12's
    run-parts reports and Debian 13's skips without a word."""
    found = []
    for path in hook_paths(directory):
        try:
            if not os.path.exists(path):
                found.append(f"{os.path.basename(path)} (a link to nothing: {os.readlink(path)})")
        except OSError:
            continue  # removed meanwhile
    return found


def hook_paths(directory):
    """The paths run-parts would run, in its order (it also skips those not executable)."""
    return [os.path.join(directory, name) for name in sorted(os.listdir(directory))
            if RUN_PARTS_NAME.match(name)]


def _refuse_open_directories(link, uid):
    """Refuse `link` unless every directory each hop of it resolves through is root's alone:
    whoever can write one can point that hop elsewhere after the check."""
    path = link
    for _ in range(MAX_HOPS):
        try:
            path = os.path.join(os.path.dirname(path), os.readlink(path))
        except OSError:  # not a link (any more): the last hop is reached
            return
        _refuse_open_parents(link, os.path.realpath(os.path.dirname(path)), uid)


def _refuse_open_parents(link, directory, uid):
    """Refuse `link` unless `directory` and every one above it is root's alone."""
    while True:
        try:
            info = os.lstat(directory)
        except FileNotFoundError:
            info = None  # nothing to swap yet: the directories above must be root's
        if info is not None and not _roots_alone(info, uid):
            raise Problem(f"a link to {os.path.realpath(link)}, through {directory}, which a user "
                          f"other than root can write: {UNTRUSTED}", link)
        if directory == "/":
            return
        directory = os.path.dirname(directory)


def _roots_alone(info, uid):
    """Owned by root (or by `uid`, the injected test owner) and not writable by group or others."""
    return info.st_uid in (0, uid) and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


# --- hooks owed: `hooks-due` names the change whose hooks have not finished yet ---------------------
# The state records a change before its hooks run; a crash during the hooks would otherwise lose
# them (the next sync sees nothing new). The process running them holds a lock on the file, so a
# file nobody holds is owed by a process that died: the next command runs the hooks again.

def owed(paths):
    """(previous fingerprint, previous sha256 of server.crt) of hooks a dead process left owed,
    else None (called under the lock)."""
    try:
        fd = os.open(paths.hooks_due, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return None  # a live process is running them
        words = os.read(fd, 4096).decode("ascii", "replace").split()
    finally:
        os.close(fd)
    previous = [word if word != "-" else "" for word in words[1:3]]
    return tuple(previous + [""] * (2 - len(previous)))  # a record of 26.17 or before: 1 or 2 words


def claim(paths, owner, fingerprint, previous):
    """Record the hooks of `fingerprint` as owed, with `previous` (what owed returns); the
    descriptor whose lock says we run them."""
    words = [fingerprint, *(value or "-" for value in previous)]
    files.atomic_write(paths.hooks_due, (" ".join(words) + "\n").encode(), 0o600, owner.private)
    fd = os.open(paths.hooks_due, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def done(paths, owner, claimed, fingerprint):
    """The hooks of `fingerprint` ran: nothing is owed, unless a newer change took over the record."""
    with files.locked(paths, owner):
        try:
            with open(paths.hooks_due, encoding="ascii", errors="replace") as due:
                mine = due.read().split()[:1] == [fingerprint]
        except FileNotFoundError:
            mine = False
        if mine:
            os.unlink(paths.hooks_due)
    os.close(claimed)
