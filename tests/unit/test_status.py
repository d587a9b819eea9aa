"""`xivo-certs status [--json]`: the fields, problems vs information, exit codes; it never writes."""

import datetime
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes

from xivo_certs import hosts
from support.certs import DAY, now, package_like
from support.facts import fingerprint
from support.layout import CA as CA_PATH, LINK_NAME as LINK, OVERRIDE as OVERRIDE_PATH
from support.owners import AS_ROOT, UID, WWW_DATA
from xc_testlib import CONFD_DIRS, assert_quiet_no_op

REQUIRED = {"cert_path", "key_path", "subject_cn", "names", "ip_addresses", "issuer_cn", "issuer",
            "self_signed", "default", "not_after", "days_left", "key_type", "fingerprint_sha256",
            "key_matches", "override", "problems"}


@pytest.fixture
def resolves(monkeypatch):
    """Whether the override's host name resolves here (the test machine's DNS is not the point)."""
    answer = {"value": True}
    monkeypatch.setattr(hosts, "resolves_to_loopback", lambda paths, host: answer["value"])
    return answer


def status(xc, root):
    before = root.snapshot()
    result = xc("status", "--json")
    assert root.snapshot() == before  # status only reads
    assert result.err == ""
    return result.code, json.loads(result.out)


def test_status_of_the_fresh_default(root, xc):
    assert xc("ensure").code == 0
    cert = root.certs()[0]
    code, found = status(xc, root)
    assert code == 0
    assert REQUIRED <= set(found)
    not_after = datetime.datetime.fromisoformat(found["not_after"])
    assert not_after.tzinfo is not None
    assert not_after == cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    assert found["days_left"] == (not_after - now()).days
    assert {k: found[k] for k in REQUIRED - {"not_after", "days_left"}} == {
        "cert_path": str(root.cert), "key_path": str(root.key), "subject_cn": "localhost",
        "names": ["localhost"], "ip_addresses": ["127.0.0.1", "::1"], "issuer_cn": "localhost",
        "issuer": "localhost", "self_signed": True, "default": True, "key_type": "rsa:2048",
        "fingerprint_sha256": fingerprint(cert), "key_matches": True, "problems": [],
        "override": {"needed": False, "managed": True, "path": str(root / OVERRIDE_PATH), "state": "absent",
                     "links": [{"path": str(root / d / LINK), "state": "missing"}
                               for d in sorted(CONFD_DIRS)], "host": None, "verify": None},
    }
    assert len(found["fingerprint_sha256"]) == 64 and found["fingerprint_sha256"] == \
        found["fingerprint_sha256"].lower()


def test_an_issuer_without_a_cn_is_named_by_its_whole_name(root, xc, issued, ordinary_ca):
    """trustme's CAs, like many private ones, have no CN."""
    leaf = issued("pbx.example.test")
    root.put_pair(leaf.cert, leaf.key)
    code, found = status(xc, root)
    assert found["issuer_cn"] == ""
    assert found["issuer"] == ordinary_ca.cert.subject.rfc4514_string()
    assert (f"  subject    CN=pbx.example.test (issued by {found['issuer']}, an admin's)"
            in xc("status").out.splitlines())


def test_status_of_an_admin_certificate_with_its_override(root, xc, ca, resolves):
    root.ship_hooks()
    middle = ca.intermediate()
    leaf, key = middle.leaf(("pbx.example.test", "*.example.test"), ips=("192.0.2.5",))
    root.put_pair(leaf, key, chain=[middle.cert, ca.cert])
    assert xc("sync").code == 0
    code, found = status(xc, root)
    assert code == 0, found["problems"]
    assert (found["subject_cn"], found["issuer_cn"], found["self_signed"], found["default"]) == \
        ("pbx.example.test", "xivo-certs Test Intermediate CA", False, False)
    assert found["names"] == ["pbx.example.test", "*.example.test"]
    assert found["ip_addresses"] == ["192.0.2.5"]
    assert found["override"]["needed"] is True
    assert found["override"]["state"] == "managed"
    assert found["override"]["host"] == "pbx.example.test"
    assert found["override"]["verify"] == CA_PATH
    assert {link["state"] for link in found["override"]["links"]} == {"managed"}
    assert any("directory definitions in the web interface" in note for note in found["information"])


def problems_of(xc, root):
    code, found = status(xc, root)
    assert code == (1 if found["problems"] else 0)
    return found


def test_a_key_that_does_not_match(root, xc, keys):
    key, other = keys.distinct("rsa:2048", 2)
    root.put_pair(package_like(key), other)
    found = problems_of(xc, root)
    assert found["key_matches"] is False
    assert found["problems"] == [f"{root.key}: does not match the certificate {root.cert}"]


def test_an_expired_certificate(root, xc, ca):
    leaf, key = ca.leaf(("localhost",), not_before=now() - 90 * DAY, not_after=now() - 2 * DAY)
    root.put_pair(leaf, key)
    found = problems_of(xc, root)
    assert found["problems"][0].startswith(f"{root.cert}: expired on ")
    assert found["days_left"] < 0


def test_an_admin_certificate_about_to_expire_is_a_problem(root, xc, ca):
    leaf, key = ca.leaf(("localhost",), not_before=now() - 90 * DAY, not_after=now() + 10 * DAY + DAY / 2)
    root.put_pair(leaf, key)
    found = problems_of(xc, root)
    assert found["problems"] == [f"{root.cert}: expires in 10 days"]


def test_the_default_certificate_about_to_expire_is_information(root, xc, keys):
    key = keys.get("rsa:2048")
    cert = package_like(key, not_before=now() - 800 * DAY, not_after=now() + 10 * DAY + DAY / 2)
    root.put_default(cert, key)
    code, found = status(xc, root)
    assert code == 0 and found["problems"] == []
    assert any("expires in 10 days" in note and "xivo-certs renew" in note for note in found["information"])


def test_a_weak_legacy_certificate(root, xc, keys):
    key = keys.get("rsa:1024")
    legacy = package_like(key, hash_alg=hashes.SHA1(), san=False)
    root.put_pair(legacy, key)
    found = problems_of(xc, root)
    assert found["default"] is True  # the legacy rule: self-signed CN=localhost, nothing recorded
    assert found["problems"] == [f"{root.cert}: signed with SHA1", f"{root.cert}: RSA key of 1024 bits",
                                 f"{root.cert}: no subjectAltName"]


@pytest.mark.parametrize("mode, gid", [(0o644, WWW_DATA), (0o660, WWW_DATA), (0o640, 1000)])
def test_a_key_readable_beyond_www_data(root, xc, keys, mode, gid):
    if gid == 1000 and not AS_ROOT:
        pytest.skip("chown to another group needs root (tests/hardening covers it)")
    key = keys.get("rsa:2048")
    root.put_pair(package_like(key), key, key_mode=mode, gid=gid)
    found = problems_of(xc, root)
    assert found["problems"] == [f"{root.key}: readable beyond root:www-data (mode {mode:04o}, uid {UID}, "
                                 f"gid {gid}); `xivo-certs sync` fixes it"]


def test_override_problems(root, xc, ordinary_ca, issued, resolves):
    leaf = issued("pbx.example.test")
    root.put_pair(leaf.cert, leaf.key, chain=[ordinary_ca.cert])
    resolves["value"] = False
    found = problems_of(xc, root)
    assert found["override"]["state"] == "absent"
    assert found["problems"][0] == (f"{root / OVERRIDE_PATH}: missing; the certificate does not cover "
                                    "localhost (run `xivo-certs override`)")
    assert found["problems"][1:5] == [f"{root / d / LINK}: missing link to {OVERRIDE_PATH}"
                                      for d in sorted(CONFD_DIRS)]
    assert found["problems"][5] == ("pbx.example.test does not resolve to 127.0.0.1, where the XiVO "
                                    "daemons listen (run `xivo-certs override`)")
    resolves["value"] = True
    assert xc("override").code == 0
    assert problems_of(xc, root)["problems"] == []
    (root / "etc/wazo-calld/conf.d" / LINK).unlink()
    (root / "etc/wazo-calld/conf.d" / LINK).write_text("mine\n")
    found = problems_of(xc, root)
    assert found["problems"] == [f"{root / 'etc/wazo-calld/conf.d' / LINK}: not a link to {OVERRIDE_PATH}; "
                                 "run `xivo-certs override --adopt` to take it over"]
    assert {"path": str(root / "etc/wazo-calld/conf.d" / LINK), "state": "foreign"} in \
        found["override"]["links"]


@pytest.mark.skipif(AS_ROOT, reason="root reads every directory (as a user, this one is not readable)")
def test_a_conf_d_this_user_cannot_read_is_named_not_a_crash(root, xc, ordinary_ca, issued, resolves):
    leaf = issued("pbx.example.test")
    root.put_pair(leaf.cert, leaf.key, chain=[ordinary_ca.cert])
    closed = root / "etc/wazo-calld/conf.d"
    closed.chmod(0)
    try:
        found = problems_of(xc, root)
    finally:
        closed.chmod(0o755)
    assert f"{closed}: cannot be read by this user" in found["problems"]
    assert found["override"]["state"] == "absent"  # the rest is still said


def test_a_foreign_override(root, xc, ordinary_ca, issued, resolves):
    leaf = issued("pbx.example.test")
    root.put_pair(leaf.cert, leaf.key, chain=[ordinary_ca.cert])
    (root / OVERRIDE_PATH).parent.mkdir(parents=True)
    (root / OVERRIDE_PATH).write_text("dird:\n  host: x\n")
    found = problems_of(xc, root)
    assert found["override"]["state"] == "foreign"
    assert f"{root / OVERRIDE_PATH}: not written by xivo-certs; run `xivo-certs override --adopt` to take " \
           "it over" in found["problems"]


def test_no_certificate_at_all(root, xc):
    code, found = status(xc, root)
    assert code == 1
    assert found["cert_path"] == str(root.cert) and found["key_path"] == str(root.key)
    assert found["problems"] == [f"{root.cert}: no such file"]


def test_a_restart_owed_is_information_not_a_problem(root, xc):
    assert xc("ensure").code == 0
    assert xc("generate").code == 0  # a change of certificate, restart_services = no
    code, found = status(xc, root)
    assert code == 0
    assert any("xivo-service restart all" in note and "drops live calls" in note
               for note in found["information"])
    (root / "etc/xivo-certs/xivo-certs.conf").write_text("restart_services = yes\n")
    assert not any("xivo-service restart all" in note for note in status(xc, root)[1]["information"])


def test_text_status(root, xc, ca, resolves):
    assert xc("ensure").code == 0
    result = xc("status")
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == f"certificate  {root.cert}"
    assert "  subject    CN=localhost (self-signed, generated by xivo-certs)" in lines
    assert "  names      localhost, 127.0.0.1, ::1" in lines
    assert f"  sha256     {fingerprint(root.certs()[0])}" in lines
    assert any(line.startswith("override     not needed") for line in lines)
    assert "problems     none" in lines
    root.key.chmod(0o644)
    result = xc("status")
    assert result.code == 1
    assert f"  - {root.key}: readable beyond root:www-data (mode 0644, uid {UID}, gid {WWW_DATA}); " \
           "`xivo-certs sync` fixes it" in result.out.splitlines()


# --- hostile names, directories, links -----------------------------------------------------------

def test_names_in_the_certificate_reach_the_terminal_escaped(root, xc, ca, keys):
    """A pair copied by hand is checked by no `install`: its names are printed escaped."""
    evil_ca = type(ca)(keys, cn="CA\x07\x00")
    cert, key = evil_ca.leaf(("pbx.example.test", "a\x1b[2J.example", "b\nproblems     none"),
                             cn="pbx\x1b]0;x\x07\u202e", raw_dns=True)
    root.put_pair(cert, key)
    result = xc("status")
    lines = result.out.split("\n")
    assert all(line.isprintable() for line in lines), lines
    assert r"  subject    CN=pbx\x1b]0;x\x07\u202e (issued by CA\x07\x00, an admin's)" in lines
    assert r"  names      pbx.example.test, a\x1b[2J.example, b\nproblems     none" in lines
    assert "problems     none" not in lines  # a name makes no line of its own
    as_json = json.loads(xc("status", "--json").out)
    assert as_json["subject_cn"] == "pbx\x1b]0;x\x07\u202e"  # JSON escapes it, and keeps it exact


def test_a_confd_path_with_a_line_separator_injects_nothing(root, xc):
    """U+2028 in a conf.d path once ended the state line there (str.splitlines): the rest,
    `changed_at=junk/conf.d`, made `status` crash on every run."""
    assert xc("ensure").code == 0
    (root / "etc/xivo-a\u2028changed_at=junk/conf.d").mkdir(parents=True)
    assert xc("sync").code == 0
    assert "junk" not in Path(root.paths.state).read_text()
    result = xc("status")
    assert (result.code, result.err) == (0, ""), result
    assert root.state().changed_at is None
    assert_quiet_no_op(root, xc, "sync")


@pytest.mark.parametrize("directory, mode, problem", [
    ("usr/share/xivo-certs", 0o775, "writable by others than root (mode 0775, uid {uid}); "
                                    "whoever can write it can replace the key"),
    ("usr/share/xivo-certs", 0o757, "writable by others than root (mode 0757, uid {uid}); "
                                    "whoever can write it can replace the key"),
    ("usr/share/xivo-certs", 0o700, "www-data cannot go through it to the key (mode 0700); "
                                    "the daemons cannot read the pair: chmod 0755 it"),
    ("usr/share", 0o750, "www-data cannot go through it to the key (mode 0750); "
                         "the daemons cannot read the pair: chmod 0755 it"),
])
def test_the_directories_down_to_the_pair(root, xc, directory, mode, problem):
    assert xc("ensure").code == 0
    if mode & 0o011 == 0o010 and not AS_ROOT:
        pytest.skip("as a user, the group is www-data's stand-in: 0750 would be fine")
    os.chmod(root / directory, mode)
    try:
        found = problems_of(xc, root)
    finally:
        os.chmod(root / directory, 0o755)
    assert found["problems"] == [f"{root / directory}: {problem.format(uid=UID)}"]


def test_a_pair_directory_open_to_www_data_only_is_fine(root, xc):
    assert xc("ensure").code == 0
    pair_dir = root / "usr/share/xivo-certs"
    os.chown(pair_dir, UID, WWW_DATA)
    pair_dir.chmod(0o750)
    assert problems_of(xc, root)["problems"] == []


def test_a_key_with_another_hard_link(root, xc, tmp_path):
    """Modes fixed through the key would be fixed for the other name too (say, a secret file)."""
    assert xc("ensure").code == 0
    os.link(root.key, tmp_path / "other-name")
    found = problems_of(xc, root)
    assert found["problems"] == [f"{root.key}: has 2 hard links; xivo-certs fixes no mode through "
                                 "it: replace it by a copy"]
