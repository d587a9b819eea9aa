"""Running the real command: `/usr/bin/python3 bin/xivo-certs --root ROOT ARGS` from the checkout,
with a clean environment (the checkout's bin/ first on PATH, for the hooks; without root, the
test user as the owner of the files, see support.owners)."""

import os
import subprocess

from .layout import CHECKOUT, COMMAND, PYTHON
from .owners import AS_ROOT, OWNER_ENV


def environment(**extra):
    env = {"PATH": f"{CHECKOUT / 'bin'}:/usr/sbin:/usr/bin:/sbin:/bin",
           "PYTHONPATH": str(CHECKOUT), "PYTHONDONTWRITEBYTECODE": "1",
           "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "HOME": "/root" if AS_ROOT else os.environ.get("HOME", "/"), **OWNER_ENV}
    env.update(extra)
    return env


def argv(root, *args, python_options=()):
    return [PYTHON, *python_options, str(COMMAND), "--root", str(root), *map(str, args)]


def run(root, *args, env=None, python_options=(), timeout=120, check=None):
    """The finished command (subprocess.CompletedProcess, text); with `check`, an AssertionError
    unless it exits `check`."""
    result = subprocess.run(argv(root, *args, python_options=python_options),
                            env=environment(**(env or {})), capture_output=True, text=True,
                            errors="replace", timeout=timeout, cwd=str(CHECKOUT),
                            stdin=subprocess.DEVNULL)
    if check is not None and result.returncode != check:
        raise AssertionError(f"xivo-certs {' '.join(map(str, args))}: exit {result.returncode}, "
                             f"expected {check}\nstdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def popen(root, *args, **options):
    """The command started in its own process group (a kill of the group takes its hooks too),
    stdout and stderr piped (bytes)."""
    return subprocess.Popen(argv(root, *args), env=environment(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=str(CHECKOUT),
                            start_new_session=True, **options)
