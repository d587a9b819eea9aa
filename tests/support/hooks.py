"""The recording hook: a hook script that records the XIVO_CERTS_* environment of each run, one
file per run in a log directory, named by the time (in nanoseconds) the run started; and the
reader of those records.

The log directory is a parameter, as the hook sees it: a host path for a temporary root, a path
inside the chroot for the package roots (read back through the host's view of it).
"""

import os
from pathlib import Path

from xivo_certs.context import TEST_OWNER  # what the suites give the command without root: no hook's

SCRIPT = """#!/bin/sh
# Test hook (tests/support/hooks.py): records the XIVO_CERTS_* environment of each run.
# One file per run, named by the time it started (and the pid: hooks of concurrent commands).
log='{log}'
run="$(date +%s%N)-$$"
mkdir -p "$log"
env | grep '^XIVO_CERTS_' | LC_ALL=C sort > "$log/.$run"
mv "$log/.$run" "$log/$run"
"""


def script(log):
    """The hook's text, recording into the directory `log`."""
    if "'" in str(log):
        raise ValueError(f"no quote in the log directory: {log!r}")
    return SCRIPT.format(log=log)


def install(hooks_dir, log, hook_name="50-record"):
    """Put the recording hook in `hooks_dir` (a host path); its path."""
    hook = Path(hooks_dir) / hook_name
    hook.write_text(script(log))
    hook.chmod(0o755)
    return hook


def runs(log):
    """The environment (XIVO_CERTS_* only, but TEST_OWNER) of each recorded run, in order: a list
    of dicts."""
    if not os.path.isdir(log):
        return []
    result = []
    for run in sorted(Path(log).glob("[0-9]*")):
        variables = {}
        for line in run.read_text().splitlines():
            key, _, value = line.partition("=")
            if key != TEST_OWNER:
                variables[key] = value
        result.append(variables)
    return result


def fields(log, *variables):
    """Of each recorded run, the values of `variables` (names without XIVO_CERTS_), the empty
    ones left out: a list of lists."""
    return [[run[f"XIVO_CERTS_{v}"] for v in variables if run.get(f"XIVO_CERTS_{v}")]
            for run in runs(log)]
