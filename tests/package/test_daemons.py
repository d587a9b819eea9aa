"""Issue 11, "Done when": the XiVO daemons reach their peers, in Debian 12 and 13 roots, with no
manual /etc/hosts edit.

Each daemon's configuration is loaded the way the daemons load it (support.daemons, the stand-in
for xivo-lib-python's read_config_file_hierarchy: conf.d sorted, first value wins, nested maps
merged) and every service section is reached with python3-requests at its merged `host`, with
`verify=` its merged value, against `openssl s_server` on 127.0.0.1 serving server.crt: for the
default certificate, an admin's certificate from a private CA, and one from a CA the system trusts.
The machine is named as Debian's installer names it (/etc/hostname `xivo`, its FQDN on 127.0.1.1,
where no daemon listens); the certificate's name is made to reach 127.0.0.1 by xivo-certs alone.
"""

import json
import posixpath

import pytest

import debroot
from helpers import (ADMIN_HOST, Check, add_trusted_ca, check_override, check_status_ok, put_pair)
from support import daemons
from support.layout import CA, CERT, CONFD_DIRS, SERVICES, hosts_block
from test_tls import Server, free_port

STANDIN = "/root/daemons.py"
INSTALLER_HOSTS = f"127.0.1.1\t{ADMIN_HOST} xivo\n"  # what Debian's installer adds
BLOCK = hosts_block(ADMIN_HOST)
XIVO_TEMPLATE = "/usr/share/xivo-config/templates/system/etc/hosts"
CUSTOM_TEMPLATE = "/etc/xivo/custom-templates/system/etc/hosts"


def daemon_config(port):
    """A daemon's config.yml as XiVO ships it: every peer on localhost, verified with server.crt."""
    return "".join(f"{service}:\n  host: localhost\n  port: {port}\n  {daemons.verify_key(service)}: {CERT}\n"
                   for service in SERVICES)


@pytest.fixture(scope="module", params=debroot.selected_suites())
def xivo(request, bases, deb):
    """A root per distribution with python3-requests, the daemons' configurations and the
    machine's name as the installer writes it, then the package installed."""
    root = debroot.Root(request.param, bases.tree(request.param), f"daemons [{request.param}]")
    try:
        root.run("apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-requests "
                 ">/dev/null")
        root.port = free_port()
        for directory in CONFD_DIRS:
            root.mkdir(directory)
            root.write(posixpath.join(posixpath.dirname(directory), "config.yml"), daemon_config(root.port))
        root.copy_in(daemons.__file__, STANDIN)
        root.write("/etc/hostname", "xivo\n")
        root.append("/etc/hosts", INSTALLER_HOSTS)
        root.hosts_before = root.read("/etc/hosts")
        root.apt_install(deb)
        yield root
    finally:
        root.close()


def reach_every_peer(root, check, what):
    """Every service of every daemon, reached as the daemons would, against server.crt served on
    127.0.0.1 only (as the daemons listen: 127.0.1.1 reaches nothing)."""
    server = Server(root, root.port, address="127.0.0.1")
    try:
        res = root.run(f"python3 {STANDIN} " + " ".join(posixpath.dirname(d) for d in CONFD_DIRS),
                       check=False)
        check.eq(res.rc, 0, f"the daemons' stand-in ({what}): {res.err[-500:]!r}")
        outcome = json.loads(res.out) if res.rc == 0 else {}
        check.eq(len(outcome), len(CONFD_DIRS), f"daemons loaded ({what})")
        for directory, services in outcome.items():
            check.eq(sorted(services), sorted(SERVICES), f"services configured in {directory} ({what})")
            failed = sorted(service for service, error in services.items() if error != "ok")
            check.eq(failed, [], f"{directory}: peers not reached ({what}; the first: "
                     f"{services[failed[0]][:300] if failed else None})")
    finally:
        server.stop()
    check.done(what)


def test_the_daemons_reach_their_peers_for_every_kind_of_certificate(xivo, pki_set):
    root = xivo
    check = Check(root)
    check_status_ok(root, check, "default certificate")
    reach_every_peer(root, check, "the default certificate")

    for kind, verify in (("private", CA), ("trusted", True)):
        if kind == "trusted":
            add_trusted_ca(root, pki_set["trusted_ca"])
        crt, key = pki_set[kind]
        put_pair(root, crt, key, how="cp")
        res = root.run("xivo-certs sync", check=False)
        check.eq(res.rc, 0, f"`xivo-certs sync` ({kind}): {res.output[-500:]!r}")
        check_override(root, check, ADMIN_HOST, verify)
        check_status_ok(root, check, f"{kind} CA")
        # the FQDN was on 127.0.1.1: the managed block, first, sends it to 127.0.0.1
        check.eq(root.text("/etc/hosts"), BLOCK + root.hosts_before.decode(), f"/etc/hosts ({kind})")
        first = root.run(f"getent ahostsv4 {ADMIN_HOST} | head -n 1", check=False).out.split()[:1]
        check.eq(first, ["127.0.0.1"], f"getent ahostsv4 {ADMIN_HOST} ({kind})")
        reach_every_peer(root, check, f"an admin's certificate from a {kind} CA")

    res = root.run("xivo-certs revert", check=False)
    check.eq(res.rc, 0, f"`xivo-certs revert`: {res.output[-500:]!r}")
    check.eq(root.read("/etc/hosts"), root.hosts_before, "/etc/hosts after revert: as the installer left it")
    reach_every_peer(root, check, "the default certificate again")


def test_with_xivo_templates_the_block_goes_into_the_custom_template_and_purge_takes_it_out(
        root, deb, pki_set):
    check = Check(root)
    shipped = "127.0.0.1\tlocalhost\n127.0.1.1\t#XIVO_HOSTNAME#\n"
    root.write(XIVO_TEMPLATE, shipped)
    root.write("/etc/hostname", "xivo\n")
    root.append("/etc/hosts", INSTALLER_HOSTS)
    hosts_before = root.read("/etc/hosts")
    for directory in CONFD_DIRS:
        root.mkdir(directory)
    root.apt_install(deb)
    crt, key = pki_set["private"]
    put_pair(root, crt, key, how="cp")
    res = root.run("xivo-certs sync", check=False)
    check.eq(res.rc, 0, f"`xivo-certs sync`: {res.output[-500:]!r}")
    check.eq(root.get(CUSTOM_TEMPLATE), (BLOCK + shipped).encode(),
             f"{CUSTOM_TEMPLATE}, made from the shipped one")
    if root.exists(CUSTOM_TEMPLATE):
        check.eq(root.owner_mode(posixpath.dirname(CUSTOM_TEMPLATE)), (0, 0, 0o755), "its directory")
    check.eq(root.get("/etc/hosts"), BLOCK.encode() + hosts_before, "/etc/hosts")
    root.append(CUSTOM_TEMPLATE, "10.0.0.9\tadmins-own\n")  # the admin adds a line of theirs
    res = root.run("apt-get purge -y -qq xivo-certs", check=False)
    check.eq(res.rc, 0, f"apt-get purge: {res.output[-500:]!r}")
    check.eq(root.get(CUSTOM_TEMPLATE), (shipped + "10.0.0.9\tadmins-own\n").encode(),
             f"{CUSTOM_TEMPLATE} after purge: the admin's lines only")
    check.eq(root.get("/etc/hosts"), hosts_before, "/etc/hosts after purge")
    check.done("XiVO's hosts template")
