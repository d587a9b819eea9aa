"""Run /etc/xivo-certs/hooks.d with run-parts, inputs in the environment; failures reported, not fatal."""

import os
import re
import shutil
import stat
import subprocess
import sys

from .errors import Problem

FAILED = re.compile(r"^run-parts: (?P<path>.+) exited (?:with return code (?P<code>\d+)"
                    r"|because of uncaught signal (?P<signal>\d+))$")
RUN_PARTS_NAME = re.compile(r"^[A-Za-z0-9_-]+$")


def run(paths, environment, quiet=False):
    """Run the hooks; a list of `name (exit code N)` for those that failed. Their stdout goes to
    our stderr (stdout may be debconf's or apt's), or nowhere when `quiet`."""
    if not os.path.isdir(paths.hooks):
        return []
    run_parts = shutil.which("run-parts")
    if run_parts is None:
        raise Problem("run-parts not found (package debianutils): hooks not run", paths.hooks)
    refuse_untrusted(paths.hooks)
    env = dict(os.environ, PATH=os.environ.get("PATH") or "/usr/sbin:/usr/bin:/sbin:/bin")
    env.update(environment)
    result = subprocess.run([run_parts, paths.hooks], env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL if quiet else sys.stderr.fileno(), stderr=subprocess.PIPE, check=False)
    failures = []
    for line in result.stderr.decode(errors="replace").splitlines():
        match = FAILED.match(line)
        if match:
            how = f"exit code {match['code']}" if match["code"] else f"signal {match['signal']}"
            failures.append(f"{os.path.basename(match['path'])} ({how})")
        else:
            print(line, file=sys.stderr)
    if result.returncode and not failures:
        failures.append(f"run-parts (exit code {result.returncode})")
    return failures


def refuse_untrusted(directory):
    """Hooks run as root: the directory, its parent (whoever can write there can put another
    directory in its place) and every hook run-parts would run must be root's alone."""
    for path in [os.path.dirname(directory), directory] + [
            os.path.join(directory, name) for name in sorted(os.listdir(directory))
            if RUN_PARTS_NAME.match(name)]:
        info = os.stat(path)
        if info.st_uid != 0 or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise Problem("writable by a user other than root: hooks not run "
                          "(they run as root; chown root and chmod go-w to trust them)", path)
