"""Run /etc/xivo-certs/hooks.d with run-parts, inputs in the environment; failures reported, not
fatal; and keep the hooks a crash cut short owed until they ran (`hooks-due`)."""

import fcntl
import os
import re
import shutil
import stat
import subprocess
import sys

from . import files
from .errors import Problem

FAILED = re.compile(r"^run-parts: (?P<path>.+) exited (?:with return code (?P<code>\d+)"
                    r"|because of uncaught signal (?P<signal>\d+))$")
RUN_PARTS_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def run(paths, owner, environment, quiet=False):
    """Run the hooks; `name (exit code N)` of those that failed, and what else run-parts said on
    stderr. Their stdout goes to our stderr (stdout may be debconf's or apt's), or nowhere when
    `quiet`."""
    if not os.path.isdir(paths.hooks):
        return [], []
    run_parts = shutil.which("run-parts")
    if run_parts is None:
        raise Problem("run-parts not found (package debianutils): hooks not run", paths.hooks)
    refuse_untrusted(paths.hooks, owner.uid)
    env = dict(os.environ, PATH=os.environ.get("PATH") or "/usr/sbin:/usr/bin:/sbin:/bin")
    env.update(environment)
    result = subprocess.run([run_parts, paths.hooks], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL if quiet else sys.stderr.fileno(),
                            stderr=subprocess.PIPE, check=False)
    failures, said = [], []
    for line in result.stderr.decode(errors="replace").splitlines():
        match = FAILED.match(line)
        if match:
            how = f"exit code {match['code']}" if match["code"] else f"signal {match['signal']}"
            failures.append(f"{os.path.basename(match['path'])} ({how})")
        else:
            said.append(line)
    if result.returncode and not failures:
        failures.append(f"run-parts (exit code {result.returncode})")
    return failures, said


def refuse_untrusted(directory, uid):
    """Hooks run as root: the directory, its parent (whoever can write there can put another
    directory in its place) and every hook run-parts would run must be root's alone."""
    for path in [os.path.dirname(directory), directory] + [
            os.path.join(directory, name) for name in sorted(os.listdir(directory))
            if RUN_PARTS_NAME.match(name)]:
        info = os.stat(path)
        if info.st_uid != uid or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise Problem("writable by a user other than root: hooks not run "
                          "(they run as root; chown root and chmod go-w to trust them)", path)


# --- hooks owed: `hooks-due` names the change whose hooks have not finished yet ---------------------
# The state records a change before its hooks run; a crash during the hooks would otherwise lose
# them (the next sync sees nothing new). The process running them holds a lock on the file, so a
# file nobody holds is owed by a process that died: the next command runs the hooks again.

def owed(paths):
    """The previous fingerprint of hooks a dead process left owed, else None (called under the lock)."""
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
    return words[1] if len(words) > 1 else ""


def claim(paths, owner, fingerprint, previous):
    """Record the hooks of `fingerprint` as owed; the descriptor whose lock says we run them."""
    files.atomic_write(paths.hooks_due, f"{fingerprint} {previous}\n".encode(), 0o600, owner.private)
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
