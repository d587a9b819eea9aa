"""xivo_certs.hooks and the shipped hooks: run-parts' name rules and order, failures reported by
name and exit code, untrusted hooks not run, the environment, once per change, never on a no-op."""

import os
import re
import select
import shutil
import signal
import subprocess

import pytest

from support import command
from support.certs import make_cert, name as cert_name
from support.facts import fingerprint
from support.layout import CHECKOUT, HOOK_VARIABLES, SHIPPED_HOOKS
from support.owners import AS_ROOT
from xivo_certs import hooks, tools

ORDER_HOOK = """#!/bin/sh
echo {name} >> "{log}"
exit {code}
"""


def add_order_hook(root, name, code=0, mode=0o755):
    log = root.log.parent / "order"
    return root.add_hook(name, ORDER_HOOK.format(name=name, log=log, code=code), mode)


def order(root):
    path = root.log.parent / "order"
    return path.read_text().split() if path.exists() else []


def test_run_parts_runs_only_proper_names_in_order(root, xc):
    for name in ("30-third", "10-first", "20_second", "40-old.dpkg-old", "41-new.dpkg-dist",
                 "42-edited~", ".hidden", "43.sh"):
        add_order_hook(root, name)
    add_order_hook(root, "25-not-executable", mode=0o644)
    add_order_hook(root, "README", mode=0o644)  # as shipped: its name alone would let it run
    assert xc("ensure").code == 0
    assert order(root) == ["10-first", "20_second", "30-third"]
    assert len(root.hook_runs()) == 1  # 50-record


def test_a_failing_hook_is_named_later_hooks_still_run_and_the_command_fails(root, xc):
    add_order_hook(root, "20-fails", code=3)
    add_order_hook(root, "60-later")
    result = xc("ensure")
    assert result.code == 1
    assert result.err_lines == ["xivo-certs: hook 20-fails (exit code 3) failed"]
    assert order(root) == ["20-fails", "60-later"]
    assert len(root.hook_runs()) == 1
    assert root.state().fingerprint == fingerprint(root.certs()[0])  # the change itself is done


def test_hooks_nonfatal_makes_a_failure_a_warning(root, xc):
    add_order_hook(root, "20-fails", code=7)
    result = xc("ensure", "--hooks-nonfatal")
    assert result.code == 0
    assert result.err_lines == ["xivo-certs: warning: hook 20-fails (exit code 7) failed"]
    assert order(root) == ["20-fails"]


def test_every_failing_hook_is_reported(root, xc):
    add_order_hook(root, "20-fails", code=1)
    add_order_hook(root, "70-fails-too", code=2)
    result = xc("ensure")
    assert result.code == 1
    assert result.err_lines == ["xivo-certs: hook 20-fails (exit code 1) failed",
                                "xivo-certs: hook 70-fails-too (exit code 2) failed"]


@pytest.mark.parametrize("what", ["directory group-writable", "directory other-writable",
                                  "hook group-writable", "hook owned by a user"])
def test_untrusted_hooks_are_not_run_and_the_command_says_why(root, xc, what):
    if what == "hook owned by a user" and not AS_ROOT:
        pytest.skip("chown to another user needs root (tests/hardening covers it)")
    hook = add_order_hook(root, "20-hook")
    culprit = root.hooks
    if what == "directory group-writable":
        root.hooks.chmod(0o775)
    elif what == "directory other-writable":
        root.hooks.chmod(0o757)
    elif what == "hook group-writable":
        hook.chmod(0o775)
        culprit = hook
    else:
        os.chown(hook, 1000, 1000)
        culprit = hook
    result = xc("ensure")
    assert result.code == 1
    assert result.err_lines == [f"xivo-certs: {culprit}: writable by a user other than root: hooks not "
                                "run (they run as root; chown root and chmod go-w to trust them)"]
    assert order(root) == [] and root.hook_runs() == []


def test_files_run_parts_ignores_are_not_judged(root, xc):
    add_order_hook(root, "20-hook")
    loose = add_order_hook(root, "21-x.dpkg-old")
    loose.chmod(0o777)
    assert xc("ensure").code == 0
    assert order(root) == ["20-hook"]


def test_without_run_parts_the_command_says_so(root, xc, monkeypatch, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setattr(tools, "SYSTEM_PATH", str(empty))  # where the command looks, not PATH
    result = xc("ensure")
    assert result.code == 1
    assert result.err_lines == [f"xivo-certs: {root.hooks}: run-parts not found in {empty} (package "
                                "debianutils): hooks not run"]
    assert root.hook_runs() == []


def test_no_hooks_directory_is_no_hook(root, xc):
    shutil.rmtree(root.hooks)
    assert xc("ensure").code == 0


def test_hook_output_goes_to_stderr_and_quiet_sync_drops_it(root, xc, keys):
    root.add_hook("20-talk", "#!/bin/sh\necho talking on stdout\necho talking on stderr >&2\n")
    result = xc("ensure")
    assert result.out.count("talking") == 0  # stdout may be debconf's: hooks never write there
    assert "talking on stdout" in result.err and "talking on stderr" in result.err
    (root / "etc/xivo-newd/conf.d").mkdir(parents=True)
    result = xc("sync", "--quiet")
    assert result.code == 0
    assert "talking on stdout" not in result.out + result.err
    assert len(root.hook_runs()) == 2


def test_hooks_run_once_per_change_and_never_on_a_no_op(root, xc):
    assert xc("ensure").code == 0
    for args in (["ensure"], ["sync"], ["renew"], ["revert"], ["status"], ["sync", "--quiet"],
                 ["ensure", "--reason", "upgrade"]):
        xc(*args)
    assert len(root.hook_runs()) == 1
    assert xc("generate").code == 0
    assert len(root.hook_runs()) == 2
    runs = root.hook_runs()
    assert runs[1]["XIVO_CERTS_PREVIOUS_FINGERPRINT"] == runs[0]["XIVO_CERTS_FINGERPRINT"]
    assert all(sorted(run) == sorted(HOOK_VARIABLES) for run in runs)


def test_the_hook_environment_is_the_documented_one(root, xc):
    # every variable the man page's HOOKS section lists, and no other XIVO_CERTS_ one (the
    # ENVIRONMENT section's XIVO_CERTS_TEST_OWNER is no hook's)
    pod = (CHECKOUT / "xivo-certs.8.pod").read_text()
    hooks = pod.split("\n=head1 HOOKS\n", 1)[1].split("\n=head1 ", 1)[0]
    documented = {m for line in hooks.splitlines() if line.startswith("=item B<XIVO_CERTS_")
                  for m in re.findall(r"B<(XIVO_CERTS_[A-Z0-9_]+)>", line)}
    assert documented == set(HOOK_VARIABLES)
    assert xc("ensure", "--reason", "reconfigure").code == 0
    [run] = root.hook_runs()
    assert set(run) == documented
    assert run["XIVO_CERTS_REASON"] == "reconfigure"


# --- the shipped hooks -------------------------------------------------------------------------------------

RESTART = SHIPPED_HOOKS / "90-restart-services"


def run_restart_hook(tmp_path, previous, current, restart="no", xivo_service=False, extra_env=None):
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    calls = tmp_path / "xivo-service.calls"
    if xivo_service:
        fake = bindir / "xivo-service"
        fake.write_text(f'#!/bin/sh\necho "$@" >> "{calls}"\n')
        fake.chmod(0o755)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "XIVO_CERTS_PREVIOUS_FINGERPRINT": previous,
           "XIVO_CERTS_FINGERPRINT": current, "XIVO_CERTS_RESTART_SERVICES": restart, **(extra_env or {})}
    result = subprocess.run(["sh", str(RESTART)], env=env, capture_output=True, text=True)
    return result, (calls.read_text() if calls.exists() else None)


def test_restart_hook_by_default_only_says_a_restart_is_needed(tmp_path):
    result, calls = run_restart_hook(tmp_path, "aa", "bb", xivo_service=True)
    assert result.returncode == 0
    assert result.stdout == ("xivo-certs: the certificate changed: restart the XiVO services to use it "
                             "(xivo-service restart all)\n")
    assert calls is None


def test_restart_hook_restarts_when_the_setting_says_so(tmp_path):
    result, calls = run_restart_hook(tmp_path, "aa", "bb", restart="yes", xivo_service=True)
    assert result.returncode == 0
    assert "restarting the XiVO services" in result.stdout
    assert calls == "restart all\n"


def test_restart_hook_never_restarts_at_boot(tmp_path):
    """xivo-certs-recover.service runs before the services: a restart from there would deadlock."""
    result, calls = run_restart_hook(tmp_path, "aa", "bb", restart="yes", xivo_service=True,
                                     extra_env={"XIVO_CERTS_BOOT": "yes"})
    assert result.returncode == 0
    assert result.stdout == "xivo-certs: the certificate changed at boot: the XiVO services start with it\n"
    assert calls is None


def test_restart_hook_without_xivo_service_only_says_so(tmp_path):
    result, calls = run_restart_hook(tmp_path, "aa", "bb", restart="yes")
    assert result.returncode == 0 and "restart the XiVO services to use it" in result.stdout


@pytest.mark.parametrize("previous, current, pems", [
    ("", "bb", ("", "p1")), ("bb", "bb", ("p1", "p1")), ("bb", "bb", ("", "p1"))])
def test_restart_hook_is_silent_without_a_change_of_certificate(tmp_path, previous, current, pems):
    """The first certificate, the same file again (an expiry alert, a new conf.d), or a file
    whose hash was not recorded yet."""
    env = {"XIVO_CERTS_PREVIOUS_PEM_SHA256": pems[0], "XIVO_CERTS_PEM_SHA256": pems[1]}
    result, calls = run_restart_hook(tmp_path, previous, current, restart="yes", xivo_service=True,
                                     extra_env=env)
    assert (result.returncode, result.stdout, calls) == (0, "", None)


def test_restart_hook_restarts_when_only_the_chain_changed(tmp_path):
    """nginx serves the chain: a new one is served only after a restart."""
    env = {"XIVO_CERTS_PREVIOUS_PEM_SHA256": "p1", "XIVO_CERTS_PEM_SHA256": "p2"}
    result, calls = run_restart_hook(tmp_path, "bb", "bb", restart="yes", xivo_service=True,
                                     extra_env=env)
    assert (result.returncode, calls) == (0, "restart all\n")


@pytest.mark.parametrize("record, previous", [("ff aa pp\n", ("aa", "pp")), ("ff - pp\n", ("", "pp")),
                                              ("ff aa\n", ("aa", "")), ("ff\n", ("", ""))])
def test_owed_hooks_are_read_from_records_old_and_new(root, record, previous):
    """26.17 and before wrote `FINGERPRINT PREVIOUS`, or the fingerprint alone the first time."""
    os.makedirs(os.path.dirname(root.paths.hooks_due), exist_ok=True)
    with open(root.paths.hooks_due, "w") as due:
        due.write(record)
    assert hooks.owed(root.paths) == previous


def test_shipped_hooks_have_names_run_parts_runs_and_are_executable():
    import re
    shipped = sorted(p.name for p in SHIPPED_HOOKS.iterdir())
    assert shipped == ["10-hostname-override", "90-restart-services", "README"]
    for name in shipped[:2]:
        assert re.fullmatch(r"[A-Za-z0-9_-]+", name)
        assert os.access(SHIPPED_HOOKS / name, os.X_OK)
        assert (SHIPPED_HOOKS / name).read_text().startswith("#!/bin/sh\n")
    assert not os.access(SHIPPED_HOOKS / "README", os.X_OK)


def test_hostname_override_hook_runs_the_override_command_for_the_root(root, ordinary_ca, issued):
    leaf = issued("pbx.example.test")
    root.put_pair(leaf.cert, leaf.key, chain=[ordinary_ca.cert])
    env = dict(os.environ, XIVO_CERTS_ROOT=str(root))
    result = subprocess.run(["sh", str(SHIPPED_HOOKS / "10-hostname-override")], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert root.override_yaml()["dird"]["host"] == "pbx.example.test"


def test_a_hook_killed_by_a_signal_or_not_executable_is_named(root, xc):
    root.add_hook("20-killed", "#!/bin/sh\nkill -9 $$\n")
    root.add_hook("30-no-shebang", "echo no interpreter line\n")
    add_order_hook(root, "60-later")
    result = xc("ensure")
    assert result.code == 1
    assert "xivo-certs: hook 20-killed (signal 9) failed" in result.err_lines
    assert "xivo-certs: hook 30-no-shebang (exit code 1) failed" in result.err_lines
    assert not any("hook run-parts" in line for line in result.err_lines)
    assert order(root) == ["60-later"]


def test_a_hooks_directory_whose_parent_others_can_write_is_not_trusted(root, xc):
    add_order_hook(root, "20-hook")
    root.hooks.parent.chmod(0o775)
    result = xc("ensure")
    assert result.code == 1
    assert result.err_lines == [f"xivo-certs: {root.hooks.parent}: writable by a user other than root: "
                                "hooks not run (they run as root; chown root and chmod go-w to trust them)"]
    assert order(root) == [] and root.hook_runs() == []


CRASH_HOOK = """#!/bin/sh
# Test hook: once, kill -9 xivo-certs and its run-parts in the middle of the hooks (a power cut).
[ -e "{flag}" ] || exit 0
rm "{flag}"
kill -9 "$(cut -d' ' -f4 /proc/$PPID/stat)" "$PPID"
"""


def test_hooks_cut_short_by_a_crash_run_again_at_the_next_command(root, cmd, xc):
    assert xc("ensure").code == 0
    first = fingerprint(root.certs()[0])
    flag = root.log.parent / "crash-once"
    flag.touch()
    root.add_hook("40-crash", CRASH_HOOK.format(flag=flag))
    result = cmd("generate", "--key-type", "ec:p256")
    assert result.code == -9
    second = fingerprint(root.certs()[0])
    assert second != first and root.state().fingerprint == second
    assert len(root.hook_runs()) == 1  # 50-record never ran for the new certificate
    assert os.path.exists(root.paths.hooks_due)
    result = xc("sync")
    assert result.code == 0, result
    runs = root.hook_runs()
    assert len(runs) == 2
    assert (runs[1]["XIVO_CERTS_FINGERPRINT"], runs[1]["XIVO_CERTS_PREVIOUS_FINGERPRINT"]) == (second, first)
    assert not os.path.exists(root.paths.hooks_due)
    assert xc("sync").code == 0 and len(root.hook_runs()) == 2


def test_hooks_nonfatal_makes_untrusted_hooks_a_warning_for_postinst(root, xc):
    add_order_hook(root, "20-hook")
    root.hooks.chmod(0o775)
    result = xc("ensure", "--hooks-nonfatal")
    assert result.code == 0
    assert result.err_lines == [f"xivo-certs: warning: {root.hooks}: writable by a user other than root: "
                                "hooks not run (they run as root; chown root and chmod go-w to trust them)"]
    assert root.cert.exists() and order(root) == []


# --- links: checked where they lead (issue 12, item 1) -------------------------------------------

def refused_link(link, target, through, warning=False):
    """The one line of a hook (or hooks.d) linked through a directory others can write."""
    return (f"xivo-certs: {'warning: ' if warning else ''}{link}: a link to {target}, through {through}, "
            "which a user other than root can write: hooks not run (they run as root; chown root and "
            "chmod go-w to trust them)")


def test_a_hook_linked_through_a_directory_others_can_write_is_not_run(root, xc, tmp_path):
    vendor = tmp_path / "vendor"
    vendor.mkdir(mode=0o775)
    vendor.chmod(0o775)  # the group may swap the target after the check
    target = vendor / "hook"
    target.write_text(ORDER_HOOK.format(name="vendor", log=root.log.parent / "order", code=0))
    target.chmod(0o755)
    link = root.hooks / "20-vendor"
    link.symlink_to(target)
    result = xc("ensure")
    assert result.code == 1
    assert result.err_lines == [refused_link(link, target, vendor)]
    assert order(root) == [] and root.hook_runs() == []


def test_a_hook_linked_through_an_open_directory_on_the_way_is_not_run(root, xc, tmp_path):
    """Not only the last target's directories: a hop in a directory others can write could be
    pointed elsewhere after the check (20-x -> open/hop -> a root-owned script)."""
    target = tmp_path / "hook"
    target.write_text(ORDER_HOOK.format(name="vendor", log=root.log.parent / "order", code=0))
    target.chmod(0o755)
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    (open_dir / "hop").symlink_to(target)
    link = root.hooks / "20-x"
    link.symlink_to(open_dir / "hop")
    result = xc("ensure")
    assert result.code == 1
    assert result.err_lines == [refused_link(link, target, open_dir)]
    assert order(root) == [] and root.hook_runs() == []


def test_a_hook_linked_to_itself_is_a_failed_hook_even_for_postinst(root, xc):
    """ELOOP is no traceback nor a failed postinst: --hooks-nonfatal warns, the other hooks run."""
    (root.hooks / "30-loop").symlink_to("30-loop")
    result = xc("ensure", "--hooks-nonfatal")
    assert result.code == 0, result
    # one warning: a link to nothing on a system's own tree; refused here, where the test root's
    # parents include /tmp (writable by all)
    [warning] = result.err_lines
    assert warning.startswith("xivo-certs: warning: ") and "30-loop" in warning, warning


def test_a_hooks_directory_linked_through_a_directory_others_can_write_is_not_trusted(root, xc, tmp_path):
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    open_dir.chmod(0o777)
    moved = open_dir / "hooks.d"
    root.hooks.rename(moved)
    root.hooks.symlink_to(moved)
    add_order_hook(root, "20-hook")
    result = xc("ensure", "--hooks-nonfatal")
    assert result.code == 0
    assert result.err_lines == [refused_link(root.hooks, moved, open_dir, warning=True)]
    assert order(root) == [] and root.hook_runs() == []


# --- hostile data never makes a traceback (item 5) -------------------------------------------------

def test_a_dangling_link_among_the_hooks_is_a_failed_hook_not_a_crash(root, cmd):
    (root.hooks / "20-gone").symlink_to("/nonexistent-xivo-certs-test/hook")
    add_order_hook(root, "60-later")
    result = cmd("ensure", "--hooks-nonfatal")
    assert result.code == 0, result
    gone = "hook 20-gone (a link to nothing: /nonexistent-xivo-certs-test/hook) failed"
    assert result.err_lines == [f"xivo-certs: warning: {gone}"]
    assert order(root) == ["60-later"] and len(root.hook_runs()) == 1
    result = cmd("generate", "--key-type", "ec:p256")
    assert (result.code, result.err_lines) == (1, [f"xivo-certs: {gone}"])


def hand_copied(root, keys, *names):
    """A certificate with the SAN `names` as they are (no check), copied by hand over the pair."""
    key = keys.get("ec:p256")
    root.put_pair(make_cert(key, cert_name("pbx.example.test"), dns=names, raw_dns=True), key)


def test_a_nul_in_a_hand_copied_name_never_reaches_the_hooks(root, cmd, keys):
    hand_copied(root, keys, "pbx.example.test", "evil\0.example.test", "*.example.test", "a b.example.test")
    result = cmd("ensure", "--hooks-nonfatal")
    assert (result.code, result.err) == (0, ""), result
    [run] = root.hook_runs()
    assert run["XIVO_CERTS_NAMES"] == "pbx.example.test *.example.test"
    assert run["XIVO_CERTS_HOSTNAME"] == "pbx.example.test"


def test_thousands_of_names_are_cut_to_the_documented_limit(root, cmd, keys):
    names = [f"host-{number:04d}-{'x' * 40}.example.test" for number in range(2501)]  # 150 KB
    hand_copied(root, keys, *names)
    result = cmd("sync")
    assert (result.code, result.err) == (0, ""), result
    [run] = root.hook_runs()
    given = run["XIVO_CERTS_NAMES"]
    assert 32768 - len(names[0]) <= len(given.encode()) <= 32768
    assert given.split(" ") == names[:len(given.split(" "))]  # the first names, whole
    assert run["XIVO_CERTS_HOSTNAME"] == names[0]


# --- hooks that never end (item 8) -----------------------------------------------------------------

BACKGROUND_HOOK = """#!/bin/sh
sleep 3600 &
echo $! > "{pid}"
"""
ENDLESS_HOOK = """#!/bin/sh
sleep 3600 &
echo $! > "{pid}"
wait
"""


def finished(pid, timeout=60):
    """Whether the process `pid` has ended within `timeout` seconds (a sanity bound)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        return bool(select.select([fd], [], [], timeout)[0])
    finally:
        os.close(fd)


def test_a_child_left_behind_by_a_hook_does_not_keep_the_command_waiting(root, tmp_path):
    pid_file = tmp_path / "sleep.pid"
    root.add_hook("20-background", BACKGROUND_HOOK.format(pid=pid_file))
    with open(tmp_path / "out", "w+") as out, open(tmp_path / "err", "w+") as err:
        # files, not pipes: the sleep holds them too, and only the command must be waited for
        process = subprocess.Popen(command.argv(root.path, "ensure"), env=command.environment(),
                                   stdin=subprocess.DEVNULL, stdout=out, stderr=err)
        try:
            code = process.wait(timeout=60)  # a sanity bound: the sleep lasts an hour
        finally:
            process.kill()
        err.seek(0)
        assert (code, err.read()) == (0, "")
    sleeper = int(pid_file.read_text())
    try:
        assert not finished(sleeper, timeout=0)  # left alone: it may be a daemon a hook started
    finally:
        os.kill(sleeper, signal.SIGKILL)
    assert len(root.hook_runs()) == 1


@pytest.mark.parametrize("nonfatal", [False, True])
def test_a_hook_that_never_ends_is_killed_after_the_hook_timeout(root, cmd, tmp_path, nonfatal):
    (root / "etc/xivo-certs/xivo-certs.conf").write_text("hook_timeout = 1\n")
    pid_file = tmp_path / "sleep.pid"
    root.add_hook("20-endless", ENDLESS_HOOK.format(pid=pid_file))
    add_order_hook(root, "60-later")
    result = cmd("ensure", *(["--hooks-nonfatal"] if nonfatal else []), timeout=60)
    assert result.code == (0 if nonfatal else 1), result
    assert result.err_lines == [f"xivo-certs: {'warning: ' if nonfatal else ''}hook 20-endless (still "
                                "running after 1 s, the hook_timeout: killed, with the hooks after it) "
                                "failed"]
    assert finished(int(pid_file.read_text()))  # its child too
    assert order(root) == [] and root.hook_runs() == []
    assert not os.path.exists(root.paths.hooks_due)  # failed, not owed: it is not run again by itself
