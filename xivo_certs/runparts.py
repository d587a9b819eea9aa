"""Run a directory with run-parts: its stderr read until run-parts ends (not until every process
holding the pipe closes it: a hook may leave a child behind), each hook killed, with run-parts,
the processes they started and the hooks after it, once it ran longer than the timeout.

run-parts stays in the command's process group: a kill of the group (a power cut, as the crash
tests make it) still takes the hooks too."""

import os
import re
import selectors
import signal
import subprocess
import time
import typing
from typing import NamedTuple, Optional

EXECUTING = re.compile(r"^run-parts: executing (?P<path>.+)$")


class Outcome(NamedTuple):
    returncode: int  # run-parts' exit status; negative: killed by that signal
    lines: list  # what run-parts and the hooks wrote on stderr, but the `executing` lines
    timed_out: Optional[str]  # the hook killed for running too long, else None


def run(run_parts, directory, env, stdout, timeout):
    """Run `run_parts --verbose directory`; an Outcome."""
    process = subprocess.Popen([run_parts, "--verbose", directory], env=env, stdin=subprocess.DEVNULL,
                               stdout=stdout, stderr=subprocess.PIPE)
    stderr = typing.cast(typing.IO[bytes], process.stderr)
    exited = os.pidfd_open(process.pid)
    try:
        raw, timed_out = _watch(process, stderr.fileno(), exited, timeout)
    except BaseException:
        _kill_tree(process.pid)  # nothing left running behind a command that failed
        process.wait()
        raise
    finally:
        os.close(exited)
        stderr.close()
    lines, current = [], None
    for line in raw.decode(errors="replace").splitlines():
        match = EXECUTING.match(line)
        if match:
            current = match["path"]
        else:
            lines.append(line)
    return Outcome(process.wait(), lines, os.path.basename(current or "") if timed_out else None)


def _watch(process, pipe, exited, timeout):
    """Read run-parts' stderr until it exits, or kill it and its descendants once a hook has run for
    `timeout` seconds (a `run-parts: executing` line starts each hook); (the bytes, timed out)."""
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
                _kill_tree(process.pid)
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


def _kill_tree(pid):
    """SIGKILL `pid` and every process descending from it. Each is stopped as soon as it is found,
    so that none forks a child the search has not seen, then all are killed."""
    stopped: set = set()
    while True:
        found = _descendants(pid) | {pid}
        if found <= stopped:
            break
        for process in found - stopped:
            _signal(process, signal.SIGSTOP)
        stopped |= found
    for process in stopped:
        _signal(process, signal.SIGKILL)


def _descendants(pid):
    """The pids of every process descending from `pid` (from /proc)."""
    children: dict = {}
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                parent = int(stat.read().rsplit(b")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # not a process, or one that ended meanwhile
        children.setdefault(parent, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _signal(pid, number):
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass
