"""Races: concurrent commands, a burst of changes made by hand, a file changing while it is read.

- 8 concurrent mixed commands (generate/install/sync/renew) end with one consistent pair, the
  override matching it, and the hooks run exactly once per change (a recording hook counts them).
- 200 changes by hand, about 100 a second (certificates copied with cp, settings rewritten, conf.d
  directories appearing) while syncs run back to back, as the path unit would start them, until
  at least 5 syncs ran during the burst; the sync after the burst converges. (systemd cannot run
  here: the test plays the path unit.)
- A certificate replaced while sync reads it is noticed by the next sync.
"""

import itertools
import os
import random
import shutil
import threading
import time

from hardening_lib import AdminPair, check_consistent, make_ca, make_root
from support.command import environment as command_env
from support.facts import fingerprint as fingerprint_of


def admins(directory):
    ca = make_ca()
    return [AdminPair(directory, "vm", ("vm",), issuer=ca, chain=[ca.cert]),
            AdminPair(directory, "pbx", ("pbx.example.com",), issuer=ca, chain=[ca.cert]),
            AdminPair(directory, "local", ("localhost", "pbx.example.com"))]


def check_hook_chain(runs, first, last):
    """Hook runs (previous, fingerprint, reason) are the changes in some order that goes from
    `first` to `last`, each change once."""
    assert len(set(runs)) == len(runs), f"a change ran its hooks twice: {runs}"
    for order in itertools.permutations(runs):
        if order[0][0] == first and order[-1][1] == last and \
                all(a[1] == b[0] for a, b in zip(order, order[1:])):
            return
    raise AssertionError(f"the hook runs are not one chain of changes from {first}: {runs}")


def test_eight_concurrent_mixed_commands(tmp_path):
    root = make_root(tmp_path / "root")
    root.run("generate", "--key-type", "ec:p256", check=0)
    rng = random.Random()
    total_changes = 0
    for round_number in range(3):
        # Pairs never installed before: each install changes the certificate. (Reusing a pair
        # of the last round could install the very certificate in place, which is no change.)
        pairs = admins(tmp_path / f"round-{round_number}")
        first = fingerprint_of(root.cert.read_bytes())
        runs_before = len(root.hook_runs())
        commands = [["generate", "--force", "--key-type", "ec:p256"],
                    ["generate", "--force", "--key-type", "ec:p256"],
                    pairs[round_number % 3].install_args(), pairs[(round_number + 1) % 3].install_args(),
                    ["sync"], ["sync"], ["renew"], ["renew"]]
        rng.shuffle(commands)
        processes = [root.popen(*argv) for argv in commands]
        results = [(argv, p.wait(timeout=120), p.communicate()[1].decode()) for argv, p in
                   zip(commands, processes)]
        for argv, code, stderr in results:
            assert code == 0, f"{argv}: exit {code}\n{stderr}"
        last = check_consistent(root)
        runs = root.hook_runs()[runs_before:]
        # every generate and install changed the certificate (to one not in place): 4 changes
        assert sorted(run[2] for run in runs) == ["generate"] * 2 + ["install-cert"] * 2, runs
        check_hook_chain(runs, first, last)
        total_changes += len(runs)
        assert root.run("sync").returncode == 0
        assert len(root.hook_runs()) == runs_before + 4, "a no-op sync ran the hooks"
    assert total_changes == 12


def copy_by_hand(pair, root):
    """What an admin does: cp over the files in place (not atomic)."""
    shutil.copyfile(pair.key_file, root.key)
    shutil.copyfile(pair.pem_file, root.cert)


SYNCS_DURING_THE_BURST = 5


def test_burst_of_200_changes_then_sync_converges(tmp_path):
    root = make_root(tmp_path / "root")
    root.run("generate", "--key-type", "ec:p256", check=0)
    pairs = admins(tmp_path / "in")
    for pair in pairs:
        pair.pem_file = tmp_path / "in" / f"{pair.cert_file.stem}-full.crt"
        pair.pem_file.write_bytes(pair.pem)
    settings = root / "etc/xivo-certs/xivo-certs.conf"
    done = threading.Event()
    syncs = []

    def path_unit():
        """Start sync again and again while changes come, as the path unit would."""
        import subprocess
        while not done.is_set():
            result = subprocess.run(root.argv("sync", "--quiet"), env=command_env(),
                                    capture_output=True, timeout=120)
            syncs.append(result.returncode)

    watcher = threading.Thread(target=path_unit)
    watcher.start()
    rng = random.Random()
    changes = 0
    started = time.monotonic()
    new_dirs = []
    try:
        # Ends on events, not on a time: 200 changes made, and syncs run while they were made.
        while changes < 200 or len(syncs) < SYNCS_DURING_THE_BURST:
            kind = rng.random()
            if kind < 0.6:
                copy_by_hand(rng.choice(pairs), root)
            elif kind < 0.8:
                settings.write_text(f"# change {changes}\nrestart_services = no\n")
            else:
                directory = root / f"etc/wazo-burst{changes}/conf.d"
                directory.mkdir(parents=True)
                new_dirs.append(directory)
            changes += 1
            time.sleep(0.01)  # the pace of the changes: the outcome does not depend on it
    finally:
        elapsed = time.monotonic() - started
        done.set()
        watcher.join()
    final = fingerprint_of(root.cert.read_bytes())
    result = root.run("sync")
    assert result.returncode == 0, result.stderr
    check_consistent(root)
    assert root.hook_runs()[-1][1] == final or not root.hook_runs()
    state = root.run("status", "--json")
    assert final in state.stdout
    runs = len(root.hook_runs())
    assert root.run("sync").returncode == 0 and len(root.hook_runs()) == runs, "not a no-op"
    print(f"\nburst: {changes} changes in {elapsed:.2f} s, {len(syncs)} syncs during it "
          f"({syncs.count(0)} exit 0, {len(syncs) - syncs.count(0)} exit 1), "
          f"{len(new_dirs)} new conf.d dirs, {runs} hook runs")


def test_certificate_replaced_while_sync_reads_it(tmp_path, monkeypatch):
    """sync reads the pair, then it is replaced by hand before the state is written: the state must
    not record the new files' metadata with the old fingerprint (the next syncs would be blind)."""
    from xivo_certs import pair, state, sync
    from xivo_certs.context import Context, process_owner
    from xivo_certs.paths import Paths

    root = make_root(tmp_path / "root")
    root.run("generate", "--key-type", "ec:p256", check=0)
    first, second = admins(tmp_path / "in")[:2]
    root.run(*first.install_args(), check=0)

    def by_hand(pem, key):
        for path, data, mode in ((root.key, key, 0o640), (root.cert, pem, 0o644)):
            with open(f"{path}.tmp", "wb") as stream:
                os.fchown(stream.fileno(), 0, 33)
                os.fchmod(stream.fileno(), mode)
                stream.write(data)
            os.rename(f"{path}.tmp", path)

    by_hand(first.pem, first.key_bytes)  # the same pair, new inodes: sync has to read it
    moments = {"read": False, "replaced": False}
    real_read, real_stamps, real_write = pair.read, state.current_stamps, state.write

    def replace_once():
        if moments["read"] and not moments["replaced"]:
            moments["replaced"] = True
            by_hand(second.pem, second.key_bytes)

    def read(paths):
        found = real_read(paths)  # the key too
        moments["read"] = True
        return found

    def stamps(paths, confd_globs):  # the replacement lands between reading and taking the metadata...
        replace_once()
        return real_stamps(paths, confd_globs)

    def write(paths, owner, recorded):  # ... or, at the latest, just before the state is written
        replace_once()
        return real_write(paths, owner, recorded)

    monkeypatch.setattr(pair, "read", read)
    monkeypatch.setattr(state, "current_stamps", stamps)
    monkeypatch.setattr(state, "write", write)
    paths = Paths(str(root.path))
    sync.sync(Context(paths, process_owner(paths)))  # (its hooks are not run here)
    monkeypatch.undo()
    assert moments["replaced"]
    result = root.run("sync")
    assert result.returncode == 0, result.stderr
    assert root.hook_runs()[-1][1] == second.fingerprint, "the replaced certificate went unnoticed"
    check_consistent(root)
