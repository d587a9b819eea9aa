"""xivo_certs.hosts: the managed block that makes the override's host resolve to 127.0.0.1, in
/etc/hosts and XiVO's custom hosts template; resolution as the daemons see it."""

import os

import pytest

from xivo_certs import hosts, settings as settings_module
from xivo_certs.paths import Paths
from support.asserts import owner_mode
from support.layout import hosts_block
from support.owners import GID, UID
from xc_testlib import put_admin

ADMIN = b"127.0.0.1\tlocalhost\n127.0.1.1\tpbx.example.org pbx\n# an admin's comment\n10.0.0.5 db\n"
SHIPPED = b"127.0.0.1\tlocalhost\n127.0.1.1\t#XIVO_HOSTNAME#\n"
BLOCK = hosts_block("pbx.example.test").encode()


def test_the_block_goes_first_and_leaves_every_other_line_as_it_was():
    text = hosts.with_block(ADMIN, "pbx.example.test")
    assert text == BLOCK + ADMIN
    assert hosts.with_block(text, "pbx.example.test") == text
    assert hosts.with_block(text, "other.example.test") == BLOCK.replace(b"pbx", b"other") + ADMIN
    assert hosts.with_block(text, None) == ADMIN
    assert hosts.without_block(ADMIN + BLOCK + b"10.0.0.6 late\n") == ADMIN + b"10.0.0.6 late\n"


def test_a_begin_marker_without_its_end_is_not_ours_and_is_kept():
    broken = ADMIN + BLOCK.splitlines(keepends=True)[0] + b"10.0.0.7 kept\n"
    assert hosts.without_block(broken) == broken


def test_resolution_under_a_root_reads_its_hosts_file(tmp_path):
    paths = Paths(str(tmp_path))
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/hosts").write_bytes(ADMIN)
    assert not hosts.resolves_to_loopback(paths, "pbx.example.org")  # Debian's 127.0.1.1: nothing listens
    assert hosts.resolves_to_loopback(paths, "LOCALHOST")
    assert not hosts.resolves_to_loopback(paths, "db")
    assert not hosts.resolves_to_loopback(paths, "pbx.example.test")
    (tmp_path / "etc/hosts").write_bytes(hosts.with_block(ADMIN, "pbx.example.org"))
    assert hosts.resolves_to_loopback(paths, "pbx.example.org")  # first 127.0.0.1, then 127.0.1.1
    (tmp_path / "etc/hosts").write_bytes(b"127.0.0.1 pbx.example.org\n192.0.2.10 pbx.example.org\n")
    assert not hosts.resolves_to_loopback(paths, "pbx.example.org")  # one address leaves the machine


def test_resolution_on_the_real_root_asks_the_resolver():
    assert hosts.resolves_to_loopback(Paths("/"), "localhost")
    assert not hosts.resolves_to_loopback(Paths("/"), "no-such-name.invalid")


def test_own_fqdn_as_hostname_f_finds_it(tmp_path):
    paths = Paths(str(tmp_path))
    (tmp_path / "etc").mkdir()
    assert hosts.own_fqdn(paths) is None
    (tmp_path / "etc/hostname").write_text("pbx\n")
    assert hosts.own_fqdn(paths) is None
    (tmp_path / "etc/hosts").write_bytes(ADMIN)
    assert hosts.own_fqdn(paths) == "pbx.example.org"
    (tmp_path / "etc/hostname").write_text("PBX.example.net\n")
    assert hosts.own_fqdn(paths) == "pbx.example.net"


@pytest.mark.parametrize("text", ["# set by the installer\n\npbx\n", "pbx.example.org.\n",
                                  "\n  # c\n PBX.example.org. \nother\n"])
def test_own_fqdn_reads_etc_hostname_as_hostname_5_says(tmp_path, text):
    """Its first line neither blank nor a comment; one trailing dot (a rooted name) dropped."""
    paths = Paths(str(tmp_path))
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc/hosts").write_bytes(ADMIN)
    (tmp_path / "etc/hostname").write_text(text)
    assert hosts.own_fqdn(paths) == "pbx.example.org"


# --- the command --------------------------------------------------------------------------------------

def test_override_makes_the_host_resolve_and_revert_takes_the_block_out(root, ordinary_ca, issued, xc):
    (root / "etc/hosts").write_bytes(ADMIN)
    assert xc("ensure").code == 0
    put_admin(root, ordinary_ca, issued)
    assert xc("override").code == 0
    assert (root / "etc/hosts").read_bytes() == BLOCK + ADMIN
    assert owner_mode(root / "etc/hosts") == (UID, GID, 0o644)
    assert not os.path.lexists(root / "etc/xivo/custom-templates")  # no XiVO template system here
    status = xc("status")
    assert status.code == 0, status
    root.ship_hooks()
    assert xc("revert").code == 0
    assert (root / "etc/hosts").read_bytes() == ADMIN


def test_with_xivo_templates_the_custom_template_gets_the_block_too(root, ordinary_ca, issued, xc):
    (root / "etc/hosts").write_bytes(ADMIN)
    shipped = root / "usr/share/xivo-config/templates/system/etc/hosts"
    shipped.parent.mkdir(parents=True)
    shipped.write_bytes(SHIPPED)
    put_admin(root, ordinary_ca, issued)
    assert xc("override").code == 0
    custom = root / "etc/xivo/custom-templates/system/etc/hosts"
    assert custom.read_bytes() == BLOCK + SHIPPED
    assert owner_mode(custom.parent) == (UID, GID, 0o755)
    assert (root / "etc/hosts").read_bytes() == BLOCK + ADMIN
    put_admin(root, ordinary_ca, issued, ("localhost",))  # no override needed any more
    assert xc("override").code == 0
    assert not os.path.lexists(custom)  # it held nothing but the shipped template and the block
    assert (root / "etc/hosts").read_bytes() == ADMIN


def test_an_admins_own_custom_template_keeps_its_lines(root, ordinary_ca, issued, xc):
    shipped = root / "usr/share/xivo-config/templates/system/etc/hosts"
    shipped.parent.mkdir(parents=True)
    shipped.write_bytes(SHIPPED)
    custom = root / "etc/xivo/custom-templates/system/etc/hosts"
    custom.parent.mkdir(parents=True)
    custom.write_bytes(SHIPPED + b"10.1.1.1 mine\n")
    put_admin(root, ordinary_ca, issued)
    assert xc("override").code == 0
    assert custom.read_bytes() == BLOCK + SHIPPED + b"10.1.1.1 mine\n"
    put_admin(root, ordinary_ca, issued, ("localhost",))
    assert xc("override").code == 0
    assert custom.read_bytes() == SHIPPED + b"10.1.1.1 mine\n"


def test_manage_hosts_no_takes_the_block_out_and_status_reports_the_host(root, ordinary_ca, issued, xc):
    (root / "etc/hosts").write_bytes(ADMIN)
    put_admin(root, ordinary_ca, issued)
    assert xc("override").code == 0
    (root / "etc/xivo-certs/xivo-certs.conf").write_text("manage_hosts = no\n")
    result = xc("override")
    assert result.code == 0
    assert "pbx.example.test does not resolve to 127.0.0.1" in result.out
    assert (root / "etc/hosts").read_bytes() == ADMIN
    status = xc("status")
    assert status.code == 1
    assert ("  - pbx.example.test does not resolve to 127.0.0.1, where the XiVO daemons listen (add it "
            "to your hosts files, or set manage_hosts = yes)") in status.out.splitlines()


def test_a_symlinked_etc_hosts_is_reported_not_followed(root, ordinary_ca, issued, xc, tmp_path):
    target = tmp_path / "real-hosts"
    target.write_bytes(ADMIN)
    (root / "etc/hosts").symlink_to(target)
    put_admin(root, ordinary_ca, issued)
    result = xc("override")
    assert result.code == 1
    assert result.err_lines == [f"xivo-certs: {root}/etc/hosts: is a symbolic link; xivo-certs manages "
                                "regular files only (copy the file instead); the managed hosts block is "
                                "not in place"]
    assert target.read_bytes() == ADMIN
    put_admin(root, ordinary_ca, issued, ("localhost",))  # no block wanted: nothing to say about it
    assert xc("override").code == 0
    assert target.read_bytes() == ADMIN


@pytest.mark.parametrize("name", ["hostname", "hosts"])
def test_a_fifo_as_etc_hostname_or_hosts_is_never_waited_on(root, ordinary_ca, issued, cmd, name):
    """Names are resolved as if it were empty; /etc/hosts, which the block goes into, is named."""
    put_admin(root, ordinary_ca, issued)
    root.lock_ready()
    fifo = root / "etc" / name
    os.mkfifo(fifo)
    result = cmd("override", timeout=10)
    assert root.override_yaml()["dird"]["host"] == "pbx.example.test"
    if name == "hosts":
        assert (result.code, result.err_lines) == (1, [
            f"xivo-certs: {fifo}: not a regular file; the managed hosts block is not in place"])
    else:
        assert (result.code, result.err) == (0, ""), result


def test_an_ad_blocking_etc_hosts_of_several_mib_is_read_and_kept(root, ordinary_ca, issued, xc):
    (root / "etc/hostname").write_text("pbx\n")
    blocked = b"".join(b"0.0.0.0 ads%d.example.net\n" % n for n in range(120_000))
    (root / "etc/hosts").write_bytes(ADMIN + blocked)
    assert len(ADMIN + blocked) > 3 << 20
    put_admin(root, ordinary_ca, issued, ("pbx.example.org", "www.example.org"))
    assert xc("override").code == 0
    assert root.override_yaml()["dird"]["host"] == "pbx.example.org"  # the FQDN, from /etc/hosts
    block = BLOCK.replace(b"pbx.example.test", b"pbx.example.org")
    assert (root / "etc/hosts").read_bytes() == block + ADMIN + blocked
    assert xc("status").code == 0


def test_the_settings_default_to_managing_both():
    defaults = settings_module.load("/nonexistent")
    assert (defaults.override_host, defaults.manage_hosts, defaults.manage_override) == ("", True, True)
