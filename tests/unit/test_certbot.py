"""`xivo-certs certbot enable NAME | disable | deploy`: certbot's cli.ini and the state follow
enable and disable; deploy installs the enabled lineage only, once, and a failure stays in `status`
until an install succeeds. (certbot and pebble themselves: tests/package/test_certbot.py.)"""

import json
import subprocess

import pytest

from support.layout import CHECKOUT, CLI_INI
from xc_testlib import refusal_line

HOOK_LINE = "deploy-hook = test ! -x /usr/sbin/xivo-certs || /usr/sbin/xivo-certs certbot deploy"
MARK = "# Added by `xivo-certs certbot enable`; `xivo-certs certbot disable` removes these two lines."
ADMIN_INI = "email = admin@example.test\nkey-type = ecdsa\n"
# What an admin's cli.ini may hold (None: no cli.ini), each given back byte for byte by disable and
# by purge; but an empty one comes back as none (certbot reads both alike, and an empty cli.ini would
# stop the install of certbot's package at dpkg's conffile prompt).
ADMIN_INIS = {"lf": ADMIN_INI.encode(), "no final newline": b"max-log-backups = 0",
              "crlf": b"email = admin@example.test\r\nkey-type = ecdsa\r\n",
              "crlf, no final newline": b"email = admin@example.test\r\nkey-type = ecdsa",
              "latin-1": b"# caf\xe9\nemail = admin@example.test\n", "empty": b"", "none": None}


@pytest.fixture
def lineage(root, issued):
    """lineage(NAME, key_of=None): certbot's live/NAME directory for a certificate of NAME, its
    key that of the certificate for `key_of` when given (a broken lineage)."""
    def make(name, key_of=None):
        leaf = issued(name)
        live = root / "etc/letsencrypt/live" / name
        live.mkdir(parents=True, exist_ok=True)
        (live / "fullchain.pem").write_bytes(leaf.pem)
        (live / "privkey.pem").write_bytes(issued(key_of).key_pem if key_of else leaf.key_pem)
        return live
    return make


def enabled_lineage(root):
    return root.state().letsencrypt_lineage


def put_cli_ini(root, data):
    ini = root / CLI_INI
    ini.parent.mkdir(parents=True, exist_ok=True)
    ini.write_bytes(data)
    return ini


def purge_certbot_lines(ini):
    """What debian/postrm's purge does to certbot's cli.ini, on the file `ini`."""
    functions = (CHECKOUT / "debian/postrm").read_text().split('\ncase "$1" in')[0]
    subprocess.run(["sh", "-c", f'{functions}\npurge_certbot_lines "$1"', "sh", str(ini)], check=True)


@pytest.mark.parametrize("admin", ADMIN_INIS.values(), ids=ADMIN_INIS.keys())
def test_enable_then_disable_gives_cli_ini_back_byte_for_byte(root, xc, admin):
    ini = root / CLI_INI
    if admin is not None:
        put_cli_ini(root, admin)
    result = xc("certbot", "enable", "pbx.example.test")
    assert result.code == 0, result
    lines = ini.read_bytes().splitlines()
    assert lines.count(HOOK_LINE.encode()) == 1 and lines.count(MARK.encode()) == 1
    assert enabled_lineage(root) == "pbx.example.test"
    assert xc("certbot", "enable", "pbx.example.test").code == 0
    assert ini.read_bytes().splitlines() == lines
    result = xc("certbot", "disable")
    assert result.code == 0, result
    assert enabled_lineage(root) is None
    assert (ini.read_bytes() if ini.exists() else None) == (admin or None)
    if admin:
        written = ini.stat()
        assert xc("certbot", "disable").code == 0
        assert (ini.stat().st_ino, ini.stat().st_mtime_ns) == (written.st_ino, written.st_mtime_ns)


@pytest.mark.parametrize("admin", ADMIN_INIS.values(), ids=ADMIN_INIS.keys())
def test_purge_gives_cli_ini_back_as_disable_does(root, xc, admin):
    ini = root / CLI_INI
    if admin is not None:
        put_cli_ini(root, admin)
    assert xc("certbot", "enable", "pbx.example.test").code == 0
    purge_certbot_lines(ini)
    assert (ini.read_bytes() if ini.exists() else None) == (admin or None)
    assert [path.name for path in ini.parent.iterdir()] == ([ini.name] if admin else [])


def test_our_lines_turned_crlf_are_still_ours(root, xc):
    ini = put_cli_ini(root, b"email = admin@example.test\r\n")
    assert xc("certbot", "enable", "pbx.example.test").code == 0
    ini.write_bytes(ini.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    before = root.snapshot()
    result = xc("certbot", "enable", "pbx.example.test")
    assert result.code == 0, result
    assert root.snapshot() == before
    assert xc("certbot", "disable").code == 0
    assert ini.read_bytes() == b"email = admin@example.test\r\n"


def test_disable_leaves_an_empty_cli_ini_it_did_not_empty(root, xc):
    ini = put_cli_ini(root, b"")
    assert xc("certbot", "disable").code == 0
    assert ini.read_bytes() == b""


def test_disable_without_certbot_writes_nothing_of_certbot(root, xc):
    assert xc("certbot", "disable").code == 0
    assert not (root / "etc/letsencrypt").exists()


@pytest.mark.parametrize("bad", ["../etc", ".hidden", "a b", ""])
def test_enable_refuses_what_is_no_certificate_name(root, xc, bad):
    assert "is not a certbot certificate name" in refusal_line(root, xc, "certbot", "enable", bad)


@pytest.mark.parametrize("line", [
    "deploy-hook = systemctl reload nginx", "deploy-hook: /root/myhook", "deploy-hook /root/myhook",
    "  deploy-hook=/root/myhook  ", "deploy-hook\t/root/myhook", "--deploy-hook /root/myhook",
    "renew-hook: /root/myhook", "deploy-hook", "deploy-hook = /root/myhook # reload",
])
@pytest.mark.parametrize("end, last", [("\n", "\n"), ("\r\n", "\r\n"), ("\n", "")])
def test_enable_refuses_a_cli_ini_with_a_deploy_hook_of_its_own(root, xc, line, end, last):
    """Each way certbot's ConfigArgParse reads a key: followed by `=`, `:` or whitespace."""
    ini = put_cli_ini(root, f"email = admin@example.test{end}{line}{last}".encode())
    root.lock_ready()
    assert refusal_line(root, xc, "certbot", "enable", "pbx.example.test") == (
        f"xivo-certs: {ini}: has a deploy-hook of its own; certbot takes one only: "
        "make it run `xivo-certs certbot deploy` too")


@pytest.mark.parametrize("line", ["# deploy-hook = /root/myhook", "; deploy-hook: x", "pre-hook = /root/x",
                                  "deploy-hooks-dir = /root/x", "post-hook: /usr/bin/deploy-hook"])
def test_enable_takes_a_cli_ini_whose_deploy_hook_is_no_key(root, xc, line):
    put_cli_ini(root, f"{line}\n".encode())
    result = xc("certbot", "enable", "pbx.example.test")
    assert result.code == 0, result


@pytest.mark.parametrize("action", ["enable", "disable"])
def test_a_symlinked_cli_ini_is_refused_where_it_would_change(root, xc, action):
    target = root / "etc/certbot.ini"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(ADMIN_INI.encode() if action == "enable" else f"{MARK}\n{HOOK_LINE}\n".encode())
    ini = root / CLI_INI
    ini.parent.mkdir(parents=True)
    ini.symlink_to(target)
    root.lock_ready()
    assert refusal_line(root, xc, "certbot", action, *(["pbx.example.test"] if action == "enable" else [])) \
        == (f"xivo-certs: {ini}: is a symbolic link; xivo-certs edits a regular file only "
            "(edit its target by hand: see xivo-certs(8))")


def test_disable_leaves_a_symlinked_cli_ini_without_our_lines_alone(root, xc):
    assert xc("certbot", "enable", "pbx.example.test").code == 0
    target = root / "etc/certbot.ini"
    target.write_bytes(ADMIN_INI.encode())
    ini = root / CLI_INI
    ini.unlink()
    ini.symlink_to(target)
    assert xc("certbot", "disable").code == 0
    assert enabled_lineage(root) is None
    assert ini.is_symlink() and target.read_bytes() == ADMIN_INI.encode()


def test_disable_turns_off_with_a_cli_ini_that_is_not_utf8(root, xc):
    ini = put_cli_ini(root, ADMIN_INI.encode())
    assert xc("certbot", "enable", "pbx.example.test").code == 0
    with open(ini, "ab") as stream:
        stream.write(b"# caf\xe9\n")
    result = xc("certbot", "disable")
    assert result.code == 0, result
    assert enabled_lineage(root) is None
    assert ini.read_bytes() == ADMIN_INI.encode() + b"# caf\xe9\n"


def test_deploy_installs_the_enabled_lineage_once_and_no_other(root, xc, lineage, monkeypatch):
    assert xc("ensure").code == 0
    default = root.cert.read_bytes()
    assert xc("certbot", "enable", "pbx.example.test").code == 0
    monkeypatch.setenv("RENEWED_LINEAGE", str(lineage("mail.example.test")))
    result = xc("certbot", "deploy")
    assert (result.code, result.out, result.err) == (0, "", "")
    assert root.cert.read_bytes() == default
    live = lineage("pbx.example.test")
    monkeypatch.setenv("RENEWED_LINEAGE", str(live))
    assert xc("certbot", "deploy").code == 0
    assert root.cert.read_bytes() == (live / "fullchain.pem").read_bytes()
    assert root.key.read_bytes() == (live / "privkey.pem").read_bytes()
    runs = root.hook_runs()
    assert [run["XIVO_CERTS_REASON"] for run in runs] == ["install", "install-cert"]
    before = root.snapshot()
    assert xc("certbot", "deploy").code == 0  # certbot runs two hooks per renewal
    assert root.snapshot() == before


def test_enable_installs_a_lineage_certbot_made_before(root, xc, lineage):
    live = lineage("pbx.example.test")
    assert xc("certbot", "enable", "pbx.example.test").code == 0
    assert root.cert.read_bytes() == (live / "fullchain.pem").read_bytes()


def test_a_failed_deploy_stays_in_status_until_one_succeeds(root, xc, lineage):
    assert xc("ensure").code == 0
    default = root.cert.read_bytes()
    assert xc("certbot", "enable", "pbx.example.test").code == 0
    live = lineage("pbx.example.test", key_of="other.example.test")
    result = xc("certbot", "deploy", "--lineage", live)
    assert result.code == 1
    assert result.err == (f"xivo-certs: {live}/privkey.pem: does not match the certificate in "
                          f"{live}/fullchain.pem\n")
    assert root.cert.read_bytes() == default
    problems = json.loads(xc("status", "--json").out)["problems"]
    failure = root / "var/lib/xivo-certs/certbot-failure"
    assert len(problems) == 1 and problems[0].startswith(
        f"{failure}: certbot's deploy hook could not install {live} on ")
    assert problems[0].endswith(f": {live}/privkey.pem: does not match the certificate in "
                                f"{live}/fullchain.pem; once fixed, `xivo-certs certbot deploy "
                                f"--lineage {live}` installs it")
    lineage("pbx.example.test")
    assert xc("certbot", "deploy", "--lineage", live).code == 0
    assert not failure.exists()
    assert not any(str(failure) in problem for problem in json.loads(xc("status", "--json").out)["problems"])


def test_deploy_without_a_lineage_is_one_line(root, xc):
    result = xc("certbot", "deploy")
    assert result.code == 1
    assert result.err == ("xivo-certs: certbot deploy: no lineage (certbot gives it as "
                          "RENEWED_LINEAGE; by hand, give --lineage /etc/letsencrypt/live/NAME)\n")


def test_status_says_when_cli_ini_lost_the_deploy_hook(root, xc):
    assert xc("ensure").code == 0
    assert xc("certbot", "enable", "pbx.example.test").code == 0
    ini = root / CLI_INI
    assert json.loads(xc("status", "--json").out)["problems"] == []
    ini.write_text(ADMIN_INI)  # an upgrade of certbot took the maintainer's version of its conffile
    result = xc("status", "--json")
    assert result.code == 1
    assert json.loads(result.out)["problems"] == [
        f"{ini}: certbot's deploy-hook for xivo-certs is gone, so `certbot certonly` no longer "
        "installs its certificate: run `xivo-certs certbot enable pbx.example.test` again"]
    assert xc("certbot", "disable").code == 0
    assert xc("status").code == 0
