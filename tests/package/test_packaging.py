"""The packaging promises of the issue "Debian packaging" that only a real install can show, on
Debian 12 and 13: failing hooks during install, shipped hooks as conffiles, run-parts names,
systemd units in a root without systemd, the apt hook, debconf edge cases, the seed's complete
manual setup (hand-written override and links) met by the upgrade, the path unit firing between
the two copies of the seed's procedure."""

import re
import subprocess

from helpers import (ADMIN_HOST, ORG, Check, add_record_hook, check_admin_installed,
                     check_default_pair, check_status_ok, confd_dirs, hook_runs, install, prepare_daemons,
                     resolvable, status)
from support.certs import cert_pem, key_pem, self_signed
from support.facts import facts
from support.layout import CERT, HOOKS_DIR, KEY, LINK_NAME, OVERRIDE, WWW_DATA


def test_s11_failing_hook_is_a_warning(root, deb):
    """An admin's hook that fails during install: a warning naming it, not a failed install;
    the later hooks still run."""
    check = Check(root)
    prepare_daemons(root)
    add_record_hook(root)
    root.write(f"{HOOKS_DIR}/40-broken", "#!/bin/sh\necho broken >&2\nexit 3\n", mode=0o755)
    res = root.apt_install(deb, check=False)
    check.eq(res.rc, 0, f"apt-get install with a failing hook: {res.output[-800:]!r}")
    check.true(re.search(r"40-broken.*3|3.*40-broken", res.output),
               f"the install output should name the failing hook and its exit code: {res.output[-800:]!r}")
    check.eq([r[0] for r in hook_runs(root)], ["install"], "later hooks (50-record) still ran once")
    check.eq(root.run("dpkg-query -W -f='${db:Status-Status}' xivo-certs").out, "installed",
             "package state")
    check_default_pair(root, check)
    check.done()


def test_s12_hooks_are_conffiles_and_only_proper_names_run(root, deb, deb_next):
    check = Check(root)
    prepare_daemons(root)
    install(root, deb, check)
    conffiles = root.run("dpkg-query -W -f='${Conffiles}' xivo-certs").out
    for name in ("10-hostname-override", "90-restart-services"):
        check.true(f"{HOOKS_DIR}/{name} " in conffiles, f"{HOOKS_DIR}/{name} should be a conffile")
    check.true(root.exists(f"{HOOKS_DIR}/README"), "hooks.d/README missing")
    if not check.true(root.exists(HOOKS_DIR), f"{HOOKS_DIR} missing"):
        check.done()
    check.eq(root.owner_mode(HOOKS_DIR), (0, 0, 0o755), f"{HOOKS_DIR} (uid, gid, mode)")

    # The admin edits one shipped hook and deletes the other; adds hooks with names run-parts
    # must skip (and a README that is executable by mistake is still not run: it is no hook name
    # problem, so make it non-executable as shipped and check it stays so).
    edited = "#!/bin/sh\n# edited by the admin\necho edited >> /var/tmp/edited-ran\n"
    root.write(f"{HOOKS_DIR}/90-restart-services", edited, mode=0o755)
    root.run(f"rm {HOOKS_DIR}/10-hostname-override")
    marker = "#!/bin/sh\necho \"$0\" >> /var/tmp/wrong-names-ran\n"
    for bad in ("10-hostname-override.dpkg-old", "20-x.dpkg-dist", "30-y~", "40-z.sh"):
        root.write(f"{HOOKS_DIR}/{bad}", marker, mode=0o755)
    check.eq(root.owner_mode(f"{HOOKS_DIR}/README")[2] & 0o111, 0, "hooks.d/README is executable")
    install(root, deb_next, check, "upgrade to +t1 with edited hooks")
    check.eq(root.text(f"{HOOKS_DIR}/90-restart-services"), edited, "edited conffile after upgrade")
    check.true(not root.exists(f"{HOOKS_DIR}/10-hostname-override"),
               "a shipped hook the admin deleted came back with the upgrade")
    # A real change runs the hooks: only proper names.
    res = root.run("xivo-certs generate --hostname pbx.example.com", check=False)
    check.eq(res.rc, 0, f"generate: {res.output[-500:]!r}")
    check.true(root.exists("/var/tmp/edited-ran"), "the edited hook did not run")
    check.true(not root.exists("/var/tmp/wrong-names-ran"),
               f"hooks with names run-parts skips ran: "
               f"{root.text('/var/tmp/wrong-names-ran') if root.exists('/var/tmp/wrong-names-ran') else ''}")
    check.done()


def test_s13_units_apt_hook_man_page(root, deb, standins):
    """systemd units installed and enabled (in a root where systemd does not run), the apt hook
    guarded and never failing, the man page."""
    check = Check(root)
    res = install(root, deb, check)
    check.true("Failed" not in res.output and "E:" not in res.output,
               f"errors in the install output: {res.output[-600:]!r}")
    for unit in ("xivo-certs-sync.path", "xivo-certs-sync.service", "xivo-certs-renew.timer",
                 "xivo-certs-renew.service"):
        check.true(root.glob(f"/lib/systemd/system/{unit}") or root.glob(f"/usr/lib/systemd/system/{unit}"),
                   f"unit {unit} missing")
    check.true(root.exists("/etc/systemd/system/paths.target.wants/xivo-certs-sync.path"),
               "xivo-certs-sync.path not enabled")
    check.true(root.exists("/etc/systemd/system/timers.target.wants/xivo-certs-renew.timer"),
               "xivo-certs-renew.timer not enabled")
    svc = (root.glob("/lib/systemd/system/xivo-certs-sync.service")
           or root.glob("/usr/lib/systemd/system/xivo-certs-sync.service"))
    if svc:
        check.true(re.search(r"(?m)^StartLimitIntervalSec=0", root.text(svc[0])),
                   "xivo-certs-sync.service lacks StartLimitIntervalSec=0")
    path = (root.glob("/lib/systemd/system/xivo-certs-sync.path")
            or root.glob("/usr/lib/systemd/system/xivo-certs-sync.path"))
    if path:
        text = root.text(path[0])
        for f in (CERT, KEY):
            check.true(re.search(rf"(?m)^Path\w+={re.escape(f)}$", text), f"the path unit does not watch {f}")
    hook = (root.get("/etc/apt/apt.conf.d/05xivo-certs") or b"").decode()
    check.true("DPkg::Post-Invoke" in hook and "[ -x /usr/sbin/xivo-certs ]" in hook and "|| true" in hook,
               f"apt hook should be guarded and never fail: {hook!r}")
    # The apt hook never fails apt, even when the command fails.
    root.run("mv /usr/sbin/xivo-certs /usr/sbin/xivo-certs.real && "
             "printf '#!/bin/sh\\nexit 7\\n' > /usr/sbin/xivo-certs && chmod 755 /usr/sbin/xivo-certs")
    res = root.apt_install(standins["newd"], check=False)
    root.run("mv /usr/sbin/xivo-certs.real /usr/sbin/xivo-certs")
    check.eq(res.rc, 0, f"apt-get install while `xivo-certs sync` fails: {res.output[-500:]!r}")
    check.true(root.exists("/usr/share/man/man8/xivo-certs.8.gz"), "man page missing")
    res = root.run("zcat /usr/share/man/man8/xivo-certs.8.gz | head -c 2000", check=False)
    check.true(".TH" in res.out and "XIVO-CERTS" in res.out.upper(), "man page is not a xivo-certs(8) page")
    check.done()


def test_s14_invalid_preseed_and_long_name(root, deb):
    """A preseeded invalid name cannot be asked again (non-interactive): the install falls back
    to localhost and says so. Then a name longer than 64 characters: CN is its first label,
    the SAN holds it whole."""
    check = Check(root)
    root.preseed("xivo-certs xivo-certs/hostname string not_a_host!")
    res = install(root, deb, check)
    check.true("not_a_host!" in res.output, f"the fallback should be explained: {res.output[-600:]!r}")
    data = check_status_ok(root, check, "after the fallback")
    check_default_pair(root, check, "localhost", "rsa:2048", data)
    check.done("invalid preseeded name")

    long_name = "a" * 40 + "." + "b" * 30 + ".example.com"
    res = root.run(f"xivo-certs generate --hostname {long_name}", check=False)
    check.eq(res.rc, 0, f"generate with a {len(long_name)}-character name: {res.output[-400:]!r}")
    i = facts(root.read(CERT))
    check.eq(i["cn"], "a" * 40, "CN of a name longer than 64 characters")
    check.true(long_name in i["dns"] and "localhost" in i["dns"], f"SAN of the long name: {i['dns']}")
    check.done("a name longer than 64 characters")


def test_s15_seed_followed_completely_then_upgrade(root, deb, standins, pki_set):
    """On 15.11 the admin did all the seed asks: own pair, a hand-written override and hand-made
    links. The upgrade leaves every one of those files alone; status reports the foreign override;
    `xivo-certs override --adopt` backs it up and takes over."""
    check = Check(root)
    prepare_daemons(root)
    add_record_hook(root)
    resolvable(root, ADMIN_HOST)
    install(root, standins["old"], check, "stand-in 15.11")
    crt, key = pki_set["selfsigned"]
    root.write(CERT, crt, mode=0o644, gid=WWW_DATA)
    root.write(KEY, key, mode=0o640, gid=WWW_DATA)
    hand = "".join(f"{svc}:\n  host: {ADMIN_HOST}\n" for svc in ("consul", "auth", "dird", "ajam", "agent"))
    root.write(OVERRIDE, hand)
    root.run('for d in /etc/xivo-*/conf.d/; do ln -s /etc/xivo/custom/custom-certificate.yml '
             '"$d/010-custom-certificate.yml"; done')
    links = {d: root.describe(f"{d}/{LINK_NAME}") for d in confd_dirs(root)}
    install(root, deb, check, "upgrade 15.11 -> real")
    check.eq(root.get(CERT), crt, "server.crt bytes after the upgrade")
    check.eq(root.get(KEY), key, "server.key bytes after the upgrade")
    check.eq(root.text(OVERRIDE), hand, "the admin's hand-written override after the upgrade")
    for d, desc in links.items():
        check.eq(root.describe(f"{d}/{LINK_NAME}"), desc, f"the admin's link in {d}")
    res, data = status(root)
    check.eq(res.rc, 1, "`xivo-certs status` exit code with a foreign override")
    if isinstance(data, dict):
        check.eq((data.get("override") or {}).get("state"), "foreign", "status override.state")
        check.true(data.get("problems"), "status should list the foreign override as a problem")
    check.done("upgrade over the seed's manual setup")

    res = root.run("xivo-certs override --adopt", check=False)
    check.eq(res.rc, 0, f"`xivo-certs override --adopt`: {res.output[-600:]!r}")
    check_admin_installed(root, check, "selfsigned", pki_set, crt, key, "after --adopt")
    backups = root.run(f"grep -rl 'host: {ADMIN_HOST}' /var/backups/xivo-certs/ 2>/dev/null || true").out
    check.true(backups.strip(), "the admin's override should be backed up under /var/backups/xivo-certs/")
    check.done("override --adopt")


def test_s16_path_unit_fires_between_the_two_copies(root, deb, pki_set):
    """The seed's procedure copies the certificate, then the key; the path unit starts a sync
    after the first copy. That sync must neither touch the half-copied pair nor run the hooks
    for it; the sync after the second copy brings everything in line, hooks run once."""
    check = Check(root)
    prepare_daemons(root)
    add_record_hook(root)
    resolvable(root, ADMIN_HOST)
    install(root, deb, check)
    old_key = root.get(KEY)
    crt, key = pki_set["private"]
    root.write("/root/new.crt", crt)
    root.write("/root/new.key", key, mode=0o600)
    root.run(f"cp /root/new.crt {CERT}")
    res = root.run("xivo-certs sync --quiet", check=False)
    check.eq(root.get(CERT), crt, "server.crt after the sync between the two copies")
    check.eq(root.get(KEY), old_key, "server.key after the sync between the two copies")
    check.eq([r[0] for r in hook_runs(root)], ["install"],
             f"hooks ran for a half-copied pair (sync exit {res.rc}: {res.output.strip()[-300:]!r})")
    check.done("sync between the two copies")
    root.run(f"cp /root/new.key {KEY}")
    res = root.run("xivo-certs sync --quiet", check=False)
    check.eq(res.rc, 0, f"sync after the second copy: {res.output[-400:]!r}")
    check_admin_installed(root, check, "private", pki_set, crt, key, "after the second copy")
    check.eq([r[0] for r in hook_runs(root)], ["install", "sync"], "hook runs after both copies")
    check.done("sync after the second copy")


def test_s17_renew_timer_command(root, deb):
    """What the daily timer runs (`xivo-certs renew`, read from the installed unit): renews the
    package's certificate inside the renew window, leaves an admin's expiring one alone."""
    check = Check(root)
    prepare_daemons(root)
    add_record_hook(root)
    install(root, deb, check)
    unit = (root.get("/lib/systemd/system/xivo-certs-renew.service")
            or root.get("/usr/lib/systemd/system/xivo-certs-renew.service") or b"").decode()
    m = re.search(r"(?m)^ExecStart=(.+)$", unit)
    if not check.true(m, f"xivo-certs-renew.service has no ExecStart: {unit!r}"):
        check.done()
    renew = m.group(1).strip()
    before = root.get(CERT)
    res = root.run(renew, check=False)
    check.eq(res.rc, 0, f"`{renew}` far from expiry: {res.output[-300:]!r}")
    check.eq(root.get(CERT), before, "certificate renewed far from expiry")
    res = root.run("xivo-certs generate --days 10", check=False)
    check.eq(res.rc, 0, f"generate --days 10: {res.output[-300:]!r}")
    short = root.get(CERT)
    runs = len(hook_runs(root))
    res = root.run(renew, check=False)
    check.eq(res.rc, 0, f"`{renew}` inside the renew window: {res.output[-300:]!r}")
    data = check_status_ok(root, check, "after renew")
    check_default_pair(root, check, "localhost", "rsa:2048", data)
    check.true(root.get(CERT) != short, "the default certificate was not renewed inside the window")
    check.eq([r[0] for r in hook_runs(root)[runs:]], ["renew"], "hook runs of the renewal")
    check.done("default certificate")

    # An admin's certificate 10 days from expiry: renew leaves it (status warns).
    k, c = self_signed(["localhost"], days=10, org=ORG)
    admin_crt, admin_key = cert_pem(c), key_pem(k)
    root.write("/root/a.crt", admin_crt)
    root.write("/root/a.key", admin_key, mode=0o600)
    res = root.run("xivo-certs install --cert /root/a.crt --key /root/a.key", check=False)
    check.eq(res.rc, 0, f"xivo-certs install of an admin certificate: {res.output[-300:]!r}")
    res = root.run(renew, check=False)
    check.eq(root.get(CERT), admin_crt, "renew replaced an admin's certificate")
    check.eq(root.get(KEY), admin_key, "renew replaced an admin's key")
    check.done("admin certificate near expiry")


def test_s18_reconfigure_key_type(root, deb):
    """A plain install at a terminal asks nothing (both defaults work); dpkg-reconfigure at low
    priority: Enter at the name (an empty answer keeps the current name), another key type from
    the list: the default certificate is regenerated with it."""
    check = Check(root)
    add_record_hook(root)
    root.copy_in(deb, "/tmp/xivo-certs.deb")  # installed at a terminal, at debconf's own priority
    res = root.run("apt-get install -y --no-install-recommends -o Dpkg::Use-Pty=0 /tmp/xivo-certs.deb",
                   tty_input="", env={"DEBIAN_FRONTEND": "teletype"}, check=False)
    check.eq(res.rc, 0, f"apt-get install at a terminal: {res.output[-800:]!r}")
    check.true("Host name of the HTTPS" not in res.output,
               "a plain install asked for the host name, whose default works")
    first = facts(root.get(CERT))
    res = root.run("dpkg-reconfigure -fteletype -plow xivo-certs", tty_input="\nec:p256\n",
                   env={"DEBIAN_FRONTEND": "teletype"}, check=False)
    check.eq(res.rc, 0, f"dpkg-reconfigure -plow: {res.output[-800:]!r}")
    data = check_status_ok(root, check, "after the key type change")
    new = check_default_pair(root, check, "localhost", "ec:p256", data)
    if new:
        check.true(new["fingerprint"] != first["fingerprint"], "certificate not regenerated")
    check.eq((root.state() or {}).get("key_type"), "ec:p256", "state key_type")
    check.eq([r[0] for r in hook_runs(root)], ["install", "reconfigure"], "hook runs")
    check.done()


def test_s19_strong_legacy_default_kept(root, deb, standins, tmp_path):
    """The upgrade from an old package whose own certificate (CN=localhost, self-signed, no state
    file) is still strong: taken as the default one and kept as it is (no needless new
    certificate, no restart), then recorded so that a later rename regenerates it."""
    check = Check(root)
    prepare_daemons(root)
    add_record_hook(root)
    install(root, standins["old"], check, "stand-in 15.11")
    args = ["openssl", "req", "-x509", "-nodes", "-newkey", "rsa:2048", "-sha256",
                       "-days", "825", "-subj", "/CN=localhost", "-addext",
                       "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
                       "-addext", "extendedKeyUsage=serverAuth",
                       "-keyout", str(tmp_path / "k"), "-out", str(tmp_path / "c")]
    subprocess.run(args, check=True, capture_output=True)
    crt, key = (tmp_path / "c").read_bytes(), (tmp_path / "k").read_bytes()
    root.write(CERT, crt, mode=0o644, gid=WWW_DATA)
    root.write(KEY, key, mode=0o640, gid=WWW_DATA)
    install(root, deb, check, "upgrade 15.11 -> real")
    check.eq(root.get(CERT), crt, "a strong legacy default certificate was replaced")
    res, data = status(root)
    check.eq(res.rc, 0, f"status: {res.output[-300:]!r}")
    if isinstance(data, dict):
        check.eq(data.get("default"), True, "status default (legacy CN=localhost certificate)")
    check.done("upgrade")
    res = root.run("dpkg-reconfigure -fteletype -pmedium xivo-certs", tty_input="pbx.example.com\n",
                   env={"DEBIAN_FRONTEND": "teletype"}, check=False)
    check.eq(res.rc, 0, f"dpkg-reconfigure: {res.output[-500:]!r}")
    check_default_pair(root, check, "pbx.example.com", "rsa:2048")
    check.done("rename after the upgrade")


def test_s20_concurrent_syncs_and_apt_hook(root, deb, standins, pki_set):
    """The admin copies a pair and does not run sync; the path unit and apt's Post-Invoke start
    two syncs at once (the lock serialises them: hooks run once); a later apt run finds nothing
    to do."""
    check = Check(root)
    prepare_daemons(root)
    add_record_hook(root)
    resolvable(root, ADMIN_HOST)
    install(root, deb, check)
    crt, key = pki_set["selfsigned"]
    root.write("/root/new.crt", crt)
    root.write("/root/new.key", key, mode=0o600)
    root.run(f"cp /root/new.crt {CERT} && cp /root/new.key {KEY}")
    res = root.run("xivo-certs sync --quiet & xivo-certs sync --quiet & wait", check=False)
    check.eq([r[0] for r in hook_runs(root)], ["install", "sync"], "hook runs after two concurrent syncs")
    check_admin_installed(root, check, "selfsigned", pki_set, crt, key, "after concurrent syncs")
    check.done("two syncs at once")
    install(root, standins["newd"], check, "xivo-newd")
    check.eq([r[0] for r in hook_runs(root)], ["install", "sync", "sync"],
             "hook runs after apt installed a daemon (one for its new conf.d)")
    res = root.run("apt-get purge -y xivo-newd", check=False)
    check.eq(res.rc, 0, f"apt-get purge xivo-newd: {res.output[-300:]!r}")
    check.done("apt hook")


def test_s21_remove_then_install_again(root, deb):
    """apt remove, then install again (from the config-files state): the kept pair is used as it
    is, no hook runs; purge then install: a new pair."""
    check = Check(root)
    add_record_hook(root)
    install(root, deb, check)
    pair = (root.get(CERT), root.get(KEY))
    res = root.run("apt-get remove -y xivo-certs", check=False)
    check.eq(res.rc, 0, f"apt-get remove: {res.output[-300:]!r}")
    install(root, deb, check, "install after remove")
    check.eq((root.get(CERT), root.get(KEY)), pair, "pair bytes after remove + install")
    check.eq([r[0] for r in hook_runs(root)], ["install"], "hook runs after remove + install")
    check_status_ok(root, check, "after remove + install")
    check.done("remove, install again")
    res = root.run("apt-get purge -y xivo-certs", check=False)
    check.eq(res.rc, 0, f"apt-get purge: {res.output[-300:]!r}")
    install(root, deb, check, "install after purge")
    data = check_status_ok(root, check, "after purge + install")
    new = check_default_pair(root, check, "localhost", "rsa:2048", data)
    if new:
        check.true(root.get(CERT) != pair[0], "the purged pair came back")
    check.done("purge, install again")


def test_s22_install_pkcs12_then_a_new_chain(root, deb):
    """Issue 11 items 3 and 4 with each release's own openssl and python3-cryptography: a PKCS#12
    file as old Windows exports make it (openssl pkcs12 -legacy, RC2), behind a password file, is
    installed with its chain in order; the same file again changes nothing and runs no hook; the
    same leaf with the root added runs the hooks, which write ca.crt."""
    from support import chains
    check = Check(root)
    add_record_hook(root)
    install(root, deb, check)
    ca = chains.CA("xivo-certs tests private CA")
    middle = ca.intermediate("xivo-certs tests intermediate CA")
    leaf = middle.issue(ADMIN_HOST)
    root.write("/root/leaf.pem", cert_pem(leaf.cert))
    root.write("/root/leaf.key", leaf.key_pem, mode=0o600)
    root.write("/root/middle.pem", middle.pem)
    root.write("/root/root.pem", ca.pem)
    root.write("/root/pw", "s3cret pass\n", mode=0o600)
    root.run("openssl pkcs12 -export -legacy -in /root/leaf.pem -inkey /root/leaf.key "
             "-certfile /root/middle.pem -out /root/pbx.p12 -passout 'pass:s3cret pass'")
    p12 = "xivo-certs install --cert /root/pbx.p12 --password-file /root/pw"
    root.run(p12, check=False)  # exits 1: the override has no root to verify against, yet
    check.eq(root.get(CERT), cert_pem(leaf.cert) + middle.pem, "server.crt after the PKCS#12 install")
    check.eq(root.get(KEY), leaf.key_pem, "server.key after the PKCS#12 install")
    runs = hook_runs(root)
    res = root.run(p12, check=False)
    in_place = "xivo-certs: the certificate, its chain and its key are already in place"
    check.eq((res.rc, res.out.strip()), (0, in_place), "the same PKCS#12 again")
    check.eq(hook_runs(root), runs, "hook runs after the same PKCS#12 again")
    res = root.run(f"{p12} --chain /root/root.pem", check=False)
    check.eq(res.rc, 0, f"the same leaf with the root added: {res.output[-300:]!r}")
    check.eq(len(hook_runs(root)), len(runs) + 1, "hook runs after the root was added")
    check.eq(root.get("/usr/share/xivo-certs/ca.crt"), ca.pem, "ca.crt after the root was added")
    check.done()
