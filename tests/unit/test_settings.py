"""xivo_certs.settings: /etc/xivo-certs/xivo-certs.conf, `key = value` lines over the defaults."""

import functools
import os

import pytest

from xivo_certs import settings
from xivo_certs.errors import Problem
from support.certs import pem
from support.layout import SERVICES
from xc_testlib import refusal_line


def write(tmp_path, text):
    path = tmp_path / "xivo-certs.conf"
    path.write_text(text)
    return str(path)


def test_a_missing_file_means_the_defaults(tmp_path):
    found = settings.load(str(tmp_path / "absent.conf"))
    assert found.days == 825
    assert found.renew_days == 30
    assert found.restart_services is False
    assert found.hook_timeout == 120
    assert found.confd_globs == ("/etc/xivo-*/conf.d", "/etc/wazo-*/conf.d")
    assert found.services == (("consul", "verify"),) + tuple(
        (service, "verify_certificate") for service in SERVICES[1:])


def test_values_comments_and_blank_lines(tmp_path):
    found = settings.load(write(tmp_path, """
# a comment
   days = 90
renew_days=10

services = consul:verify dird  my_daemon:check_cert
confd_globs = /etc/xivo-*/conf.d /opt/x*y/conf.d
restart_services = YES
"""))
    assert (found.days, found.renew_days, found.restart_services) == (90, 10, True)
    assert found.services == (("consul", "verify"), ("dird", "verify_certificate"),
                              ("my_daemon", "check_cert"))
    assert found.confd_globs == ("/etc/xivo-*/conf.d", "/opt/x*y/conf.d")


@pytest.mark.parametrize("value, expected", [("yes", True), ("true", True), ("no", False),
                                             ("False", False)])
def test_restart_services_is_a_boolean(tmp_path, value, expected):
    assert settings.load(write(tmp_path, f"restart_services = {value}\n")).restart_services is expected


@pytest.mark.parametrize("text, problem", [
    ("days = 0\n", "days must be a whole number from 1 to 3650, not '0'"),
    ("days = 3651\n", "days must be a whole number from 1 to 3650"),
    ("days = -5\n", "days must be a whole number"),
    ("days = ten\n", "days must be a whole number"),
    ("renew_days = 1.5\n", "renew_days must be a whole number from 0 to 3650"),
    ("restart_services = maybe\n", "restart_services must be yes or no, not 'maybe'"),
    ("hook_timeout = 0\n", "hook_timeout must be a whole number from 1 to 86400, not '0'"),
    ("services = consul:verify 9lives\n", "services: '9lives' is not `name` or `name:verify_key`"),
    ("services = auth:Verify\n", "services: 'auth:Verify'"),
    ("confd_globs = etc/xivo-*/conf.d\n", "must be an absolute path"),
    ("confd_globs = /etc/../root/conf.d\n", "must be an absolute path"),
    ("confd_globs = /etc/xivo-?/conf.d\n", "`*` is the only wildcard"),
    ("hostname = pbx.example.com\n", "line 1: expected one of days, renew_days"),
    ("# ok\nkey_type = ec:p256\n", "line 2: expected one of"),
    ("days 90\n", "line 1: expected one of"),
    ("days = 90#x\n", "days must be a whole number from 1 to 3650, not '90#x'"),  # no space: no comment
])
def test_bad_settings_name_the_file_and_the_problem(tmp_path, text, problem):
    path = write(tmp_path, text)
    with pytest.raises(Problem) as refused:
        settings.load(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert problem in str(refused.value)


def test_a_comment_may_end_a_line_after_a_space_or_tab(tmp_path):
    found = settings.load(write(tmp_path, "restart_services = yes   # restart automatically\n"
                                          "days = 90\t# three months\n"
                                          "override_host = # automatic\n"))
    assert (found.restart_services, found.days, found.override_host) == (True, 90, "")


def test_a_utf8_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "xivo-certs.conf"
    path.write_bytes(b"\xef\xbb\xbfdays = 90\n")
    assert settings.load(str(path)).days == 90


def test_an_unreadable_settings_file_is_a_problem(tmp_path):
    path = tmp_path / "xivo-certs.conf"
    path.mkdir()  # root reads any file: a directory is what cannot be read
    with pytest.raises(Problem, match=f"^{path}: not a regular file$"):
        settings.load(str(path))
    path.rmdir()
    path.write_bytes(b"days = \xff\n")
    with pytest.raises(Problem, match="cannot read settings"):
        settings.load(str(path))


def test_a_fifo_as_settings_file_is_refused_at_once(root, cmd):
    """Not waited on: the settings are read with the lock held, every later command would wait too."""
    settings_file = root / "etc/xivo-certs/xivo-certs.conf"
    os.mkfifo(settings_file)
    root.lock_ready()
    assert refusal_line(root, functools.partial(cmd, timeout=10), "sync") == (
        f"xivo-certs: {settings_file}: not a regular file")


@pytest.mark.parametrize("command", [["generate"], ["sync"], ["revert"], ["renew"]])
def test_the_commands_refuse_bad_settings_and_change_nothing(root, xc, keys, command):
    settings_file = root / "etc/xivo-certs/xivo-certs.conf"
    settings_file.write_text("days = forever\n")
    assert refusal_line(root, xc, *command) == (
        f"xivo-certs: {settings_file}: days must be a whole number from 1 to 3650, not 'forever'")


def test_ensure_as_the_package_configures_warns_of_bad_settings_and_applies_the_defaults(root, xc):
    """A typo must not leave the package unconfigured: postinst's `ensure` says it and goes on."""
    settings_file = root / "etc/xivo-certs/xivo-certs.conf"
    settings_file.write_text("days = 90\nrenew_dayz = 10\n")
    result = xc("ensure", "--reason", "upgrade", "--hooks-nonfatal")
    assert result.code == 0, result
    assert result.err.splitlines()[0] == (
        f"xivo-certs: warning: {settings_file}: line 2: expected one of "
        f"{', '.join(settings.DEFAULTS)} as `key = value`; the default settings apply until it is fixed")
    cert = root.certs()[0]
    assert (cert.not_valid_after - cert.not_valid_before).days == 825  # the default, not 90
    assert xc("sync").code == 1  # the other commands still refuse them


def test_days_and_services_settings_shape_what_is_written(root, xc, ordinary_ca, issued):
    (root / "etc/xivo-certs/xivo-certs.conf").write_text(
        "days = 100\nservices = consul:verify dird\nconfd_globs = /etc/wazo-*/conf.d\n")
    assert xc("ensure").code == 0
    cert = root.certs()[0]
    assert (cert.not_valid_after - cert.not_valid_before).days == 100

    leaf = issued("pbx.example.test")
    (root / "tmp").mkdir()
    (root / "tmp/c.pem").write_bytes(pem(leaf.cert, ordinary_ca.cert))
    (root / "tmp/k.pem").write_bytes(pem(leaf.key))
    root.ship_hooks()
    assert xc("install", "--cert", root / "tmp/c.pem", "--key", root / "tmp/k.pem").code == 0
    assert root.override_yaml() == {
        "consul": {"host": "pbx.example.test", "verify": "/usr/share/xivo-certs/ca.crt"},
        "dird": {"host": "pbx.example.test", "verify_certificate": "/usr/share/xivo-certs/ca.crt"},
    }
    links = root.links()
    assert links["etc/wazo-calld/conf.d"] == links["etc/wazo-webhookd/conf.d"] == \
        "/etc/xivo/custom/custom-certificate.yml"
    assert links["etc/xivo-dird/conf.d"] is None and links["etc/xivo-confd/conf.d"] is None
