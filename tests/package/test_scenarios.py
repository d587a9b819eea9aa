"""Scenarios 1-9 of the issue "Scenario tests in real Debian roots", and 41-47 for items 5
and 6 of issue 11 (debconf answers, upgrades and opt-outs), on Debian 12 and 13.

Each test gets a fresh root (an overlay on the cached mmdebstrap base of its distribution), drives it
with the real apt, dpkg, debconf-set-selections and dpkg-reconfigure, and asserts outcomes: bytes,
names, owners and modes, parsed YAML, link targets, exit codes.  A failure names the scenario, the
distribution and every difference found.
"""

import json
import posixpath
import re

import pytest

from helpers import (ADMIN_HOST, ADMIN_HOST2, Check, add_trusted_ca,
                     check_admin_installed, check_default_pair, check_no_override, check_override,
                     check_status_ok, fresh, hook_runs, install, install_preseeded,
                     installed_with_admin_pair, put_pair, resolvable, status)
from support.certs import openssl_weak_pair
from support.facts import facts
from support.layout import (APT_HOOK, CA, CERT, CLI_INI, CONFD_DIRS, HOSTS_BEGIN, KEY, LINK_NAME, OVERRIDE,
                            PROM, SETTINGS, STATE, WWW_DATA, hosts_block)


# ----------------------------------------------------------------------------------------------- 1

def test_s01_fresh_install(root, deb):
    check = Check(root)
    fresh(root)
    res = install(root, deb, check)
    lines = [ln for ln in _package_lines(res.output) if ln.strip()]
    check.true(len(lines) <= 4, f"install output should be short, xivo-certs printed {len(lines)} "
               f"lines: {lines}")
    check.true(not any(re.search(r"(\.\.\.\.\.|\+\+\+\+\+|\*\*\*\*\*)", ln) for ln in lines),
               f"openssl progress dots in the install output: {lines}")
    data = check_status_ok(root, check, "after install")
    first = check_default_pair(root, check, "localhost", "rsa:2048", data)
    check_no_override(root, check)
    runs = hook_runs(root)
    if first:
        check.eq(runs, [["install", first["fingerprint"], "localhost", "yes"]],
                 "hook runs after install (reason, fingerprint, hostname, default)")
    check.true(root.exists(SETTINGS), f"{SETTINGS} missing")
    check.true(root.exists(APT_HOOK), f"{APT_HOOK} missing")
    show = root.run("debconf-show xivo-certs", check=False).out
    check.true(re.search(r"xivo-certs/hostname: localhost", show), f"debconf-show: {show!r}")
    # Nothing to do: sync and a second apt run leave the pair and the hooks alone.
    before = (root.get(CERT), root.get(KEY))
    check.eq(root.run("xivo-certs sync", check=False).rc, 0, "`xivo-certs sync` exit code")
    check.eq(root.run("xivo-certs ensure --reason install", check=False).rc, 0,
             "`xivo-certs ensure` (nothing to do) exit code")
    check.eq((root.get(CERT), root.get(KEY)), before, "pair bytes after a no-op sync/ensure")
    check.eq(len(hook_runs(root)), 1, "hook runs after a no-op sync/ensure")
    check.done()


def _package_lines(output):
    from helpers import apt_package_lines
    return apt_package_lines(output)


# ----------------------------------------------------------------------------------------------- 2

def test_s02_preseed_then_reconfigure(root, deb):
    check = Check(root)
    install_preseeded(root, deb, check, "pbx1.example.com", "ec:p384")
    data = check_status_ok(root, check, "after install")
    first = check_default_pair(root, check, "pbx1.example.com", "ec:p384", data)
    check_no_override(root, check)  # a default certificate covers localhost: no override
    check.eq([r[0] for r in hook_runs(root)], ["install"], "hook runs after a preseeded install")
    check.done("install with preseeded pbx1.example.com, ec:p384")

    # dpkg-reconfigure as an admin does it, at a terminal: an invalid name first (explained,
    # asked again), then the new name.
    res = root.run("dpkg-reconfigure -fteletype -pmedium xivo-certs", tty_input="bad_name!\n"
                   "pbx2.example.com\n", env={"DEBIAN_FRONTEND": "teletype"}, check=False)
    check.eq(res.rc, 0, f"dpkg-reconfigure exit code: {res.output[-800:]!r}")
    check.true("bad_name!" in res.output and res.output.count("Host name of the HTTPS") >= 2,
               "an invalid host name should be explained and asked again")
    data = check_status_ok(root, check, "after reconfigure")
    second = check_default_pair(root, check, "pbx2.example.com", "ec:p384", data)
    check_no_override(root, check)
    runs = hook_runs(root)
    if first and second:
        check.true(first["fingerprint"] != second["fingerprint"], "certificate not regenerated")
        check.eq(runs, [["install", first["fingerprint"], "pbx1.example.com", "yes"],
                        ["reconfigure", second["fingerprint"], "pbx2.example.com", "yes"]],
                 "hook runs after reconfigure (one per change)")
    check.done("dpkg-reconfigure to pbx2.example.com")

    # Reconfigure without a change (non-interactive): nothing moves, no hook runs.
    before = (root.get(CERT), root.get(KEY))
    res = root.run("dpkg-reconfigure -fnoninteractive xivo-certs", check=False)
    check.eq(res.rc, 0, f"dpkg-reconfigure -fnoninteractive exit code: {res.output[-500:]!r}")
    check.eq((root.get(CERT), root.get(KEY)), before, "pair bytes after a no-change reconfigure")
    check.eq(len(hook_runs(root)), 2, "hook runs after a no-change reconfigure")
    check.eq(root.state().get("hostname"), "pbx2.example.com", "state hostname")
    check.done("dpkg-reconfigure without a change")


# ----------------------------------------------------------------------------------------------- 3

def test_s03_upgrade_from_15_11(root, deb, deb_next, standins):
    check = Check(root)
    fresh(root)
    install(root, standins["old"], check, "stand-in 15.11")
    check.true(not root.exists(CERT), "the 15.11 stand-in should leave no certificate")
    res = install(root, deb, check, "upgrade to the real package")
    check.true("Unpacking xivo-certs" in res.output and "over (15.11)" in res.output,
               "apt should upgrade over 15.11")
    data = check_status_ok(root, check, "after the upgrade")
    first = check_default_pair(root, check, "localhost", "rsa:2048", data)
    check_no_override(root, check)
    if first:
        check.eq(hook_runs(root), [["upgrade", first["fingerprint"], "localhost", "yes"]],
                 "hook runs after the upgrade")
    check.done("upgrade from 15.11")

    # A later upgrade of the package over itself keeps a healthy default pair and runs no hook.
    before = (root.get(CERT), root.get(KEY))
    install(root, deb_next, check, "upgrade real -> real+t1")
    check.eq((root.get(CERT), root.get(KEY)), before, "pair bytes after the upgrade to +t1")
    check.eq(len(hook_runs(root)), 1, "hook runs after the upgrade to +t1")
    check_status_ok(root, check, "after the upgrade to +t1")
    check.done("upgrade of the package over itself")


# ----------------------------------------------------------------------------------------------- 4

@pytest.mark.parametrize("weak", ["nosan", "sha1", "rsa1024", "expiring"])
def test_s04_upgrade_regenerates_weak_default(root, deb, standins, weak, tmp_path):
    """The old package's own certificate (CN=localhost, self-signed by `openssl req`, no state
    file) is weak: the upgrade replaces it with a strong one."""
    check = Check(root)
    fresh(root)
    install(root, standins["old"], check, "stand-in 15.11")
    crt, key = openssl_weak_pair(str(tmp_path), weak)
    old = facts(crt)
    root.write(CERT, crt, mode=0o644, gid=WWW_DATA)
    root.write(KEY, key, mode=0o640, gid=WWW_DATA)
    install(root, deb, check, "upgrade to the real package")
    data = check_status_ok(root, check, "after the upgrade")
    new = check_default_pair(root, check, "localhost", "rsa:2048", data)
    if new:
        check.true(new["fingerprint"] != old["fingerprint"], f"weak ({weak}) certificate kept")
        check.eq([r[0] for r in hook_runs(root)], ["upgrade"], "hook runs after the upgrade")
    # Recognised by its shape alone, it is backed up before it is replaced (issue 11).
    backups = root.glob("/var/backups/xivo-certs/*-unrecorded")
    if check.eq(len(backups), 1, "backups of the replaced pair"):
        check.eq((root.get(backups[0] + "/server.crt"), root.get(backups[0] + "/server.key")),
                 (crt, key), "the backed-up pair")
    check_no_override(root, check)
    check.done(f"weak certificate: {weak}")


# ----------------------------------------------------------------------------------------------- 5

@pytest.mark.parametrize("kind", ["trusted", "trusted-intermediate", "private", "selfsigned"])
def test_s05_upgrade_keeps_admin_certificate(root, deb, deb_next, standins, pki_set, kind):
    """An admin followed the seed on 15.11 (own pair in place); the upgrade to the real package,
    then to a newer version of it, leaves the pair untouched byte for byte, writes the managed
    override (verify True, or the CA file) and links it into every conf.d."""
    check = Check(root)
    fresh(root)
    resolvable(root, ADMIN_HOST)
    if kind.startswith("trusted"):
        add_trusted_ca(root, pki_set["trusted_ca"])
    install(root, standins["old"], check, "stand-in 15.11")
    crt, key = pki_set[kind]
    root.write(CERT, crt, mode=0o644, gid=WWW_DATA)
    root.write(KEY, key, mode=0o640, gid=WWW_DATA)
    install(root, deb, check, "upgrade 15.11 -> real")
    check_admin_installed(root, check, kind, pki_set, crt, key, "after the upgrade from 15.11")
    fp = facts(crt)["fingerprint"]
    check.eq(hook_runs(root), [["upgrade", fp, ADMIN_HOST, "no"]], "hook runs after the upgrade")
    check.done("upgrade from 15.11")

    install(root, deb_next, check, "upgrade real -> real+t1")
    check_admin_installed(root, check, kind, pki_set, crt, key, "after the upgrade to +t1")
    check.eq(len(hook_runs(root)), 1, "hook runs after an upgrade that changes nothing")
    check.done("upgrade of the package over itself")


# ----------------------------------------------------------------------------------------------- 6

def test_s06_manual_replacement_then_sync(root, deb, pki_set):
    """The seed's procedure: cp the admin's files over the default pair, then what the path unit
    runs (xivo-certs sync); later mv another pair over it."""
    check = Check(root)
    fresh(root)
    resolvable(root, ADMIN_HOST, ADMIN_HOST2)
    install(root, deb, check)
    check_no_override(root, check)

    crt, key = pki_set["private"]
    put_pair(root, crt, key, how="cp")
    res = root.run("xivo-certs sync", check=False)
    check.eq(res.rc, 0, f"`xivo-certs sync` after cp: {res.output[-500:]!r}")
    check_admin_installed(root, check, "private", pki_set, crt, key, "after cp + sync")
    runs = hook_runs(root)
    check.eq([r[0] for r in runs], ["install", "sync"], "hook runs after cp + sync")
    check.eq(runs[-1][1:] if runs else None, [facts(crt)["fingerprint"], ADMIN_HOST, "no"],
             "hook environment on sync")
    res = root.run("xivo-certs sync", check=False)
    check.eq(res.rc, 0, "second `xivo-certs sync` exit code")
    check.eq(len(hook_runs(root)), 2, "hook runs after a second (no-op) sync")
    check.done("cp then sync")

    # mv'd files keep the owner and mode they had (root:root, key 0600): README says the next
    # sync gives them the table's (root:www-data, 0644/0640).
    crt2, key2 = pki_set["selfsigned2"]
    put_pair(root, crt2, key2, how="mv", mode=0o600, owner=(0, 0))
    res = root.run("xivo-certs sync", check=False)
    check.eq(res.rc, 0, f"`xivo-certs sync` after mv: {res.output[-500:]!r}")
    check_admin_installed(root, check, "selfsigned", pki_set, crt2, key2, "after mv + sync",
                          host=ADMIN_HOST2)
    check.eq([r[0] for r in hook_runs(root)], ["install", "sync", "sync"], "hook runs after mv + sync")
    check.done("mv then sync")


# ----------------------------------------------------------------------------------------------- 7

@pytest.mark.parametrize("cert", ["admin", "default"])
def test_s07_daemon_installed_later(root, deb, standins, pki_set, cert):
    """apt's DPkg::Post-Invoke (xivo-certs sync --quiet) links the override into the conf.d of
    a daemon installed later -- only when the override is needed."""
    check = Check(root)
    fresh(root)
    resolvable(root, ADMIN_HOST)
    install(root, deb, check)
    if cert == "admin":
        crt, key = pki_set["selfsigned"]
        put_pair(root, crt, key, how="cp")
        root.run("xivo-certs sync")
        check_admin_installed(root, check, "selfsigned", pki_set, crt, key, "before xivo-newd")
    runs_before = len(hook_runs(root))
    res = install(root, standins["newd"], check, "xivo-newd (a daemon installed later)")
    new_dirs = ["/etc/xivo-newd/conf.d", "/etc/wazo-newd/conf.d"]
    if cert == "admin":
        check_override(root, check, ADMIN_HOST, CA, dirs=[*CONFD_DIRS, *new_dirs])
        check.eq(len(hook_runs(root)), runs_before + 1, "hook runs after installing xivo-newd")
        check_status_ok(root, check, "after xivo-newd")
    else:
        check_no_override(root, check)
        check_status_ok(root, check, "after xivo-newd")
    check.true("E:" not in res.output, f"apt reported an error: {res.output[-500:]!r}")
    check.done(f"{cert} certificate")


# ----------------------------------------------------------------------------------------------- 8

def test_s08_revert(root, deb, pki_set):
    """The later documented revert: rm server.{key,crt}; dpkg-reconfigure xivo-certs."""
    check = Check(root)
    crt, key = installed_with_admin_pair(root, deb, check, pki_set)
    check_admin_installed(root, check, "private", pki_set, crt, key, "admin certificate")
    check.done("admin certificate in place")

    # dpkg-reconfigure with a new name while the admin's certificate is in place: it says so
    # and leaves the pair, the override and the hooks alone.
    runs = len(hook_runs(root))
    res = root.run("dpkg-reconfigure -fteletype -pmedium xivo-certs", tty_input="pbx9.example.com\n",
                   env={"DEBIAN_FRONTEND": "teletype"}, check=False)
    check.eq(res.rc, 0, f"dpkg-reconfigure (admin certificate) exit code: {res.output[-800:]!r}")
    check_admin_installed(root, check, "private", pki_set, crt, key, "after dpkg-reconfigure")
    check.true(re.search(r"admin|not generated by|left as it is|leav", res.output, re.I),
               f"dpkg-reconfigure should say the admin's certificate is kept: {res.output[-600:]!r}")
    check.eq(len(hook_runs(root)), runs, "hook runs after dpkg-reconfigure with an admin certificate")
    check.done("dpkg-reconfigure with the admin's certificate in place")

    res = root.run(f"rm {KEY} {CERT} && dpkg-reconfigure -fnoninteractive xivo-certs", check=False)
    check.eq(res.rc, 0, f"rm + dpkg-reconfigure exit code: {res.output[-800:]!r}")
    data = check_status_ok(root, check, "after the revert")
    # The name answered while the admin's certificate was in place is the one remembered.
    new = check_default_pair(root, check, "pbx9.example.com", "rsa:2048", data)
    check_no_override(root, check)
    check.true(not root.exists(CA), f"{CA} should be gone with the override")
    if new:
        check.eq(hook_runs(root)[-1][:2] if hook_runs(root) else None, ["reconfigure", new["fingerprint"]],
                 "last hook run (the revert)")
    check.done("after rm + dpkg-reconfigure")


# ----------------------------------------------------------------------------------------------- 9

# What apt, dpkg and debconf keep about every package, and logs: not files the package made.
BOOKKEEPING = ["/var/lib/dpkg", "/var/lib/apt", "/var/cache/apt", "/var/cache/debconf",
               "/var/log", "/tmp", "/var/tmp", "/root/.cache"]


def _bookkeeping(path):
    return any(path == b or path.startswith(b + "/") for b in BOOKKEEPING)


def _left_behind(root, before_list, before_desc):
    """Compare the root after purge with the root before install: paths added, paths removed,
    and paths whose type, owner, mode or content changed (every path the overlay's upper layer
    holds now, compared with its state before the install -- from the lower layer when the
    scenario had not touched it yet)."""
    after_list = root.file_list(BOOKKEEPING)
    added = sorted(after_list - before_list)
    removed = sorted(before_list - after_list)
    changed = []
    for p in sorted(root.changed_paths()):
        if _bookkeeping(p) or p not in before_list or p not in after_list:
            continue
        was = before_desc[p] if p in before_desc else root.describe(p, top=root.lower)
        now = root.describe(p)
        if was != now:
            changed.append(f"{p}: {was} -> {now}")
    return added, removed, changed


@pytest.mark.parametrize("cert", ["default", "admin", "admin-deps-gone"])
def test_s09_remove_then_purge(root, deb, pki_set, standins, cert):
    """remove keeps everything; purge leaves the root as it was before the install (the admin's
    pair moved to /var/backups/xivo-certs/purged-*). admin-deps-gone: purge after python3 and
    openssl are gone (postrm may use only essential tools)."""
    check = Check(root)
    fresh(root)
    resolvable(root, ADMIN_HOST)
    before_list = root.file_list(BOOKKEEPING)
    before_desc = {p: root.describe(p) for p in root.changed_paths()}
    install(root, deb, check)
    if cert.startswith("admin"):
        crt, key = pki_set["selfsigned"]
        put_pair(root, crt, key, how="cp")
        root.run("xivo-certs sync")
        check_admin_installed(root, check, "selfsigned", pki_set, crt, key, "admin certificate")
    kept = {p: root.describe(p) for p in [CERT, KEY, SETTINGS, STATE, OVERRIDE, CA]
            + [posixpath.join(d, LINK_NAME) for d in CONFD_DIRS]}
    check.done("installed")

    res = root.run("apt-get remove -y xivo-certs", check=False)
    check.eq(res.rc, 0, f"apt-get remove exit code: {res.output[-500:]!r}")
    for path, desc in kept.items():
        check.eq(root.describe(path), desc, f"{path} after remove (kind, uid, gid, mode, content)")
    # apt keeps working with the package removed (its Post-Invoke hook is guarded).
    res = root.apt_install(standins["newd"], check=False)
    check.eq(res.rc, 0, f"apt-get install after remove: {res.output[-500:]!r}")
    res = root.run("apt-get purge -y xivo-newd", check=False)
    check.eq(res.rc, 0, f"apt-get purge xivo-newd after remove: {res.output[-500:]!r}")
    check.done("after remove")

    if cert == "admin-deps-gone":
        # What postrm purge may meet: python3 and openssl gone (hidden here, put back after).
        root.run("mv /usr/bin/python3 /usr/bin/python3.hidden && "
                 "mv /usr/bin/openssl /usr/bin/openssl.hidden")
        res = root.run("dpkg --purge xivo-certs", check=False)
        root.run("mv /usr/bin/python3.hidden /usr/bin/python3 && "
                 "mv /usr/bin/openssl.hidden /usr/bin/openssl")
        check.eq(res.rc, 0, f"dpkg --purge without python3 and openssl: {res.output[-800:]!r}")
    else:
        res = root.run("apt-get purge -y xivo-certs", check=False)
        check.eq(res.rc, 0, f"apt-get purge exit code: {res.output[-500:]!r}")
    added, removed, changed = _left_behind(root, before_list, before_desc)
    if cert.startswith("admin"):
        backups = root.glob("/var/backups/xivo-certs/purged-*")
        check.eq(len(backups), 1, "one /var/backups/xivo-certs/purged-* directory")
        if backups:
            check.eq(root.get(backups[0] + "/server.crt"), crt, "backed-up server.crt bytes")
            check.eq(root.get(backups[0] + "/server.key"), key, "backed-up server.key bytes")
            allowed = {"/var/backups/xivo-certs", backups[0], backups[0] + "/server.crt",
                       backups[0] + "/server.key"}
            extra = sorted(set(added) - allowed)
            check.eq(extra, [], "files left after purge besides the admin's backed-up pair")
        check.true(not root.exists(CERT) and not root.exists(KEY), "pair still in place after purge")
        check.true("backups" in res.output, "purge should say where the admin's pair went")
    else:
        check.eq(added, [], "files left after purge (not there before the install)")
    check.eq(removed, [], "files gone after purge that were there before the install")
    check.eq(changed, [], "files changed by install + purge")
    show = root.run("debconf-show xivo-certs 2>/dev/null", check=False).out.strip()
    check.eq(show, "", "debconf answers left after purge")
    check.done("after purge")


# ---------------------------------------------------------------------------------------------- 41

def _debconf_answers(root):
    """{question: value} of `debconf-show xivo-certs`, for the host name and the key type."""
    show = root.run("debconf-show xivo-certs", check=False).out
    found = dict(re.findall(r"^\*?\s*xivo-certs/([\w-]+):\s*(\S*)\s*$", show, re.M))
    return {question: found.get(question) for question in ("hostname", "key-type")}


def test_s41_fleet_answers_and_generate_both_win_when_newer(root, deb):
    """A fleet's tool sets the answers with debconf-set-selections, then reconfigures without a
    terminal: the certificate follows them. `xivo-certs generate` changes the certificate: the
    next reconfigure shows and keeps what it made."""
    check = Check(root)
    fresh(root)
    install(root, deb, check)
    root.preseed("xivo-certs xivo-certs/hostname string pbx7.example.com",
                 "xivo-certs xivo-certs/key-type select ec:p256")
    res = root.run("dpkg-reconfigure -fnoninteractive xivo-certs", check=False)
    check.eq(res.rc, 0, f"dpkg-reconfigure exit code: {res.output[-600:]!r}")
    data = check_status_ok(root, check, "after the fleet's answers")
    renamed = check_default_pair(root, check, "pbx7.example.com", "ec:p256", data)
    state = root.state() or {}
    check.eq((state.get("answered_hostname"), state.get("answered_key_type")),
             ("pbx7.example.com", "ec:p256"), "state answered_hostname, answered_key_type")
    if renamed:
        check.eq(hook_runs(root)[-1][:3], ["reconfigure", renamed["fingerprint"], "pbx7.example.com"],
                 "last hook run")
    check.done("debconf-set-selections + dpkg-reconfigure -fnoninteractive")

    res = root.run("xivo-certs generate --hostname manual.example.com --key-type ec:p384", check=False)
    check.eq(res.rc, 0, f"generate exit code: {res.output[-400:]!r}")
    before = (root.get(CERT), root.get(KEY))
    runs = len(hook_runs(root))
    res = root.run("dpkg-reconfigure -fnoninteractive xivo-certs", check=False)
    check.eq(res.rc, 0, f"dpkg-reconfigure after generate: {res.output[-600:]!r}")
    check.eq((root.get(CERT), root.get(KEY)), before, "pair bytes after generate + reconfigure")
    check.eq(len(hook_runs(root)), runs, "hook runs of a reconfigure after generate")
    check.eq(_debconf_answers(root), {"hostname": "manual.example.com", "key-type": "ec:p384"},
             "debconf answers after generate + reconfigure")
    check_default_pair(root, check, "manual.example.com", "ec:p384")
    check.done("xivo-certs generate, then dpkg-reconfigure -fnoninteractive")

    root.preseed("xivo-certs xivo-certs/hostname string pbx8.example.com")
    res = root.run("dpkg-reconfigure -fnoninteractive xivo-certs", check=False)
    check.eq(res.rc, 0, f"dpkg-reconfigure (second fleet answer): {res.output[-600:]!r}")
    check_default_pair(root, check, "pbx8.example.com", "ec:p384", check_status_ok(root, check))
    check.done("a second debconf-set-selections")


# ---------------------------------------------------------------------------------------------- 42

LEGACY_STRONG = {  # `openssl req` options of strong certificates for CN=localhost, another key type
    "rsa:4096": "-newkey rsa:4096",
    "ec:p256": "-newkey ec -pkeyopt ec_paramgen_curve:P-256",
}


@pytest.mark.parametrize("key_type", sorted(LEGACY_STRONG))
def test_s42_upgrade_keeps_a_strong_legacy_certificate_of_another_key_type(root, deb, standins,
                                                                           key_type):
    """Before the record no key type was chosen: the upgrade adopts a strong legacy pair whatever
    its key type, byte for byte, and the next reconfigure keeps it (debconf shows its key type)."""
    check = Check(root)
    fresh(root)
    install(root, standins["old"], check, "stand-in 15.11")
    root.run(f"openssl req -x509 {LEGACY_STRONG[key_type]} -nodes -days 825 -subj /CN=localhost "
             f"-addext subjectAltName=DNS:localhost -keyout {KEY} -out {CERT} 2>/dev/null && "
             f"chown root:www-data {CERT} {KEY} && chmod 0640 {KEY} && chmod 0644 {CERT}")
    before = (root.get(CERT), root.get(KEY))
    install(root, deb, check, "upgrade 15.11 -> real")
    check.eq((root.get(CERT), root.get(KEY)), before, "pair bytes after the upgrade")
    check.eq(root.glob("/var/backups/xivo-certs/*"), [], "backups after the upgrade")
    data = check_status_ok(root, check, "after the upgrade")
    check.eq((data.get("default"), data.get("key_type")), (True, key_type), "status default, key_type")
    res = root.run("dpkg-reconfigure -fnoninteractive xivo-certs", check=False)
    check.eq(res.rc, 0, f"dpkg-reconfigure exit code: {res.output[-600:]!r}")
    check.eq((root.get(CERT), root.get(KEY)), before, "pair bytes after dpkg-reconfigure")
    check.eq(_debconf_answers(root).get("key-type"), key_type, "debconf key-type after reconfigure")
    check.done(f"legacy {key_type}")


# ---------------------------------------------------------------------------------------------- 43

def test_s43_a_settings_typo_warns_during_the_upgrade_and_stops_the_commands(root, deb, deb_next):
    check = Check(root)
    fresh(root)
    install(root, deb, check)
    root.append(SETTINGS, "renew_dayz = 10\n")
    line = len(root.text(SETTINGS).splitlines())
    before = (root.get(CERT), root.get(KEY))
    res = install(root, deb_next, check, "upgrade with a typo in the settings")
    check.true(f"xivo-certs: warning: {SETTINGS}: line {line}: expected one of" in res.output,
               f"the upgrade should warn of the typo: {res.output[-800:]!r}")
    status = root.run("dpkg-query -W -f '${db:Status-Abbrev}' xivo-certs", check=False).out.strip()
    check.eq(status, "ii", "package state after the upgrade")
    check.eq((root.get(CERT), root.get(KEY)), before, "pair bytes after the upgrade")
    for command in ("sync", "generate", "revert"):
        res = root.run(f"xivo-certs {command}", check=False)
        check.eq((res.rc, res.out), (1, ""), f"`xivo-certs {command}` exit code and stdout")
        check.true(len(res.err.splitlines()) == 1 and res.err.startswith(f"xivo-certs: {SETTINGS}: line "),
                   f"`xivo-certs {command}` should refuse in one line naming the file: {res.err!r}")
    check.eq((root.get(CERT), root.get(KEY)), before, "pair bytes after the refused commands")
    check.done()


# ---------------------------------------------------------------------------------------------- 44

def test_s44_status_as_a_user_says_what_it_can(root, deb):
    check = Check(root)
    install_preseeded(root, deb, check, "pbx1.example.com")
    as_user = "setpriv --reuid=65534 --regid=65534 --clear-groups xivo-certs status"
    for command in (as_user, as_user + " --json"):
        res = root.run(command, check=False)
        check.eq(res.rc, 1, f"`{command}` exit code")
        check.eq(res.err, f"xivo-certs: cannot read {KEY} and /var/lib/xivo-certs as this user: "
                 "run `xivo-certs status` as root for a full check\n", f"`{command}` stderr")
    res = root.run(as_user, check=False)
    check.true("CN=pbx1.example.com (self-signed, generated by xivo-certs)" in res.out,
               f"status as a user should describe the certificate: {res.out!r}")
    check.true(f"rsa:2048, not checked ({KEY})" in res.out, f"the key line: {res.out!r}")
    check.true("problems     none" in res.out, f"no problem found in what a user can read: {res.out!r}")
    data = json.loads(root.run(as_user + " --json", check=False).out or "{}")
    check.eq((data.get("unreadable"), data.get("key_matches"), data.get("default"), data.get("problems")),
             ([KEY, "/var/lib/xivo-certs"], None, True, []), "status --json as a user: unreadable, "
             "key_matches, default, problems")
    # www-data (the daemons' group) reads the key, not the record.
    res = root.run("setpriv --reuid=33 --regid=33 --clear-groups xivo-certs status", check=False)
    check.eq((res.rc, res.err), (1, "xivo-certs: cannot read /var/lib/xivo-certs as this user: "
                                    "run `xivo-certs status` as root for a full check\n"),
             "status as www-data: exit code and stderr")
    check.true(f"rsa:2048, matches ({KEY})" in res.out, f"the key line as www-data: {res.out!r}")
    check.done()


# ---------------------------------------------------------------------------------------------- 45

def test_s45_with_the_state_deleted_the_default_certificate_is_still_the_packages(root, deb):
    check = Check(root)
    install_preseeded(root, deb, check, "pbx1.example.com", "ec:p256")
    before = (root.get(CERT), root.get(KEY))
    root.run("rm -r /var/lib/xivo-certs")
    res, data = status(root)
    check.eq((res.rc, (data or {}).get("default")), (0, True), f"status without the state: {res.output!r}")
    res = root.run("dpkg-reconfigure -fnoninteractive xivo-certs", check=False)
    check.eq(res.rc, 0, f"dpkg-reconfigure exit code: {res.output[-600:]!r}")
    check.eq((root.get(CERT), root.get(KEY)), before, "pair bytes after dpkg-reconfigure")
    check.eq(root.glob("/var/backups/xivo-certs/*"), [], "backups")
    check_default_pair(root, check, "pbx1.example.com", "ec:p256", check_status_ok(root, check))
    res = root.run("apt-get purge -y xivo-certs", check=False)
    check.eq(res.rc, 0, f"apt-get purge exit code: {res.output[-500:]!r}")
    check.true(not root.exists(CERT) and not root.exists("/var/backups/xivo-certs"),
               "purge should delete the package's own pair, recorded again")
    check.done()


# ---------------------------------------------------------------------------------------------- 46

def _hand_made_override(root, host):
    """The seed's procedure: an override written by hand, linked into every conf.d."""
    root.write(OVERRIDE, "".join(f"{service}:\n  host: {host}\n" for service in ("auth", "dird")))
    for d in CONFD_DIRS:
        root.run(f"ln -s {OVERRIDE} {d}/{LINK_NAME}")


def test_s46_purge_keeps_a_hand_made_override_linked_and_says_where_the_pair_went(root, deb, pki_set):
    """The admin's pair moved (the path said), the hand-made override kept with its links; the
    next install names the backup."""
    check = Check(root)
    fresh(root)
    resolvable(root, ADMIN_HOST)
    install(root, deb, check)
    crt, key = pki_set["selfsigned"]
    put_pair(root, crt, key, how="cp")
    _hand_made_override(root, ADMIN_HOST)
    root.run("xivo-certs sync", check=False)
    override = root.get(OVERRIDE)
    res = root.run("apt-get purge -y xivo-certs", check=False)
    check.eq(res.rc, 0, f"apt-get purge exit code: {res.output[-500:]!r}")
    [backup] = root.glob("/var/backups/xivo-certs/purged-*") or [None]
    check.true(backup and f"xivo-certs: your certificate and key were moved to {backup}/" in res.output,
               f"purge should name {backup}: {res.output[-600:]!r}")
    if backup:
        check.eq((root.get(backup + "/server.crt"), root.get(backup + "/server.key")), (crt, key),
                 "the backed-up pair")
    check.eq(root.get(OVERRIDE), override, "the hand-made override after purge")
    for d in CONFD_DIRS:
        link = posixpath.join(d, LINK_NAME)
        check.eq(root.readlink(link) if root.exists(link) else None, OVERRIDE, f"{link} after purge")
    check.done("purge")

    res = install(root, deb, check, "the next install")
    check.true(backup and f"the certificate and key found at the last purge are in {backup}/"
               in res.output, f"the next install should name {backup}: {res.output[-600:]!r}")
    check.done("the next install")


def test_s47_purge_removes_relative_links_to_its_own_override(root, deb, pki_set):
    check = Check(root)
    installed_with_admin_pair(root, deb, check, pki_set)
    relative = posixpath.join(CONFD_DIRS[0], LINK_NAME)
    root.run(f"rm {relative} && ln -sr {OVERRIDE} {relative}")
    res = root.run("apt-get purge -y xivo-certs", check=False)
    check.eq(res.rc, 0, f"apt-get purge exit code: {res.output[-500:]!r}")
    check_no_override(root, check)
    check.done()


# ---------------------------------------------------------------------------------------------- 48

# The minimal roots have no mount(8): libc's mount(2), MS_BIND (4096), through python3.
BIND_MOUNT = ("python3 -c 'import ctypes; libc = ctypes.CDLL(None, use_errno=True); "
              "assert libc.mount(b\"{source}\", b\"{target}\", None, 4096, None) == 0, ctypes.get_errno()'")


def test_s48_purge_keeps_a_pending_request_key_and_takes_out_only_its_own_lines(root, deb):
    """Purge moves a pending request's key to the backups (its certificate may be on its way),
    restores certbot's cli.ini byte for byte, removes the node-exporter textfile, and takes out of
    /etc/hosts the managed block only: a BEGIN line with no END after it is the admin's."""
    check = Check(root)
    fresh(root)
    install(root, deb, check)
    root.run("xivo-certs request --hostname pbx.example.com --out /root/pbx.csr")
    request_key = root.get("/var/lib/xivo-certs/request.key")
    check.true(request_key is not None, "request.key kept by xivo-certs request")
    ini = b"# certbot's own settings\nmax-log-backups = 0\n"
    root.write(CLI_INI, ini)
    root.run("xivo-certs certbot enable pbx.example.com")
    check.true(b"/usr/sbin/xivo-certs certbot deploy" in (root.get(CLI_INI) or b""),
               "certbot enable adds its deploy-hook")
    root.run("mkdir -p /var/lib/prometheus/node-exporter && xivo-certs renew")
    check.true(root.exists(PROM), "the textfile is written")
    hosts = root.text("/etc/hosts")
    admin_tail = f"# END xivo-certs\n{HOSTS_BEGIN}\n10.0.0.5\tdb.internal\n"
    ours = hosts_block("pbx.example.com")
    root.write("/root/hosts", f"{ours}{hosts}{admin_tail}")
    check.done("before the purge")

    # /etc/hosts mounted over, as containers have it (the mount lasts for this one command)
    res = root.run(BIND_MOUNT.format(source="/root/hosts", target="/etc/hosts")
                   + " && apt-get purge -y xivo-certs", check=False)
    check.eq(res.rc, 0, f"apt-get purge exit code: {res.output[-500:]!r}")
    [backup] = root.glob("/var/backups/xivo-certs/purged-*") or [None]
    check.eq(root.get(f"{backup}/request.key") if backup else None, request_key,
             "the request's key, backed up")
    check.true(f"the key of your pending certificate request was moved to {backup}/" in res.output,
               f"purge should say where the request's key went: {res.output[-600:]!r}")
    check.eq(root.get(CLI_INI), ini, "certbot's cli.ini after purge")
    check.true(not root.exists(PROM), "textfile left")
    check.eq(root.text("/root/hosts"), hosts + admin_tail, "the mounted /etc/hosts after purge")
    check.eq(root.text("/etc/hosts"), hosts, "the /etc/hosts under the mount")
    check.eq(root.glob("/etc/hosts.*"), [], "a temporary file left in /etc")
    check.done("after purge")
