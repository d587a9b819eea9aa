"""Waiting on flock(2) as an event, not a time: the kernel lists a process blocked on a lock as
a waiter ("->") in /proc/locks."""

import os
import time


def waits_on_flock(pid, path):
    """Whether process `pid` is blocked in flock(2) on the file at `path`."""
    inode = str(os.stat(path).st_ino)
    with open("/proc/locks", encoding="ascii") as locks:
        for line in locks:
            fields = line.split()  # "1: -> FLOCK ADVISORY WRITE PID MAJOR:MINOR:INODE 0 EOF"
            if len(fields) > 6 and fields[1:3] == ["->", "FLOCK"] and fields[5] == str(pid) \
                    and fields[6].rsplit(":", 1)[-1] == inode:
                return True
    return False


def blocked_or_done(process, path):
    """Wait until `process` (a Popen) ends or blocks on the lock file `path`: "blocked", or its
    exit status."""
    while process.poll() is None:
        if os.path.exists(path) and waits_on_flock(process.pid, path):
            return "blocked"
        time.sleep(0.01)  # a poll interval: the outcome never depends on it
    return process.returncode
