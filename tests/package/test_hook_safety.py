"""Issue 12, items 5, 8 and 9 in a real install, on Debian 12 and 13: hostile data and hooks never
fail an apt run (postinst runs `ensure --hooks-nonfatal`), and the installed command is isolated
from its caller's environment (python3 -I, a fixed PATH for its tools and hooks)."""

from helpers import RECORD, Check, add_record_hook, hook_runs, install, prepare_daemons, put_pair
from support import hooks
from support.certs import cert_pem, key_pem, make_cert, name, new_key
from support.layout import HOOKS_DIR

HOSTILE_NAMES = ["xivo.example.com", "evil\0.example.com"] + [
    f"host-{number:04d}-{'x' * 40}.example.com" for number in range(2501)]  # 150 KB of names
BACKGROUND = "#!/bin/sh\nsleep 3600 &\necho $! > /var/tmp/sleep.pid\n"
ENDLESS = "#!/bin/sh\nsleep 3600 &\necho $! > /var/tmp/endless.pid\nwait\n"
FAKE = "#!/bin/sh\ntouch /var/tmp/fake-ran\n"
PLANTED = "open('/var/tmp/planted-ran', 'w').close()\n"


def test_s31_hostile_pair_and_hooks_never_fail_apt(root, deb):
    check = Check(root)
    prepare_daemons(root)
    add_record_hook(root)
    install(root, deb, check)
    key = new_key("ec:p256")
    put_pair(root, cert_pem(make_cert(key, name("xivo.example.com"), dns=HOSTILE_NAMES, raw_dns=True)),
             key_pem(key))
    root.write("/etc/xivo-certs/xivo-certs.conf", "hook_timeout = 3\n")
    root.run(f"ln -s /nonexistent/hook {HOOKS_DIR}/20-gone")
    root.write(f"{HOOKS_DIR}/30-background", BACKGROUND, mode=0o755)
    root.write(f"{HOOKS_DIR}/60-endless", ENDLESS, mode=0o755)
    try:
        res = root.apt_install(deb, extra="--reinstall", check=False)
    finally:
        root.run("kill $(cat /var/tmp/sleep.pid) 2>/dev/null; true", check=False)
    check.eq(res.rc, 0, f"apt-get install --reinstall: {res.output[-800:]!r}")
    check.true("Traceback" not in res.output, f"a traceback: {res.output[-1500:]!r}")
    for warning in ("xivo-certs: warning: hook 20-gone (a link to nothing: /nonexistent/hook) failed",
                    "xivo-certs: warning: hook 60-endless (still running after 3 s, the hook_timeout: "
                    "killed, with the hooks after it) failed"):
        check.true(warning in res.output.splitlines(), f"{warning!r} missing: {res.output[-1500:]!r}")
    check.eq(root.run("kill -0 $(cat /var/tmp/endless.pid) 2>/dev/null || echo gone").out.strip(), "gone",
             "the endless hook's child")
    last = hooks.runs(root.host(RECORD))[-1]
    names = last["XIVO_CERTS_NAMES"].split(" ")
    check.eq(names, HOSTILE_NAMES[:1] + HOSTILE_NAMES[2:len(names) + 1], "XIVO_CERTS_NAMES: the first names")
    check.true(len(last["XIVO_CERTS_NAMES"]) <= 32768, "XIVO_CERTS_NAMES over 32768 bytes")
    check.eq(hook_runs(root)[-1][0], "upgrade", "the hooks ran for the hand-copied pair at the upgrade")
    check.done()


def test_s32_the_callers_environment_never_steers_the_command(root, deb):
    check = Check(root)
    prepare_daemons(root)
    add_record_hook(root)
    install(root, deb, check)
    for tool in ("run-parts", "openssl", "xivo-certs"):
        root.write(f"/tmp/evil/{tool}", FAKE, mode=0o755)
    root.write("/tmp/evil/xivo_certs/__init__.py", PLANTED)
    site = root.run("HOME=/tmp/home python3 -c 'import site; print(site.getusersitepackages())'").out
    root.write(f"{site}/evil.pth", f"import os; {PLANTED}")
    root.write(f"{HOOKS_DIR}/40-path", '#!/bin/sh\nprintf "%s\\n" "$PATH" > /var/tmp/hook-path\n', mode=0o755)
    res = root.run("cd /tmp/evil && HOME=/tmp/home PYTHONPATH=/tmp/evil PATH=/tmp/evil::/usr/sbin:/usr/bin "
                   "/usr/sbin/xivo-certs generate --hostname pbx.example.com", check=False)
    check.eq(res.rc, 0, f"generate: {res.output[-800:]!r}")
    check.eq(root.glob("/var/tmp/*-ran"), [], "what the caller's environment planted ran")
    check.eq(root.text("/var/tmp/hook-path").strip(), "/usr/sbin:/usr/bin:/sbin:/bin", "the hooks' PATH")
    check.eq(hook_runs(root)[-1][2], "pbx.example.com", "the hooks ran for the new certificate")
    check.done()
