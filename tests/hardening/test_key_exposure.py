"""The private key is never readable beyond root:www-data 0640, not even for an instant.

Another thread polls the pair's directory (os.listdir + os.lstat, no inotify) in a tight loop while
`generate --force` runs 50 times (and `install` 10 times; more until the poll has caught a
temporary key and seen the key 100 times): no file named like the key
(server.key, server.key.xivo-certs-new, ...) may ever show a mode wider than 0640, another owner
than root, or another group than root/www-data. The state directory and its files are polled too
(root only).
"""

import collections
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor

from hardening_lib import AdminPair, make_ca, make_root
from support.asserts import check_modes
from support.layout import WWW_DATA

GENERATES = 50
INSTALLS = 10
MAX_COMMANDS = 500  # a poll that catches nothing in that many is broken, not slow
GENERATE_EC = ["generate", "--force", "--key-type", "ec:p256"]


def test_key_never_readable_beyond_root_and_www_data(tmp_path):
    root = make_root(tmp_path / "root", hooks=False)
    root.run("generate", "--key-type", "ec:p256", check=0)
    ca = make_ca()
    admins = [AdminPair(tmp_path / "in", f"a{n}", (f"pbx{n}.example.com",), issuer=ca, chain=[ca.cert])
              for n in range(2)]
    pair_dir = os.path.dirname(root.paths.key)
    state_dir = root.paths.state_dir
    stop = threading.Event()
    seen = collections.Counter()
    violations = []

    def poll():
        while not stop.is_set():
            for directory, rule in ((pair_dir, "key"), (state_dir, "state")):
                try:
                    names = os.listdir(directory)
                except FileNotFoundError:
                    continue
                for name in names:
                    if rule == "key" and not name.startswith("server.key"):
                        continue
                    try:
                        info = os.lstat(os.path.join(directory, name))
                    except FileNotFoundError:
                        continue
                    mode = stat.S_IMODE(info.st_mode)
                    seen[name] += 1
                    wide = mode & ~(0o640 if rule == "key" else 0o600) if not stat.S_ISDIR(
                        info.st_mode) else mode & 0o077
                    if wide or info.st_uid != 0 or info.st_gid not in (0, WWW_DATA):
                        violations.append((name, oct(mode), info.st_uid, info.st_gid))

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        commands = []
        for number in range(GENERATES):
            commands.append(["generate", "--force", "--key-type",
                             "rsa:2048" if number % 10 == 0 else "ec:p256"])
            if number % (GENERATES // INSTALLS) == 0:
                commands.append(admins[number % 2].install_args())
        with ThreadPoolExecutor(2) as pool:  # two at a time: they queue on the lock
            results = list(pool.map(lambda argv: root.run(*argv), commands))
            # More runs until the poll has seen what it must (an event, not a count of runs that
            # a slower or busier machine might not reach): without it, nothing is proved.
            while not temporary_keys_seen(seen) or seen["server.key"] <= 100:
                assert len(results) < MAX_COMMANDS, \
                    f"the poll never caught a temporary key in {len(results)} commands: {dict(seen)}"
                results += pool.map(lambda argv: root.run(*argv), [GENERATE_EC] * 10)
    finally:
        stop.set()
        poller.join()
    for result in results:
        assert result.returncode == 0, result.stderr
    check_modes(root)
    print(f"\nkey exposure: {len(results)} commands, files seen: {dict(seen)}")
    assert not violations, violations[:10]


def temporary_keys_seen(seen):
    return sum(n for name, n in seen.items() if name != "server.key" and name.startswith("server.key"))
