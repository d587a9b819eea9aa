"""Issue 13, items 2-4 with the installed package, on Debian 12 and 13: a CSR signed by a CA
(`openssl x509 -req`, the distribution's openssl, as a commercial CA would) and installed without
--key; what `openssl s_server` (serving the old and the new certificate) actually serves, in
`status`; the daily renew's expiry alert (hooks with XIVO_CERTS_REASON=expiring, once) and the
node-exporter textfile."""

import datetime
import json

from helpers import ADMIN_HOST, Check, fresh, hook_runs, install, resolvable
from support.facts import facts
from support.layout import CERT, KEY, PROM, SETTINGS
from test_tls import Server, free_port

REQUEST_KEY = "/var/lib/xivo-certs/request.key"
CA_COMMAND = ("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 "
              "-subj '/CN=xivo-certs tests commercial CA' -keyout /root/ca.key -out /root/ca.crt "
              "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign")
# The CA signs for 10 days: inside the 14-day alert threshold.
SIGN_COMMAND = ("openssl x509 -req -in /root/xivo.csr -CA /root/ca.crt -CAkey /root/ca.key "
                "-CAcreateserial -days 10 -sha256 -copy_extensions copy -out /root/xivo.crt")


def test_i13_csr_served_and_alerts(root, deb):
    check = Check(root)
    fresh(root)
    resolvable(root, ADMIN_HOST)
    install(root, deb, check)
    root.write("/root/old.crt", root.get(CERT))
    root.write("/root/old.key", root.get(KEY), mode=0o600)
    request_then_install(root, check)
    check.done("request, then install without --key")
    servers = [Server(root, free_port(), "/root/old.crt", "/root/old.key"), Server(root, free_port())]
    try:
        closed = free_port()
        root.write(SETTINGS, f"probe = nginx:{servers[0].port} auth:{servers[1].port} dird:{closed}\n")
        served(root, check, [("nginx", servers[0].port, "restart needed"),
                             ("auth", servers[1].port, "current"), ("dird", closed, "not listening")])
        check.done("what the services serve")
        renew_alerts(root, check)
        check.done("the expiry alert of renew")
    finally:
        for server in servers:
            server.stop()


def request_then_install(root, check):
    res = root.run(f"xivo-certs request --hostname {ADMIN_HOST} --out /root/xivo.csr", check=False)
    check.eq(res.rc, 0, f"`xivo-certs request` exit code: {res.output[-400:]!r}")
    check.eq(root.owner_mode(REQUEST_KEY), (0, 0, 0o600), f"{REQUEST_KEY} (uid, gid, mode)")
    root.run(CA_COMMAND + " 2>/dev/null")
    root.run(SIGN_COMMAND + " 2>/dev/null")
    res = root.run("xivo-certs install --cert /root/xivo.crt --chain /root/ca.crt", check=False)
    check.eq(res.rc, 0, f"`xivo-certs install` without --key exit code: {res.output[-400:]!r}")
    check.eq(facts(root.get(CERT))["dns"], [ADMIN_HOST], "the installed certificate's names")
    res = root.run(f"openssl x509 -noout -pubkey -in {CERT}; openssl pkey -pubout -in {KEY}")
    halves = res.out.split("-----END PUBLIC KEY-----")
    check.eq(halves[0].strip(), halves[1].strip(), "the installed key is the certificate's")
    check.true(not root.exists(REQUEST_KEY), f"{REQUEST_KEY} should be forgotten once installed")
    check.eq([run[0] for run in hook_runs(root)][-1:], ["install-cert"], "hook run of the install")


def served(root, check, expected):
    res = root.run("xivo-certs status --json", check=False)
    data = json.loads(res.out)
    check.eq([(entry["name"], entry["port"], entry["state"]) for entry in data["served"]], expected,
             "status served")
    check.eq(res.rc, 1, "status exit code with a service serving the old certificate")
    check.true(any("serves another certificate" in problem and "restart needed" in problem
                   for problem in data["problems"]), f"status problems: {data['problems']!r}")


def renew_alerts(root, check):
    root.mkdir("/var/lib/prometheus/node-exporter")
    before = len(hook_runs(root))
    res = root.run("xivo-certs renew", check=False)
    check.eq(res.rc, 1, "renew exit code with an admin's certificate inside the renew window")
    check.true("(alert at 14 days): running the hooks with XIVO_CERTS_REASON=expiring" in res.err,
               f"renew's alert line on stderr: {res.err!r}")
    runs = hook_runs(root)
    check.eq([run[0] for run in runs[before:]], ["expiring"], "hook runs of the alert")
    problems = len(json.loads(root.run("xivo-certs status --json", check=False).out)["problems"])
    end = int(facts(root.get(CERT))["not_after"].replace(tzinfo=datetime.timezone.utc).timestamp())
    text = root.text(PROM)
    check.true(f"xivo_certs_not_after_timestamp_seconds {end}\n" in text, f"{PROM}: {text!r}")
    check.true(f"xivo_certs_problems {problems}\n" in text, f"{PROM} (status: {problems}): {text!r}")
    check.eq(root.owner_mode(PROM), (0, 0, 0o644), f"{PROM} (uid, gid, mode)")
    res = root.run("xivo-certs renew", check=False)
    check.true("XIVO_CERTS_REASON=expiring" not in res.err, f"a second renew alerts again: {res.err!r}")
    check.eq(len(hook_runs(root)), before + 1, "hook runs after a second renew")
