"""Issue 12, item 2, as root: a user who owns a directory on the way to a conf.d or to
/etc/xivo/custom never gets root to write through a link they planted there, with or without
`override --adopt`; the command and `status` name the directory."""

import os

import pytest

from hardening_lib import AdminPair, make_ca, make_root
from support.layout import LINK_NAME as LINK

USER = 1000


@pytest.fixture
def admin_root(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("chown to another user needs root")
    root = make_root(tmp_path / "root")
    ca = make_ca()
    admin = AdminPair(tmp_path / "in", "pbx", ("pbx.example.com",), issuer=ca, chain=[ca.cert])
    assert root.run(*admin.install_args()).returncode == 0
    target = tmp_path / "target"  # any directory root can write to
    target.mkdir()
    (target / LINK).write_text("precious\n")
    return root, target


def test_a_users_conf_d_link_is_refused_with_adopt_too(admin_root):
    root, target = admin_root
    owned = root / "etc/wazo-x"
    owned.mkdir()
    os.chown(owned, USER, USER)
    os.symlink(target, owned / "conf.d")  # what the user who owns /etc/wazo-x can do
    for argv in (["override"], ["override", "--adopt"]):
        result = root.run(*argv)
        assert result.returncode == 1, result
        assert f"xivo-certs: {owned}: writable by a user other than root: nothing written below it" \
            in result.stderr
        assert sorted(os.listdir(target)) == [LINK] and (target / LINK).read_text() == "precious\n"
    assert f"{owned}: writable by a user other than root" in root.run("status").stdout


def test_a_users_custom_link_is_refused(admin_root):
    root, target = admin_root
    (root / "etc/xivo/custom/custom-certificate.yml").unlink()
    (root / "etc/xivo/custom").rmdir()
    os.chown(root / "etc/xivo", USER, USER)
    os.symlink(target, root / "etc/xivo/custom")
    result = root.run("override", "--adopt")
    assert result.returncode == 1, result
    assert f"xivo-certs: {root / 'etc/xivo'}: writable by a user other than root" in result.stderr
    assert sorted(os.listdir(target)) == [LINK] and (target / LINK).read_text() == "precious\n"
