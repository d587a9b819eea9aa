"""xivo_certs.override and `xivo-certs override [--adopt]`: the hostname override YAML, its links
in every conf.d directory, the CA file, foreign files, name resolution."""

import os
import stat
from pathlib import Path

import yaml

from xivo_certs import names as names_module, override, settings as settings_module
from xivo_certs.context import Notes
from support.asserts import owner_mode
from support.certs import package_like, pem
from support.layout import CA as CA_PATH, LINK_NAME as LINK, OVERRIDE as OVERRIDE_PATH, SERVICES
from support.owners import GID, OWNER, UID, WWW_DATA
from xc_testlib import ALL_LINKED, CONFD_DIRS, NO_LINKS, put_admin

DEFAULTS = settings_module.load("/nonexistent")


def expected_yaml(host, verify):
    result = {}
    for service in SERVICES:
        result[service] = {"host": host}
        if verify is not None:
            result[service]["verify" if service == "consul" else "verify_certificate"] = verify
    return result


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


def test_a_foreign_override_is_left_and_reported_by_name(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    foreign = root / OVERRIDE_PATH
    foreign.parent.mkdir(parents=True)
    foreign.write_text("dird:\n  host: hand-made.example\n")
    result = xc("override")
    assert result.code == 1
    assert result.err_lines == [f"xivo-certs: {foreign}: not written by xivo-certs, left as it is; "
                                "run `xivo-certs override --adopt` to take it over"]
    assert foreign.read_text() == "dird:\n  host: hand-made.example\n"
    assert root.links() == NO_LINKS  # no link to a file xivo-certs did not write
    assert (root / CA_PATH).read_bytes() == pem(ordinary_ca.cert)  # the rest follows the certificate


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
    result = xc("override")
    assert result.code == 1
    assert result.err_lines == [f"xivo-certs: {planted}: not written by xivo-certs, left as it is; "
                                "run `xivo-certs override --adopt` to take it over"]
    assert os.readlink(planted) == str(victim) and victim.read_text() == "precious\n"

    result = xc("override", "--adopt")
    assert result.code == 0, result
    assert victim.read_text() == "precious\n"
    assert not planted.is_symlink()
    assert root.override_yaml() == expected_yaml("pbx.example.test", CA_PATH)
    [backup] = root.backups()
    assert os.readlink(backup / "custom-certificate.yml") == str(victim)


def test_foreign_links_are_reported_by_name_and_every_other_link_written(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    file_link = root / CONFD_DIRS[0] / LINK
    file_link.write_text("auth:\n  host: x\n")
    other_link = root / CONFD_DIRS[2] / LINK
    other_link.symlink_to("/etc/somewhere/else.yml")
    result = xc("override")
    assert result.code == 1
    assert sorted(result.err_lines) == sorted(
        f"xivo-certs: {path}: not written by xivo-certs, left as it is; "
        "run `xivo-certs override --adopt` to take it over" for path in (file_link, other_link))
    assert root.override_yaml() == expected_yaml("pbx.example.test", CA_PATH)
    assert root.links() == {**ALL_LINKED, CONFD_DIRS[0]: "<not a link>",
                            CONFD_DIRS[2]: "/etc/somewhere/else.yml"}
    assert file_link.read_text() == "auth:\n  host: x\n"

    result = xc("override", "--adopt")
    assert result.code == 0, result
    assert root.links() == ALL_LINKED
    [backup] = root.backups()
    kept = {p.name: (os.readlink(p) if p.is_symlink() else p.read_text()) for p in backup.iterdir()}
    assert sorted(kept.values()) == sorted(["auth:\n  host: x\n", "/etc/somewhere/else.yml"])


def test_adopt_takes_over_each_file_or_link_and_names_each_other_entry(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    regular, fifo, directory, dangling = (root / confd / LINK for confd in CONFD_DIRS)
    regular.write_text("auth:\n  host: x\n")
    os.mkfifo(fifo)
    directory.mkdir()
    dangling.symlink_to("/nowhere/gone.yml")
    result = xc("override", "--adopt")
    assert result.code == 1, result
    assert sorted(result.err_lines) == sorted(
        f"xivo-certs: {path}: not a regular file or a symbolic link: cannot be adopted, left as it is"
        for path in (fifo, directory))
    assert root.override_yaml() == expected_yaml("pbx.example.test", CA_PATH)
    assert root.links() == {**ALL_LINKED, CONFD_DIRS[1]: "<not a link>", CONFD_DIRS[2]: "<not a link>"}
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and os.listdir(directory) == []
    [backup] = root.backups()
    kept = {p.name: (os.readlink(p) if p.is_symlink() else p.read_text()) for p in backup.iterdir()}
    assert sorted(kept.values()) == sorted(["auth:\n  host: x\n", "/nowhere/gone.yml"])
    assert sorted(line for line in result.out.splitlines() if "backed up" in line) == sorted(
        f"xivo-certs: backed up {path} to {backup}" for path in (regular, dangling))


def test_adopt_leaves_an_override_path_that_is_a_directory_and_links_nothing(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    directory = root / OVERRIDE_PATH
    directory.mkdir(parents=True)
    result = xc("override", "--adopt")
    assert result.code == 1, result
    assert result.err_lines == [f"xivo-certs: {directory}: not a regular file or a symbolic link: "
                                "cannot be adopted, left as it is"]
    assert os.listdir(directory) == [] and root.links() == NO_LINKS
    assert root.backups() == []


def test_a_relative_link_to_the_override_is_ours(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    relative = root / CONFD_DIRS[1] / LINK
    relative.symlink_to("../../xivo/custom/custom-certificate.yml")  # what `ln -sr` makes
    result = xc("override")
    assert result.code == 0, result
    assert os.readlink(relative) == "../../xivo/custom/custom-certificate.yml"
    assert root.links() == {**ALL_LINKED, CONFD_DIRS[1]: "../../xivo/custom/custom-certificate.yml"}
    assert xc("status").code == 0
    key = issued("localhost").key
    root.put_pair(issued("localhost").cert, key, chain=[ordinary_ca.cert])  # no override needed
    assert xc("override").code == 0
    assert root.links() == NO_LINKS  # removed with the others: it is ours


def test_a_new_certificate_renames_the_override_despite_a_foreign_link(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    assert xc("override").code == 0
    foreign = root / CONFD_DIRS[3] / LINK
    foreign.unlink()
    foreign.write_text("# an admin's\n")
    put_admin(root, ordinary_ca, issued, dns=("pbx2.example.test",))
    (root / "etc/wazo-newd/conf.d").mkdir(parents=True)
    result = xc("override")
    assert result.code == 1
    assert result.err_lines == [f"xivo-certs: {foreign}: not written by xivo-certs, left as it is; "
                                "run `xivo-certs override --adopt` to take it over"]
    assert root.override_yaml() == expected_yaml("pbx2.example.test", CA_PATH)
    assert os.readlink(root / "etc/wazo-newd/conf.d" / LINK) == OVERRIDE_PATH


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
    assert result.code == 1  # the foreign link is reported by name, and kept
    assert result.err_lines == [f"xivo-certs: {foreign}: not written by xivo-certs, left as it is; "
                                "run `xivo-certs override --adopt` to take it over"]
    assert os.readlink(foreign) == "/etc/admin/own.yml"
    assert not os.path.lexists(root / OVERRIDE_PATH)  # no stale override left linked
    assert not os.path.lexists(root / CA_PATH)
    assert root.links() == {**NO_LINKS, "etc/wazo-calld/conf.d": "/etc/admin/own.yml"}
    foreign.unlink()
    assert xc("override").code == 0


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


# --- foreign files never stall: the next sync converges --------------------------------------------

def test_sync_converges_once_the_admin_removes_the_foreign_link(root, ordinary_ca, issued, xc):
    root.ship_hooks()
    put_admin(root, ordinary_ca, issued)
    foreign = root / CONFD_DIRS[0] / LINK
    foreign.write_text("# an admin's copy\n")
    result = xc("sync")
    assert result.code == 1
    assert "hook 10-hostname-override (exit code 1) failed" in result.err
    assert f"{foreign}: not written by xivo-certs, left as it is" in result.err
    runs = len(root.hook_runs())
    assert xc("sync").code == 0 and len(root.hook_runs()) == runs  # nothing changed: a no-op
    foreign.unlink()
    result = xc("sync")
    assert result.code == 0, result
    assert len(root.hook_runs()) == runs + 1
    assert root.links() == ALL_LINKED


def test_sync_restores_a_deleted_managed_override(root, ordinary_ca, issued, xc):
    root.ship_hooks()
    put_admin(root, ordinary_ca, issued)
    assert xc("sync").code == 0
    written = (root / OVERRIDE_PATH).read_bytes()
    (root / OVERRIDE_PATH).unlink()
    assert xc("sync").code == 0
    assert (root / OVERRIDE_PATH).read_bytes() == written
    assert root.links() == ALL_LINKED


def test_a_deleted_ca_file_is_a_problem_and_sync_restores_it(root, ordinary_ca, issued, xc):
    """The override has every daemon verify with ca.crt: without it, all of them fail."""
    root.ship_hooks()
    put_admin(root, ordinary_ca, issued)
    assert xc("sync").code == 0
    ca = root / "usr/share/xivo-certs/ca.crt"
    written = ca.read_bytes()
    ca.unlink()
    result = xc("status")
    assert result.code == 1
    assert f"  - {ca}: missing or not the chain's root, which the override has the daemons verify " \
        "with (run `xivo-certs override`)" in result.out.splitlines()
    assert xc("sync").code == 0
    assert ca.read_bytes() == written
    assert xc("status").code == 0


def test_without_the_override_hook_a_moved_override_is_news_once(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    assert xc("sync").code == 0  # the recording hook only: the admin deleted 10-hostname-override
    assert xc("override").code == 0  # run by hand once: what it left is watched
    runs = len(root.hook_runs())
    (root / OVERRIDE_PATH).unlink()
    assert xc("sync").code == 0
    assert len(root.hook_runs()) == runs + 1
    assert root.state().override_watch == ()
    assert xc("sync").code == 0 and len(root.hook_runs()) == runs + 1  # then a no-op again


def test_revert_leaves_no_stale_override_linked_beside_a_foreign_file(root, ordinary_ca, issued, xc):
    root.ship_hooks()
    assert xc("ensure").code == 0
    put_admin(root, ordinary_ca, issued)
    assert xc("sync").code == 0
    foreign = root / CONFD_DIRS[2] / LINK
    foreign.unlink()
    foreign.write_text("# an admin's copy\n")
    result = xc("revert")
    assert result.code == 1  # the hook names the foreign file
    assert f"{foreign}: not written by xivo-certs, left as it is" in result.err
    assert not os.path.lexists(root / OVERRIDE_PATH)
    assert root.links() == {**NO_LINKS, CONFD_DIRS[2]: "<not a link>"}


# --- manage_override = no ------------------------------------------------------------------------------

def test_manage_override_no_leaves_everything_and_status_asks_for_nothing(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    hand_made = root / OVERRIDE_PATH
    hand_made.parent.mkdir(parents=True)
    hand_made.write_text("dird:\n  host: pbx.example.test\n")
    (root / "etc/xivo-certs/xivo-certs.conf").write_text("manage_override = no\n")
    before = {k: v for k, v in root.snapshot().items() if not k.startswith("var/lib")}
    result = xc("override")
    assert result.code == 0, result
    assert "manage_override = no: the override, its links, ca.crt and the hosts block are left" in result.out
    assert {k: v for k, v in root.snapshot().items() if not k.startswith("var/lib")} == before
    result = xc("status")
    assert "override     not managed (manage_override = no)" in result.out.splitlines()
    assert "--adopt" not in result.out and "xivo-certs override" not in result.out


# --- directories reached without a link (issue 12) ------------------------------------------------------

def link_to_elsewhere(root, tmp_path, directory):
    """Make `directory` (in the root) a link to an empty directory elsewhere; that directory."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / directory).parent.mkdir(parents=True, exist_ok=True)
    (root / directory).symlink_to(elsewhere)
    return elsewhere


def test_a_conf_d_that_is_a_link_is_refused_and_reported(root, ordinary_ca, issued, xc, tmp_path):
    put_admin(root, ordinary_ca, issued)
    elsewhere = link_to_elsewhere(root, tmp_path, "etc/wazo-x/conf.d")
    result = xc("override")
    assert result.code == 1
    assert result.err_lines == [f"xivo-certs: {root}/etc/wazo-x/conf.d: is a symbolic link or not a "
                                "directory: nothing written through it"]
    assert list(elsewhere.iterdir()) == []
    assert root.links() == ALL_LINKED
    assert f"{root}/etc/wazo-x/conf.d: is a symbolic link" in xc("status").out
    # with --adopt too: nothing is replaced there
    (elsewhere / LINK).write_text("victim\n")
    assert xc("override", "--adopt").code == 1
    assert (elsewhere / LINK).read_text() == "victim\n"


def test_a_conf_d_below_a_directory_others_can_write_is_refused(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    (root / "etc/wazo-open/conf.d").mkdir(parents=True)
    (root / "etc/wazo-open").chmod(0o777)
    result = xc("override")
    assert result.code == 1
    assert result.err_lines == [f"xivo-certs: {root}/etc/wazo-open: writable by a user other than root: "
                                "nothing written below it (chown root and chmod go-w to allow it)"]
    assert os.listdir(root / "etc/wazo-open/conf.d") == []
    assert root.links() == ALL_LINKED


def test_a_custom_directory_that_is_a_link_is_refused(root, ordinary_ca, issued, xc, tmp_path):
    put_admin(root, ordinary_ca, issued)
    elsewhere = link_to_elsewhere(root, tmp_path, "etc/xivo/custom")
    result = xc("override")
    assert result.code == 1
    assert f"xivo-certs: {root}/etc/xivo/custom: is a symbolic link or not a directory" in result.err
    assert list(elsewhere.iterdir()) == []
    assert root.links() == NO_LINKS


def test_the_custom_directory_is_made_0755_whatever_the_umask(root, ordinary_ca, issued, xc):
    put_admin(root, ordinary_ca, issued)
    previous = os.umask(0o077)
    try:
        assert xc("override").code == 0
    finally:
        os.umask(previous)
    assert owner_mode(root / "etc/xivo") == (UID, GID, 0o755)
    assert owner_mode(root / "etc/xivo/custom") == (UID, GID, 0o755)


# --- choosing the host ----------------------------------------------------------------------------------

def info_for(*dns):
    class Info:
        names, has_san, primary_name = dns, True, next((n for n in dns if not n.startswith("*")), None)

        def covers(self, host):
            return any(names_module.covers(name, host) for name in dns)
    return Info()


def settings_with(tmp_path, text):
    conf = tmp_path / "xivo-certs.conf"
    conf.write_text(text)
    return settings_module.load(str(conf))


def test_the_host_is_override_host_when_the_certificate_covers_it(root, tmp_path):
    chosen = settings_with(tmp_path, "override_host = PBX.example.org\n")
    assert override.choose_host(root.paths, chosen, info_for("*.example.org", "example.org")) == \
        ("pbx.example.org", ())
    host, problems = override.choose_host(root.paths, chosen, info_for("a.example.net"))
    assert host == "a.example.net"
    assert problems == (f"override_host pbx.example.org is not a name of the certificate {root.cert}: "
                        "chosen among its names instead",)


def test_the_host_is_the_machines_fqdn_when_covered(root):
    (root / "etc/hostname").write_text("pbx\n")
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\tpbx.example.org pbx\n")
    # the company's website must not get the daemons' traffic: the FQDN, covered by the wildcard
    assert override.choose_host(root.paths, DEFAULTS, info_for("*.example.org", "example.org")) == \
        ("pbx.example.org", ())
    assert override.choose_host(root.paths, DEFAULTS, info_for("other.example.net", "b.example.net")) == \
        ("other.example.net", ())


def test_the_host_is_the_first_name_that_resolves_to_127_0_0_1_else_the_first(root):
    (root / "etc/hosts").write_text("127.0.1.1\ta.example.net\n127.0.0.1\tlocalhost b.example.net\n")
    info = info_for("*.example.net", "a.example.net", "b.example.net")
    assert override.choose_host(root.paths, DEFAULTS, info) == ("b.example.net", ())
    (root / "etc/hosts").write_text("127.0.0.1\tlocalhost\n")
    assert override.choose_host(root.paths, DEFAULTS, info) == ("a.example.net", ())
    assert override.choose_host(root.paths, DEFAULTS, info_for("*.example.net")) == (None, ())


def test_only_the_first_ten_names_are_looked_up(root):
    """Each lookup may wait on DNS, in a hook run with apt: a certificate of thousands of names
    must not hold it (the eleventh name resolving to 127.0.0.1 is not looked up)."""
    names = [f"n{number}.example.net" for number in range(1, 12)]
    info = info_for(*names)
    (root / "etc/hosts").write_text(f"127.0.0.1\tlocalhost {names[9]}\n")
    assert override.choose_host(root.paths, DEFAULTS, info) == (names[9], ())
    (root / "etc/hosts").write_text(f"127.0.0.1\tlocalhost {names[10]}\n")
    assert override.choose_host(root.paths, DEFAULTS, info) == (names[0], ())


# --- states and problems ----------------------------------------------------------------------------------

def states(root):
    found = override.survey(root.paths, DEFAULTS, OWNER)
    return found.override, dict((os.path.relpath(link, root.path), state) for link, state in found.links)


def test_file_and_link_states(root):
    path = root / OVERRIDE_PATH
    assert states(root)[0] == "absent"
    path.parent.mkdir(parents=True)
    path.write_text(override.HEADER + "x: {}\n")
    assert states(root)[0] == "managed"
    path.write_text("# Managed by someone else\n")
    assert states(root)[0] == "foreign"
    path.unlink()
    path.mkdir()
    assert states(root)[0] == "foreign"
    link = root / CONFD_DIRS[0] / LINK
    assert states(root)[1][f"{CONFD_DIRS[0]}/{LINK}"] == "missing"
    link.symlink_to(OVERRIDE_PATH)
    assert states(root)[1][f"{CONFD_DIRS[0]}/{LINK}"] == "managed"
    link.unlink()
    link.symlink_to(str(root / OVERRIDE_PATH))  # resolves under the root, but not what daemons read
    assert states(root)[1][f"{CONFD_DIRS[0]}/{LINK}"] == "foreign"
    link.unlink()
    link.symlink_to("../../xivo/custom/custom-certificate.yml")
    assert states(root)[1][f"{CONFD_DIRS[0]}/{LINK}"] == "managed"


def test_inspect_lists_what_is_wrong(root, ordinary_ca, issued):
    put_admin(root, ordinary_ca, issued)
    wanted = override.plan(root.paths, DEFAULTS, root.certs())
    found, problems = override.inspect(root.paths, DEFAULTS, OWNER, wanted)
    assert found["needed"] is True and found["state"] == "absent"
    assert found["path"] == str(root / OVERRIDE_PATH)
    assert found["links"] == [{"path": str(root / d / LINK), "state": "missing"} for d in sorted(CONFD_DIRS)]
    assert problems[0].startswith(f"{root / OVERRIDE_PATH}: missing")
    assert len([p for p in problems if "missing link" in p]) == 4
    assert problems[-1] == ("pbx.example.test does not resolve to 127.0.0.1, where the XiVO daemons "
                            "listen (run `xivo-certs override`)")

    assert override.apply(root.paths, DEFAULTS, OWNER, wanted, Notes()) == []
    Path(root / OVERRIDE_PATH).write_bytes(wanted.text.replace(b"pbx.example.test", b"old.example"))
    found, problems = override.inspect(root.paths, DEFAULTS, OWNER, wanted)
    assert found["state"] == "managed"
    assert problems == [f"{root / OVERRIDE_PATH}: out of date (run `xivo-certs override`)"]


def test_inspect_when_not_needed_reports_leftovers(root, keys):
    key = keys.get("rsa:2048")
    root.put_pair(package_like(key), key)
    link = root / CONFD_DIRS[1] / LINK
    link.symlink_to(OVERRIDE_PATH)
    wanted = override.plan(root.paths, DEFAULTS, root.certs())
    found, problems = override.inspect(root.paths, DEFAULTS, OWNER, wanted)
    assert found["needed"] is False
    assert problems == [f"{link}: override link left while no override is needed (run `xivo-certs override`)"]


def test_advice_without_manage_hosts_tells_how_to_fix_resolution(root, tmp_path):
    lines = override.advice(root.paths, settings_with(tmp_path, "manage_hosts = no\n"), "pbx.example.test")
    assert lines[0].startswith("pbx.example.test does not resolve to 127.0.0.1, where the XiVO daemons "
                               "listen: add `127.0.0.1 pbx.example.test` first in /etc/hosts and in "
                               "/etc/xivo/custom-templates/system/etc/hosts")
    assert "change them to pbx.example.test" in lines[-1]
    assert len(override.advice(root.paths, DEFAULTS, "pbx.example.test")) == 1
