"""Let's Encrypt end to end, on Debian 12 and 13: Debian's certbot against Debian's pebble in the
root; `xivo-certs certbot enable NAME` and the package's deploy hook
(/etc/letsencrypt/renewal-hooks/deploy/xivo-certs) install the lineage NAME, and only that one.

The certificate pebble issues is checked byte for byte against certbot's live/NAME files; pebble's
root is added to the root's trust store, as Let's Encrypt's is on a real machine."""

import contextlib
import subprocess

import pytest

import acme
from helpers import (Check, add_trusted_ca, check_status_ok, fresh, hook_runs, install, resolvable,
                     status)
from support.facts import fingerprint
from support.certs import certs_from_pem
from support.layout import CERT, CLI_INI, KEY, WWW_DATA

PBX = "pbx.example.com"
OTHER = "mail.example.com"
HOOK = "/etc/letsencrypt/renewal-hooks/deploy/xivo-certs"
FAILURE = "/var/lib/xivo-certs/certbot-failure"


@pytest.fixture
def pebble(root, deb):
    """A root with the package, certbot and a running pebble whose root CA the system trusts."""
    check = Check(root)
    fresh(root)
    install(root, deb, check)
    check.done("install")
    acme.install_tools(root)
    server = acme.Pebble(root)
    try:
        add_trusted_ca(root, server.root_ca())
        resolvable(root, PBX)
        yield server
    finally:
        server.stop()


def turn_on(root, check):
    res = root.run(f"xivo-certs certbot enable {PBX}", check=False)
    check.eq(res.rc, 0, f"`xivo-certs certbot enable {PBX}` exit code: {res.output[-800:]!r}")


def pair(root):
    return root.get(CERT), root.get(KEY)


def check_installed(root, check, what):
    """server.crt and server.key are certbot's live/PBX fullchain and key, with the package's
    owners and modes, and status has nothing to say."""
    check.eq(pair(root), acme.lineage(root, PBX), f"server.crt and server.key vs live/{PBX} ({what})")
    check.eq(root.owner_mode(KEY), (0, WWW_DATA, 0o640), f"server.key (uid, gid, mode) ({what})")
    data = check_status_ok(root, check, what)
    check.eq(data.get("names"), [PBX], f"status names ({what})")
    check.true(not root.exists(FAILURE), f"{FAILURE} left after a successful install ({what})")


def test_certonly_renew_and_other_lineage(root, pebble):
    check = Check(root)
    check.eq(root.owner_mode(HOOK), (0, 0, 0o755), f"{HOOK} (uid, gid, mode)")
    turn_on(root, check)

    res = acme.certonly_manual(root, pebble, PBX)
    check_installed(root, check, "certonly --manual")
    issued = fingerprint(certs_from_pem(root.read(CERT))[0])
    check.eq(hook_runs(root)[-1][:3], ["install-cert", issued, PBX], "the hooks' run after certonly")
    check.done(f"certonly: {res.output[-1500:]}")

    installed = pair(root)
    res = acme.certonly_standalone(root, pebble, OTHER)
    check.true(all(acme.lineage(root, OTHER)), f"certbot made no live/{OTHER}: {res.output[-1500:]}")
    check.eq(pair(root), installed, f"the pair after certonly -d {OTHER} (another lineage)")
    check.done("another lineage")

    runs = len(hook_runs(root))
    res = acme.renew(root, pebble)
    check.true(pair(root) != installed, f"the pair was not replaced by the renewal: {res.output[-1500:]}")
    check_installed(root, check, "renew --force-renewal")
    check.true(pair(root) != acme.lineage(root, OTHER), f"the pair is {OTHER}'s")
    check.eq(len(hook_runs(root)), runs + 1, "the hooks ran once for the renewal of both lineages")
    check.done("forced renewal")


def test_off_then_on_then_failure_reported(root, pebble):
    check = Check(root)
    default, debian_cli_ini = pair(root), root.get(CLI_INI)  # Debian's certbot ships cli.ini
    acme.certonly_manual(root, pebble, PBX)
    check.eq(pair(root), default, "the pair after certonly with letsencrypt_lineage unset")
    check_status_ok(root, check, "letsencrypt_lineage unset")
    check.done("off")

    turn_on(root, check)  # the lineage exists already: enable installs it
    check_installed(root, check, "certbot enable, after certonly")
    check.done("on")

    installed = pair(root)
    with read_only(root, "/usr/share/xivo-certs"):
        res = acme.renew(root, pebble, PBX, check=False)
    check.true(acme.lineage(root, PBX) != installed, "certbot did not renew")
    check.eq(pair(root), installed, "the pair after a failed install")
    check.true("xivo-certs: " in res.err and "Read-only file system" in res.err,
               f"certbot should show xivo-certs's error line: {res.output[-2000:]!r}")
    check.true("error code 1" in res.err, f"certbot should report the hook's exit status: {res.err!r}")
    res, data = status(root)
    check.eq(res.rc, 1, "`xivo-certs status` exit code after a failed install")
    problems = (data or {}).get("problems", [])
    check.true(len(problems) == 1 and problems[0].startswith(f"{FAILURE}: ")
               and "Read-only file system" in problems[0],
               f"status should report the failed install: {problems!r}")
    check.done("failure")

    acme.renew(root, pebble, PBX)
    check_installed(root, check, "the next renewal")
    check.done("the next renewal")

    installed = pair(root)
    res = root.run("xivo-certs certbot disable", check=False)
    check.eq(res.rc, 0, f"`xivo-certs certbot disable` exit code: {res.output[-800:]!r}")
    check.eq(root.get(CLI_INI), debian_cli_ini, f"{CLI_INI} after disable (xivo-certs's lines gone)")
    acme.renew(root, pebble, PBX)
    check.true(acme.lineage(root, PBX)[0] != installed[0], "certbot did not renew")
    check.eq(pair(root), installed, "the pair after a renewal once disabled")
    check_status_ok(root, check, "disabled")
    check.done("off again")


@contextlib.contextmanager
def read_only(root, path):
    """PATH of the root mounted read-only (a bind mount on the host, seen by the root's commands)."""
    host = root.host(path)
    subprocess.run(["mount", "--bind", host, host], check=True)
    try:
        subprocess.run(["mount", "-o", "remount,bind,ro", host], check=True)
        yield
    finally:
        subprocess.run(["umount", host], check=True)
