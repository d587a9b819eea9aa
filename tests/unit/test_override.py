"""xivo_certs.override and `xivo-certs override [--adopt]`: the hostname override YAML, its links
in every conf.d directory, the CA file, foreign files, name resolution."""

import os
import socket
from pathlib import Path

import pytest
import yaml

from xivo_certs import override, settings as settings_module
from xivo_certs.context import Notes
from support.asserts import owner_mode
from support.certs import package_like, pem
from support.layout import CA as CA_PATH, LINK_NAME as LINK, OVERRIDE as OVERRIDE_PATH, SERVICES
from support.owners import GID, OWNER, UID, WWW_DATA
from xc_testlib import ALL_LINKED, CONFD_DIRS, NO_LINKS, refusal_line

DEFAULTS = settings_module.load("/nonexistent")


def expected_yaml(host, verify):
    result = {}
    for service in SERVICES:
        result[service] = {"host": host}
        if verify is not None:
            result[service]["verify" if service == "consul" else "verify_certificate"] = verify
    return result


def put_admin(root, ca, issued, dns=("pbx.example.test",), with_root=True, intermediate=False):
    """An admin's pair for `dns` (see the `issued` fixture), issued by `ca` or its intermediate."""
    leaf = issued(*dns, intermediate=intermediate)
    root.put_pair(leaf.cert, leaf.key, chain=leaf.chain + ([ca.cert] if with_root else []))
    root.lock_ready()
    return leaf.cert


def trust_system_wide(root, ca):
    bundle = root / "etc/ssl/certs/ca-certificates.crt"
    bundle.parent.mkdir(parents=True, exist_ok=True)
    bundle.write_bytes(pem(ca.cert))


# --- planning -------------------------------------------------------------------------------------------

def test_not_needed_when_the_certificate_covers_localhost(root, keys, ordinary_ca, issued):
    assert override.plan(root.paths, DEFAULTS, [package_like(keys.get("ec:p256"), "pbx.example.test")]) \
        .needed is False
    leaf = issued("pbx.example.test", "localhost")
    assert override.plan(root.paths, DEFAULTS, [leaf.cert, ordinary_ca.cert]).needed is False


def test_private_ca_points_the_services_at_the_ca_file(root, ordinary_ca, issued):
    put_admin(root, ordinary_ca, issued, intermediate=True)
    wanted = override.plan(root.paths, DEFAULTS, root.certs())
    assert (wanted.needed, wanted.host, wanted.verify, wanted.problems) == \
        (True, "pbx.example.test", CA_PATH, ())
    assert wanted.ca_pem == pem(ordinary_ca.cert)  # the chain's root, not the intermediate
    assert wanted.text.startswith(b"# Managed by xivo-certs")
    assert yaml.safe_load(wanted.text) == expected_yaml("pbx.example.test", CA_PATH)


def test_system_trusted_chain_verifies_with_true(root, ordinary_ca, issued):
    put_admin(root, ordinary_ca, issued, with_root=False, intermediate=True)
    trust_system_wide(root, ordinary_ca)
    wanted = override.plan(root.paths, DEFAULTS, root.certs())
    assert (wanted.verify, wanted.ca_pem, wanted.problems) == (True, None, ())
    assert yaml.safe_load(wanted.text) == expected_yaml("pbx.example.test", True)
    assert b"verify_certificate: true" in wanted.text and b"verify: true" in wanted.text


def test_an_untrusted_chain_without_its_root_is_a_problem(root, ordinary_ca, issued):
    put_admin(root, ordinary_ca, issued, with_root=False, intermediate=True)
    wanted = override.plan(root.paths, DEFAULTS, root.certs())
    assert wanted.verify is None and wanted.ca_pem is None
    assert wanted.problems == (f"{root.cert}: the chain does not reach a CA the system trusts, nor a root "
                               "certificate (give the root with `xivo-certs install --chain`)",)
    assert yaml.safe_load(wanted.text) == expected_yaml("pbx.example.test", None)


def test_a_wildcard_only_certificate_has_no_host_for_the_override(root, ordinary_ca, issued):
    put_admin(root, ordinary_ca, issued, dns=("*.example.test",))
    wanted = override.plan(root.paths, DEFAULTS, root.certs())
    assert wanted.needed and wanted.host is None and wanted.text is None
    assert "no DNS host name the daemons can connect to" in wanted.problems[0]


def test_render_is_a_mapping_of_mappings_with_the_services_asked(tmp_path):
    conf = tmp_path / "c.conf"
    conf.write_text("services = consul:verify auth my_daemon:check\n")
    text = override.render(settings_module.load(str(conf)), "pbx.example.test", True)
    assert text.decode().splitlines()[:3] == override.HEADER.splitlines()
    assert yaml.safe_load(text) == {"consul": {"host": "pbx.example.test", "verify": True},
                                    "auth": {"host": "pbx.example.test", "verify_certificate": True},
                                    "my_daemon": {"host": "pbx.example.test", "check": True}}


# --- the command ----------------------------------------------------------------------------------------

def test_override_writes_the_file_the_ca_and_every_link(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    (root / "etc/xivo-certs/conf.d").mkdir()  # a conf.d of xivo-certs itself matches xivo-*
    result = xc("override")
    assert result.code == 0, result
    assert root.override_yaml() == expected_yaml("pbx.example.test", CA_PATH)
    assert owner_mode(root / OVERRIDE_PATH) == (UID, GID, 0o644)
    assert (root / CA_PATH).read_bytes() == pem(ordinary_ca.cert)
    assert owner_mode(root / CA_PATH) == (UID, WWW_DATA, 0o644)
    assert root.links() == ALL_LINKED
    assert not os.path.lexists(root / "etc/other-daemon/conf.d" / LINK)
    assert not os.path.lexists(root / "etc/xivo-certs/conf" / LINK)
    for directory in CONFD_DIRS:  # no temporary link left behind
        assert os.listdir(root / directory) == [LINK]
    assert "directory definitions in the web interface" in result.out
    assert "change them to pbx.example.test" in result.out


def test_override_with_system_trust_has_no_ca_file(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued, with_root=False, intermediate=True)
    (root / CA_PATH).write_bytes(b"an older ca.crt")
    trust_system_wide(root, ordinary_ca)
    assert xc("override").code == 0
    assert root.override_yaml() == expected_yaml("pbx.example.test", True)
    assert not os.path.lexists(root / CA_PATH)


def test_a_second_run_changes_nothing(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    assert xc("override").code == 0
    before = root.snapshot()
    inode = os.lstat(root / OVERRIDE_PATH).st_ino
    assert xc("override").code == 0
    assert root.snapshot() == before
    assert os.lstat(root / OVERRIDE_PATH).st_ino == inode


def test_an_out_of_date_override_is_rewritten(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    assert xc("override").code == 0
    (root / "etc/xivo-certs/xivo-certs.conf").write_text("services = consul:verify dird\n")
    assert xc("override").code == 0
    assert root.override_yaml() == {"consul": {"host": "pbx.example.test", "verify": CA_PATH},
                                    "dird": {"host": "pbx.example.test", "verify_certificate": CA_PATH}}


def test_a_foreign_override_is_left_and_reported(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    foreign = root / OVERRIDE_PATH
    foreign.parent.mkdir(parents=True)
    foreign.write_text("dird:\n  host: hand-made.example\n")
    assert refusal_line(root, xc, "override") == (
        f"xivo-certs: {foreign}: not written by xivo-certs, left as it is; "
        "run `xivo-certs override --adopt` to take it over")


def test_adopt_backs_up_the_foreign_override_and_takes_over(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    foreign = root / OVERRIDE_PATH
    foreign.parent.mkdir(parents=True)
    foreign.write_text("dird:\n  host: hand-made.example\n")
    result = xc("override", "--adopt")
    assert result.code == 0, result
    [backup] = root.backups()
    assert (backup / "custom-certificate.yml").read_text() == "dird:\n  host: hand-made.example\n"
    assert owner_mode(backup) == (UID, GID, 0o700)
    assert f"backed up {foreign} to {backup}" in result.out
    assert root.override_yaml() == expected_yaml("pbx.example.test", CA_PATH)
    assert root.links() == ALL_LINKED


def test_a_planted_symlink_at_the_override_path_is_never_followed(root, ordinary_ca, issued, xc, tmp_path):
    put_admin(root, ordinary_ca, issued)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    planted = root / OVERRIDE_PATH
    planted.parent.mkdir(parents=True)
    planted.symlink_to(victim)
    before = root.snapshot()
    result = xc("override")
    assert result.code == 1
    assert f"{planted}: not written by xivo-certs" in result.err
    assert root.snapshot() == before and victim.read_text() == "precious\n"

    result = xc("override", "--adopt")
    assert result.code == 0, result
    assert victim.read_text() == "precious\n"
    assert not planted.is_symlink()
    assert root.override_yaml() == expected_yaml("pbx.example.test", CA_PATH)
    [backup] = root.backups()
    assert os.readlink(backup / "custom-certificate.yml") == str(victim)


def test_foreign_links_are_left_reported_and_adopted(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    file_link = root / CONFD_DIRS[0] / LINK
    file_link.write_text("auth:\n  host: x\n")
    other_link = root / CONFD_DIRS[2] / LINK
    other_link.symlink_to("/etc/somewhere/else.yml")
    before = root.snapshot()
    result = xc("override")
    assert result.code == 1
    assert sorted(result.err_lines) == sorted(
        f"xivo-certs: {path}: not written by xivo-certs, left as it is; "
        "run `xivo-certs override --adopt` to take it over" for path in (file_link, other_link))
    assert root.snapshot() == before

    result = xc("override", "--adopt")
    assert result.code == 0, result
    assert root.links() == ALL_LINKED
    [backup] = root.backups()
    kept = {p.name: (os.readlink(p) if p.is_symlink() else p.read_text()) for p in backup.iterdir()}
    assert sorted(kept.values()) == sorted(["auth:\n  host: x\n", "/etc/somewhere/else.yml"])


def test_links_go_into_conf_d_directories_that_appear_later(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    assert xc("override").code == 0
    for later in ("etc/wazo-newd/conf.d", "etc/xivo-newer/conf.d"):
        (root / later).mkdir(parents=True)
    assert xc("override").code == 0
    for later in ("etc/wazo-newd/conf.d", "etc/xivo-newer/conf.d"):
        assert os.readlink(root / later / LINK) == OVERRIDE_PATH
        assert os.listdir(root / later) == [LINK]


def test_not_needed_any_more_removes_the_managed_override_links_and_ca(root, ordinary_ca, issued, keys, xc):
    put_admin(root, ordinary_ca, issued)
    assert xc("override").code == 0
    foreign = root / "etc/wazo-calld/conf.d" / LINK
    foreign.unlink()
    foreign.symlink_to("/etc/admin/own.yml")
    key = keys.get("rsa:2048")
    root.put_pair(package_like(key), key)  # back to a certificate that covers localhost
    result = xc("override")
    assert result.code == 1  # the foreign link is reported, and kept
    assert os.readlink(foreign) == "/etc/admin/own.yml"
    assert (root / OVERRIDE_PATH).exists()  # nothing removed while a foreign file is in the way
    foreign.unlink()
    assert xc("override").code == 0
    assert not os.path.lexists(root / OVERRIDE_PATH)
    assert not os.path.lexists(root / CA_PATH)
    assert root.links() == NO_LINKS


def test_a_foreign_override_is_not_removed_when_not_needed(root, keys, xc):
    key = keys.get("rsa:2048")
    root.put_pair(package_like(key), key)
    foreign = root / OVERRIDE_PATH
    foreign.parent.mkdir(parents=True)
    foreign.write_text("# mine\n")
    assert xc("override").code == 1
    assert foreign.read_text() == "# mine\n"
    assert xc("override", "--adopt").code == 0
    assert not os.path.lexists(foreign)
    assert (root.backups()[0] / "custom-certificate.yml").read_text() == "# mine\n"


def test_override_without_a_certificate_fails_cleanly(root, xc):
    before = root.snapshot()
    result = xc("override")
    assert result.code == 1
    assert result.err_lines == [f"xivo-certs: {root.cert}: no such file"]
    after = root.snapshot()
    after = {k: v for k, v in after.items() if not k.startswith("var")}  # the lock's directory
    assert after == before


# --- states and problems ----------------------------------------------------------------------------------

def test_file_and_link_states(root, tmp_path):
    path = root / OVERRIDE_PATH
    assert override.file_state(str(path)) == "absent"
    path.parent.mkdir(parents=True)
    path.write_text(override.HEADER + "x: {}\n")
    assert override.file_state(str(path)) == "managed"
    path.write_text("# Managed by someone else\n")
    assert override.file_state(str(path)) == "foreign"
    path.unlink()
    path.mkdir()
    assert override.file_state(str(path)) == "foreign"
    link = root / CONFD_DIRS[0] / LINK
    assert override.link_state(str(link)) == "missing"
    link.symlink_to(OVERRIDE_PATH)
    assert override.link_state(str(link)) == "managed"
    link.unlink()
    link.symlink_to(str(root / OVERRIDE_PATH))  # resolves under the root, but not what daemons read
    assert override.link_state(str(link)) == "foreign"


def test_inspect_lists_what_is_wrong(root, ordinary_ca, issued, monkeypatch):
    monkeypatch.setattr(override, "resolves_here", lambda host: False)
    put_admin(root, ordinary_ca, issued)
    wanted = override.plan(root.paths, DEFAULTS, root.certs())
    found, problems = override.inspect(root.paths, DEFAULTS, wanted)
    assert found["needed"] is True and found["state"] == "absent"
    assert found["path"] == str(root / OVERRIDE_PATH)
    assert found["links"] == [{"path": str(root / d / LINK), "state": "missing"} for d in sorted(CONFD_DIRS)]
    assert problems[0].startswith(f"{root / OVERRIDE_PATH}: missing")
    assert len([p for p in problems if "missing link" in p]) == 4
    assert problems[-1] == "pbx.example.test does not resolve to this machine; the daemons connect to it"

    override.apply(root.paths, DEFAULTS, OWNER, wanted, Notes())
    Path(root / OVERRIDE_PATH).write_bytes(wanted.text.replace(b"pbx.example.test", b"old.example"))
    monkeypatch.setattr(override, "resolves_here", lambda host: True)
    found, problems = override.inspect(root.paths, DEFAULTS, wanted)
    assert found["state"] == "managed"
    assert problems == [f"{root / OVERRIDE_PATH}: out of date (run `xivo-certs override`)"]


def test_inspect_when_not_needed_reports_leftovers(root, keys):
    key = keys.get("rsa:2048")
    root.put_pair(package_like(key), key)
    link = root / CONFD_DIRS[1] / LINK
    link.symlink_to(OVERRIDE_PATH)
    wanted = override.plan(root.paths, DEFAULTS, root.certs())
    found, problems = override.inspect(root.paths, DEFAULTS, wanted)
    assert found["needed"] is False
    assert problems == [f"{link}: override link left while no override is needed"]


# --- name resolution --------------------------------------------------------------------------------------

def fake_getaddrinfo(addresses):
    def getaddrinfo(host, port, *args, **kwargs):
        if addresses is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0))
                for a in addresses]
    return getaddrinfo


@pytest.mark.parametrize("addresses, here", [
    (["127.0.0.1"], True),
    (["127.0.1.1", "::1"], True),
    (["127.0.0.1", "192.0.2.10"], False),  # TEST-NET: not an address of this machine
    (["203.0.113.5"], False),
    ([], False),
    (None, False),
])
def test_resolves_here(monkeypatch, addresses, here):
    monkeypatch.setattr(override.socket, "getaddrinfo", fake_getaddrinfo(addresses))
    assert override.resolves_here("pbx.example.test") is here


def test_advice_tells_how_to_fix_resolution_without_editing_etc_hosts(monkeypatch):
    monkeypatch.setattr(override.socket, "getaddrinfo", fake_getaddrinfo(None))
    lines = override.advice("pbx.example.test")
    assert "pbx.example.test does not resolve to this machine" in lines[0]
    assert "/etc/xivo/custom-templates/system/etc/hosts" in lines[0]
    assert "do not edit /etc/hosts" in lines[0]
    assert "change them to pbx.example.test" in lines[-1]
    monkeypatch.setattr(override.socket, "getaddrinfo", fake_getaddrinfo(["127.0.0.1"]))
    assert len(override.advice("pbx.example.test")) == 1
