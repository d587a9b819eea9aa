"""Run a directory with run-parts: its stderr read until run-parts ends (not until every process
holding the pipe closes it: a hook may leave a child behind), each hook killed, with run-parts and
the hooks after it, once it ran longer than the timeout."""

import os
import re
import selectors
import signal
import subprocess
import time
from typing import NamedTuple, Optional

EXECUTING = re.compile(r"^run-parts: executing (?P<path>.+)$")


class Outcome(NamedTuple):
    returncode: int  # run-parts' exit status; negative: killed by that signal
    lines: list  # what run-parts and the hooks wrote on stderr, but the `executing` lines
    timed_out: Optional[str]  # the hook killed for running too long, else None


def run(run_parts, directory, env, stdout, timeout):
    """Run `run_parts --verbose directory` (its own process group); an Outcome."""
    process = subprocess.Popen([run_parts, "--verbose", directory], env=env, stdin=subprocess.DEVNULL,
                               stdout=stdout, stderr=subprocess.PIPE, start_new_session=True)
    exited = os.pidfd_open(process.pid)
    try:
        raw, timed_out = _watch(process, exited, timeout)
    finally:
        os.close(exited)
        process.stderr.close()
    lines, current = [], None
    for line in raw.decode(errors="replace").splitlines():
        match = EXECUTING.match(line)
        if match:
            current = match["path"]
        else:
            lines.append(line)
    return Outcome(process.wait(), lines, os.path.basename(current or "") if timed_out else None)


def _watch(process, exited, timeout):
    """Read run-parts' stderr until it exits, or kill its process group once a hook has run for
    `timeout` seconds (a `run-parts: executing` line starts each hook); (the bytes, timed out)."""
    pipe = process.stderr.fileno()
    os.set_blocking(pipe, False)
    chunks, started = [], 0
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(pipe, selectors.EVENT_READ)
        selector.register(exited, selectors.EVENT_READ)
        while True:
            ready = {key.fd for key, _ in selector.select(max(0.0, deadline - time.monotonic()))}
            if pipe in ready:
                chunk = _read(pipe)
                if not chunk:
                    selector.unregister(pipe)  # closed by every holder
                chunks.append(chunk)
                begun = b"".join(chunks).count(b"run-parts: executing ")
                if begun > started:  # another hook started: its own time
                    started, deadline = begun, time.monotonic() + timeout
            if exited in ready:
                chunks.append(_read(pipe))  # what run-parts wrote before it ended
                return b"".join(chunks), False
            if time.monotonic() >= deadline:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                chunks.append(_read(pipe))
                return b"".join(chunks), True


def _read(fd):
    """What the pipe holds now (b"" at its end or when it is empty)."""
    data = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            break
        if not chunk:
            break
        data.append(chunk)
    return b"".join(data)
