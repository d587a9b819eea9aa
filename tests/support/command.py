"""Running the real command: `/usr/bin/python3 -I -B tests/support/bin/xivo-certs --root ROOT ARGS`
(LAUNCHER: the checkout's bin/xivo-certs in isolated mode, as installed) with a clean environment
(LAUNCHER's directory first on PATH, for hooks a test runs by hand; without root, the test user as
the owner of the files, see support.owners)."""

import os
import subprocess
from pathlib import Path

from .layout import CHECKOUT, PYTHON
from .owners import AS_ROOT, OWNER_ENV

LAUNCHER = Path(__file__).resolve().parent / "bin" / "xivo-certs"


def environment(**extra):
    # PYTHONPATH: for the tests that run `python3 bin/xivo-certs` without -I
    env = {"PATH": f"{LAUNCHER.parent}:/usr/sbin:/usr/bin:/sbin:/bin",
           "PYTHONPATH": str(CHECKOUT), "PYTHONDONTWRITEBYTECODE": "1",
           "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
           "HOME": "/root" if AS_ROOT else os.environ.get("HOME", "/"), **OWNER_ENV}
    env.update(extra)
    return env


def argv(root, *args, python_options=()):
    return [PYTHON, "-I", "-B", *python_options, str(LAUNCHER), "--root", str(root), *map(str, args)]


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
