"""Crash at any instant: kill -9 (the whole process group: the command, run-parts and the hooks)
`generate --force`, `install`, `revert` and `sync` after a random delay spread over the whole run.

Right after each kill:
  - the key (and any temporary key file) is never wider than 0640, never another owner than root or
    another group than root/www-data;
  - the certificate and the key on disk are each complete, and each the old one or the new one;
  - with no commit in progress (no `pending`), the pair is the old one or the new one and matches;
    with `pending` there (killed between the two renames of the commit), the next command finishes it;
  - an admin's pair that is no longer in place has a complete backup.
Then `sync` (what runs after every apt run) must succeed and leave everything consistent: no
`*.xivo-certs-new` file, no `pending`, the pair old or new with a matching key and the table's
modes, the state recording it, the override and links matching it.

Two kills of each operation are aimed at events, not times, so that the kills fall on both sides
of the commit whatever the machine's speed (a first run on a fresh machine, with cold caches, once
failed the time-based check): one right after the command started (before the commit), one once a
hook announced it runs (after the change was recorded, the hooks owed). The others are spread in
time: their delays are stratified over [0, 1.1 x the operation's duration measured on warm runs];
a run that ends before its kill is checked like the others, then tried again (up to 4 times) with
the duration estimate moved toward what it took and the delay halved each time. Which side of the
commit a time-based kill falls on is counted, never asserted.

XIVO_CERTS_CRASH_RUNS sets the number of runs (default 24; the full run is 200 or more).
"""

import collections
import os
import random
import signal
import subprocess
import stat
import threading
import time
import traceback

from hardening_lib import AdminPair, check_consistent, make_ca, make_root
from support.asserts import check_modes
from support.certs import load_cert, load_key
from support.facts import fingerprint as fingerprint_of, key_matches
from support.layout import WWW_DATA

RUNS = int(os.environ.get("XIVO_CERTS_CRASH_RUNS", "24"))
WORKERS = 2
OPERATIONS = ("generate", "install", "revert", "sync")
UNCHANGED = "killed before the commit, or sync before its hooks (pair unchanged)"
HOOKS_OWED = "killed after the change was recorded, before the hooks ended (hooks owed)"
AT_START, IN_HOOKS = "at-start", "in-hooks"  # the events the kills are aimed at, besides times
EVENT_OUTCOMES = {AT_START: UNCHANGED, IN_HOOKS: HOOKS_OWED}
PAUSING_HOOK = """#!/bin/sh
# Announces that the hooks run, then waits to be killed (only when the test asks for it).
[ -e "$XIVO_CERTS_ROOT/pause-in-hooks" ] || exit 0
rm -f "$XIVO_CERTS_ROOT/pause-in-hooks"
: > "$XIVO_CERTS_ROOT/in-hooks"
exec sleep 600
"""
SEED = int(os.environ.get("XIVO_CERTS_CRASH_SEED", str(int(time.time()))))


class Worker:
    """One temporary root, crashed again and again."""

    def __init__(self, base, number, rng):
        self.rng = rng
        self.root = make_root(base / f"root{number}")
        hook = self.root / "etc/xivo-certs/hooks.d/00-pause"
        hook.write_text(PAUSING_HOOK)
        os.chmod(hook, 0o755)
        ca = make_ca()
        inputs = base / f"in{number}"
        self.admins = [
            AdminPair(inputs, "vm", ("vm",), issuer=ca, chain=[ca.cert]),       # override needed
            AdminPair(inputs, "pbx", ("pbx.example.com", "voip.example.com"), issuer=ca,
                      chain=[ca.cert]),                                         # another override
            AdminPair(inputs, "local", ("localhost", "pbx.example.com")),       # no override
        ]
        self.root.run("generate", "--key-type", "ec:p256", check=0)
        self.durations = {}
        self.outcomes = collections.Counter()
        self.event_outcomes = []  # (event, operation, outcome) of the kills aimed at events
        self.finished_first = 0  # runs that ended before their kill (checked, then tried again)

    # --- what the pair is -------------------------------------------------------------

    def current(self):
        return self.root.cert.read_bytes(), self.root.key.read_bytes()

    def is_default(self):
        return self.root.state().generated_fingerprint == \
            fingerprint_of(self.root.cert.read_bytes())

    def other_admin(self):
        current = fingerprint_of(self.root.cert.read_bytes())
        return self.rng.choice([a for a in self.admins if a.fingerprint != current])

    # --- preparing and running one operation --------------------------------------------

    def prepare(self, operation):
        """Set the scene; the argv to crash and what the new pair will be (None: a fresh default)."""
        if operation == "generate":
            key_type = self.rng.choice(("ec:p256", "rsa:2048"))
            return ["generate", "--force", "--key-type", key_type], None
        if operation == "install":
            admin = self.other_admin()
            return admin.install_args(), admin
        if operation == "revert":
            if self.is_default():
                self.root.run(*self.other_admin().install_args(), check=0)
            return ["revert"], None
        admin = self.other_admin()  # sync: a pair copied by hand, key born 0600 root:root
        for path, data, mode in ((self.root.key, admin.key_bytes, 0o600),
                                 (self.root.cert, admin.pem, 0o644)):
            temporary = f"{path}.by-hand"
            with open(temporary, "wb") as stream:
                os.fchmod(stream.fileno(), mode)
                stream.write(data)
            os.rename(temporary, path)
        return ["sync"], admin

    def calibrate(self, rounds=2):
        """How long each operation takes uncrashed, hooks included (the kill delays span it),
        timed on warm runs: the first round, with cold caches, is not timed."""
        for number, operation in enumerate(OPERATIONS * (rounds + 1)):
            argv, _ = self.prepare(operation)
            started = time.monotonic()
            self.root.run(*argv, check=0)
            if number >= len(OPERATIONS):
                self.durations[operation] = self.durations.get(operation, 0) + \
                    (time.monotonic() - started) / rounds
            check_consistent(self.root)

    def crash(self, operation, when):
        """Run `operation` and kill it `when`: a fraction of its duration, or an event (AT_START,
        IN_HOOKS); check what the kill left, then repair. Whether it was killed (not ended first)."""
        argv, admin = self.prepare(operation)
        old_cert, old_key = self.current()
        old_was_default = self.is_default()
        if when == IN_HOOKS:
            (self.root / "pause-in-hooks").touch()
        started = time.monotonic()
        process = self.root.popen(*argv)
        self.wait_for(process, operation, when)
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        elapsed = time.monotonic() - started
        process.communicate()
        finished = process.returncode == 0  # (it may also have ended just before the kill)
        assert finished or process.returncode == -signal.SIGKILL, process.returncode
        moment = self.check_after_kill(operation, old_cert, old_key, old_was_default, admin)
        for marker in ("pause-in-hooks", "in-hooks"):
            (self.root / marker).unlink(missing_ok=True)
        if finished and isinstance(when, float):  # too late: aim at the durations seen lately
            self.durations[operation] = (self.durations[operation] + elapsed) / 2
            self.finished_first += 1
        elif isinstance(when, str):
            self.event_outcomes.append((when, operation, None if finished else moment))
        if not finished:
            self.outcomes[moment] += 1
        result = self.root.run("sync")
        assert result.returncode == 0, f"repairing sync: exit {result.returncode}\n{result.stderr}"
        check_consistent(self.root)
        cert, key = self.current()
        if admin is not None:
            assert cert in (old_cert, admin.pem), "the pair is neither the old nor the new one"
        elif cert != old_cert:
            assert self.is_default(), "the new pair is not the default one"
        assert cert == old_cert or key != old_key, "new certificate with the old key"
        return not finished

    def wait_for(self, process, operation, when):
        """Return at the moment to kill: right away (AT_START), once a hook announced it runs or
        the command ended (IN_HOOKS), or after the delay (a fraction of the duration)."""
        if when == IN_HOOKS:
            while process.poll() is None and not (self.root / "in-hooks").exists():
                time.sleep(0.002)  # a poll interval: where the kill lands does not depend on it
        elif when != AT_START:
            try:
                process.wait(timeout=when * self.durations[operation] * 1.1)
            except subprocess.TimeoutExpired:
                pass

    def check_after_kill(self, operation, old_cert, old_key, old_was_default, admin):
        root = self.root
        directory = os.path.dirname(root.paths.key)
        for name in os.listdir(directory):
            if name.startswith("server.key"):
                info = os.lstat(os.path.join(directory, name))
                assert info.st_uid == 0 and info.st_gid in (0, WWW_DATA), f"{name}: owner"
                assert not stat.S_IMODE(info.st_mode) & ~0o640, \
                    f"{name}: mode {stat.S_IMODE(info.st_mode):04o}"
        check_modes(root, exact=False)  # regular files, root's, never wider than the table's
        cert_bytes, key_bytes = self.current()
        cert, key = load_cert(root.cert), load_key(root.key)  # each file complete
        new_cert = admin.pem if admin else None
        assert cert_bytes == old_cert or new_cert is None or cert_bytes == new_cert, \
            "the certificate is neither the old nor the new one"
        committing = os.path.exists(root.paths.pending)
        if not committing:
            assert key_matches(cert, key), f"{operation}: mismatched pair and no commit in progress"
        if not old_was_default and cert_bytes != old_cert:
            assert backed_up(root, old_cert, old_key), "the admin's pair was replaced without backup"
        if committing:
            return "killed inside the commit (pending there; next command finishes it)"
        if os.path.exists(root.paths.hooks_due):
            return HOOKS_OWED
        if cert_bytes == old_cert and key_bytes == old_key:
            return UNCHANGED
        return "killed after the hooks (new pair in place)"


def backed_up(root, cert, key):
    for directory, _, names in os.walk(root.paths.backups):
        if "server.crt" in names and "server.key" in names:
            with open(os.path.join(directory, "server.crt"), "rb") as c, \
                    open(os.path.join(directory, "server.key"), "rb") as k:
                if c.read() == cert and k.read() == key:
                    return True
    return False


def test_kill_minus_nine_at_any_instant(tmp_path):
    rng = random.Random(SEED)
    workers = [Worker(tmp_path, n, random.Random(rng.random())) for n in range(WORKERS)]
    for worker in workers:
        worker.calibrate()
    # stratified delays: run i of an operation falls in slice i of [0, 1.1 x its mean duration]
    plan = collections.defaultdict(list)
    events = [(operation, event) for event in EVENT_OUTCOMES for operation in OPERATIONS]
    for number, (operation, event) in enumerate(events):
        plan[number % WORKERS].append((operation, event))
    per_operation = collections.Counter()
    for number in range(RUNS):
        operation = OPERATIONS[number % len(OPERATIONS)]
        plan[number % WORKERS].append((operation, per_operation[operation]))
        per_operation[operation] += 1
    errors = []

    def work(worker, runs):
        when = None
        try:
            for operation, index in runs:
                if isinstance(index, str):
                    when = index
                    worker.crash(operation, when)
                    continue
                # A run that ended before its kill is tried again, aimed earlier each time: the
                # kill then lands inside a run however much its duration varies from the estimate.
                for attempt in range(4):
                    when = (index + worker.rng.random()) / per_operation[operation] / 2 ** attempt
                    if worker.crash(operation, when):
                        break
        except BaseException as error:  # reported by the main thread
            errors.append((operation, when, error))

    threads = [threading.Thread(target=work, args=(w, plan[n])) for n, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = sum((w.outcomes for w in workers), collections.Counter())
    print(f"\ncrash runs: {RUNS} timed and {len(events)} aimed at events (seed {SEED}); "
          f"timed per operation {dict(per_operation)}; "
          f"durations {[{k: round(v, 2) for k, v in w.durations.items()} for w in workers]}")
    for outcome, count in sorted(outcomes.items()):
        print(f"  {outcome}: {count}")
    print(f"  (and {sum(w.finished_first for w in workers)} runs that ended before their kill, "
          "checked and tried again)")
    if errors:
        operation, when, error = errors[0]
        trace = "".join(traceback.format_exception(error))
        raise AssertionError(f"{operation} killed at {when} of its run: {error!r}\n{trace}")
    # The kills aimed at events fell where they were aimed: on both sides of the commit.
    events = [(event, operation, outcome) for w in workers for event, operation, outcome in w.event_outcomes]
    assert sorted(events) == sorted((event, operation, EVENT_OUTCOMES[event])
                                    for operation in OPERATIONS for event in EVENT_OUTCOMES), events


KILLER_HOOK = """#!/bin/sh
# Dies like a power cut in the middle of the hooks: kill -9 the whole process group.
[ -e "$XIVO_CERTS_ROOT/kill-hooks" ] || exit 0
rm -f "$XIVO_CERTS_ROOT/kill-hooks"
kill -KILL 0
"""


def test_hooks_cut_short_by_a_crash_run_again_at_the_next_sync(tmp_path):
    """The state records the new certificate before the hooks run; a crash during the hooks must
    not lose them: the next sync runs them (once), so the override follows the certificate."""
    root = make_root(tmp_path / "root")
    hook = root / "etc/xivo-certs/hooks.d/05-power-cut"
    hook.write_text(KILLER_HOOK)
    os.chmod(hook, 0o755)
    root.run("generate", "--key-type", "ec:p256", check=0)
    ca = make_ca()
    admin = AdminPair(tmp_path / "in", "pbx", ("pbx.example.com",), issuer=ca, chain=[ca.cert])
    (root / "kill-hooks").touch()
    process = root.popen(*admin.install_args())
    process.communicate(timeout=60)
    assert process.returncode == -9
    assert root.cert.read_bytes() == admin.pem and not root.override.exists()
    runs_before = len(root.hook_runs())
    assert root.run("sync").returncode == 0
    check_consistent(root)
    runs = root.hook_runs()[runs_before:]
    assert [run[1] for run in runs] == [admin.fingerprint], runs
    assert root.run("sync").returncode == 0  # and only once
    assert len(root.hook_runs()) == runs_before + 1
