"""The `xivo-certs` command end to end: `/usr/bin/python3 bin/xivo-certs --root TMP ...` as a
subprocess, with the checkout's bin/ first on PATH (so the shipped hook's `xivo-certs` is this one)."""

import json
import os
import subprocess

import pytest

from support.asserts import owner_mode
from support.certs import load_key, pem
from support.command import argv, environment as command_env
from support.facts import fingerprint, spki
from support.layout import CA as CA_PATH, CHECKOUT, COMMAND, HOOK_VARIABLES, OVERRIDE as OVERRIDE_PATH, PYTHON
from support.owners import AS_ROOT, GID, UID, WWW_DATA
from xc_testlib import ALL_LINKED, NO_LINKS, assert_quiet_no_op, refusal_line, run_without_root


def one_line_refusal(result, *texts):
    assert result.code == 1, result
    assert len(result.err_lines) == 1, result
    assert result.err_lines[0].startswith("xivo-certs: ")
    for text in texts:
        assert str(text) in result.err_lines[0]


def test_fresh_install_then_no_op_sync(root, cmd):
    root.ship_hooks()
    result = cmd("ensure", "--reason", "install", "--hooks-nonfatal")
    assert result.code == 0, result
    assert result.out.startswith("xivo-certs: generated a self-signed certificate for localhost (rsa:2048, ")
    cert = root.certs()[0]
    assert spki(cert.public_key()) == spki(load_key(root.key).public_key())
    assert owner_mode(root.cert) == (UID, WWW_DATA, 0o644)
    assert owner_mode(root.key) == (UID, WWW_DATA, 0o640)
    assert owner_mode(root.paths.state_dir) == (UID, GID, 0o700)
    [run] = root.hook_runs()
    assert sorted(run) == sorted(HOOK_VARIABLES)
    assert run["XIVO_CERTS_FINGERPRINT"] == fingerprint(cert)
    assert (run["XIVO_CERTS_REASON"], run["XIVO_CERTS_DEFAULT"], run["XIVO_CERTS_ROOT"]) == \
        ("install", "yes", str(root))
    assert not os.path.lexists(root / OVERRIDE_PATH)  # the shipped hook ran: nothing to override

    status = cmd("status", "--json")
    assert status.code == 0, status
    assert json.loads(status.out)["fingerprint_sha256"] == fingerprint(cert)

    for args in (["sync"], ["sync", "--quiet"], ["ensure", "--reason", "upgrade"]):
        assert_quiet_no_op(root, cmd, *args)
    assert len(root.hook_runs()) == 1


def imported_modules(importtime_stderr):
    modules = set()
    for line in importtime_stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.add(line.rsplit("|", 1)[1].strip())
    return modules


def test_a_no_op_sync_imports_neither_cryptography_nor_yaml(root, cmd, keys):
    from support.certs import package_like
    key = keys.get("ec:p256")
    root.put_pair(package_like(key), key)
    assert cmd("sync").code == 0  # records the pair (this one parses it)
    assert len(root.hook_runs()) == 1
    result = cmd("sync", "--quiet", python_options=["-X", "importtime"])
    assert result.code == 0 and result.out == ""
    modules = imported_modules(result.err)
    assert "xivo_certs.sync" in modules  # the measure works
    heavy = {m for m in modules if m.split(".")[0] in ("cryptography", "yaml", "_cffi_backend", "ssl")}
    assert heavy == set()
    # nor the modules that parse or judge certificates, run hooks or write the override
    assert not modules & {"xivo_certs.x509", "xivo_certs.pair", "xivo_certs.override",
                          "xivo_certs.hooks", "xivo_certs.status", "xivo_certs.validate",
                          "xivo_certs.actions", "xivo_certs.settle", "xivo_certs.trust"}
    # and the same through sys.modules, from a tiny runner
    runner = ("import sys; from xivo_certs import cli; code = cli.main(['--root', sys.argv[1], 'sync']); "
              "print(code, sorted(m for m in sys.modules if m.startswith(('cryptography', 'yaml'))))")
    out = subprocess.run([PYTHON, "-c", runner, str(root)], env=command_env(), capture_output=True,
                         text=True, check=True).stdout
    assert out == "0 []\n"
    assert len(root.hook_runs()) == 1


def test_generate_loads_only_its_own_work(root, cmd):
    """Each command loads the module of its own work (cli.run): `generate`, with no hook to write
    an override, imports neither yaml (only the override's YAML needs it) nor what install, the
    override or status use (make bench: generate within 1.3x its floor)."""
    result = cmd("generate", "--key-type", "ec:p256", python_options=["-X", "importtime"])
    assert result.code == 0, result
    modules = imported_modules(result.err)
    assert "xivo_certs.actions" in modules and "cryptography.x509" in modules  # the measure works
    assert {m for m in modules if m.split(".")[0] == "yaml"} == set()
    assert not modules & {"xivo_certs.override", "xivo_certs.hosts", "xivo_certs.install",
                          "xivo_certs.bundle", "xivo_certs.validate", "xivo_certs.request",
                          "xivo_certs.status", "xivo_certs.probe", "xivo_certs.certbot"}
    assert root.cert.exists()


def test_install_a_private_ca_certificate_then_revert(root, cmd, ordinary_ca, issued, tmp_path):
    root.ship_hooks()
    admin = issued("pbx.example.test", intermediate=True)
    leaf, key = admin.pair
    [middle] = admin.chain
    (tmp_path / "c.pem").write_bytes(pem(leaf))
    (tmp_path / "k.pem").write_bytes(pem(key))
    (tmp_path / "chain.pem").write_bytes(pem(middle, ordinary_ca.cert))
    result = cmd("install", "--cert", tmp_path / "c.pem", "--key", tmp_path / "k.pem",
                 "--chain", tmp_path / "chain.pem")
    assert result.code == 0, result
    assert root.cert.read_bytes() == pem(leaf, middle, ordinary_ca.cert)
    assert owner_mode(root.key) == (UID, WWW_DATA, 0o640)
    overrides = root.override_yaml()
    assert overrides["consul"] == {"host": "pbx.example.test", "verify": CA_PATH}
    assert overrides["websocketd"] == {"host": "pbx.example.test", "verify_certificate": CA_PATH}
    assert (root / CA_PATH).read_bytes() == pem(ordinary_ca.cert)
    assert root.links() == ALL_LINKED
    assert "change them to pbx.example.test" in result.out + result.err  # the hook's advice
    [run] = root.hook_runs()
    assert (run["XIVO_CERTS_REASON"], run["XIVO_CERTS_DEFAULT"], run["XIVO_CERTS_SELF_SIGNED"],
            run["XIVO_CERTS_HOSTNAME"]) == ("install-cert", "no", "no", "pbx.example.test")

    admin_bytes = (root.cert.read_bytes(), root.key.read_bytes())
    result = cmd("revert", "--root", root)  # --root after the command works too
    assert result.code == 0, result
    [backup] = root.backups()
    assert ((backup / "server.crt").read_bytes(), (backup / "server.key").read_bytes()) == admin_bytes
    assert root.certs()[0].issuer == root.certs()[0].subject
    assert not os.path.lexists(root / OVERRIDE_PATH) and not os.path.lexists(root / CA_PATH)
    assert root.links() == NO_LINKS
    assert [r["XIVO_CERTS_REASON"] for r in root.hook_runs()] == ["install-cert", "revert"]


def test_generate_with_every_option(root, cmd):
    result = cmd("generate", "--hostname", "Téléphone.Example", "--san", "voip.example.com",
                 "--key-type", "ec:p256", "--days", "30")
    assert result.code == 0, result
    from cryptography import x509
    cert = root.certs()[0]
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [
        "xn--tlphone-byab.example", "voip.example.com", "localhost"]
    assert (cert.not_valid_after - cert.not_valid_before).days == 30
    assert root.state().key_type == "ec:p256"


@pytest.mark.parametrize("args, texts", [
    (["ensure", "--hostname", "pbx_1.example.com"], ["'pbx_1.example.com' is not a host name"]),
    (["install", "--cert", "/nonexistent/c.pem", "--key", "/nonexistent/k.pem"],
     ["/nonexistent/c.pem: no such file"]),
])
def test_bad_input_one_line_exit_1_nothing_changed(root, cmd, args, texts):
    root.lock_ready()
    line = refusal_line(root, cmd, *args)
    assert all(str(text) in line for text in texts), line


def test_install_refuses_a_malformed_certificate(root, cmd, tmp_path, keys):
    assert cmd("generate", "--key-type", "ec:p256").code == 0
    (tmp_path / "c.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\ngarbage\n")
    (tmp_path / "k.pem").write_bytes(pem(keys.get("ec:p256")))
    line = refusal_line(root, cmd, "install", "--cert", tmp_path / "c.pem", "--key", tmp_path / "k.pem")
    assert f"{tmp_path / 'c.pem'}" in line and "malformed PEM" in line, line


@pytest.mark.parametrize("args, text", [
    (["--root"], "--root: expected one argument"),
    (["status", "--bogus"], "unrecognized arguments: --bogus"),
    (["install", "--key", "k"], "the following arguments are required: --cert"),
    (["generate", "--days", "many"], "argument --days: must be a whole number from 1 to 3650, not 'many'"),
    (["generate", "--days", "0"], "argument --days: must be a whole number from 1 to 3650, not '0'"),
    (["generate", "--days", "3651"], "from 1 to 3650, not '3651'"),
    (["generate", "--key-type", "rsa:1024"], "argument --key-type: invalid choice: 'rsa:1024'"),
    (["ensure", "--key-type", "dsa:1024"], "argument --key-type: invalid choice: 'dsa:1024'"),
    (["nothing"], "invalid choice: 'nothing'"),
    (["certbot", "enable"], "the following arguments are required: NAME"),
    (["certbot", "disable", "foo.example"], "unrecognized arguments: foo.example"),
    (["certbot", "deploy", "foo.example"], "unrecognized arguments: foo.example"),
    (["certbot", "enable", "pbx.example", "--lineage", "/x"], "unrecognized arguments: --lineage /x"),
    (["certbot", "disable", "--lineage", "/x"], "unrecognized arguments: --lineage /x"),
    (["status", "\x1b[2Jextra"], "unrecognized arguments: \\x1b[2Jextra"),
    (["status", "a\nfake line"], "unrecognized arguments: a\\nfake line"),
])
def test_usage_errors_exit_2_in_one_line(root, cmd, args, text):
    before = root.snapshot()
    result = subprocess.run([PYTHON, COMMAND, *args], env=command_env(), capture_output=True, text=True,
                            cwd=str(CHECKOUT))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("xivo-certs: usage error: ")
    assert text in result.stderr and "--help" in result.stderr
    assert root.snapshot() == before


def test_sync_refuses_a_mismatched_pair_and_runs_no_hook(root, cmd, keys):
    from support.certs import package_like
    key, other = keys.distinct("rsa:2048", 2)
    root.put_pair(package_like(key), other)
    one_line_refusal(cmd("sync"), root.key, "does not match the certificate")
    assert root.hook_runs() == []


def test_commands_that_write_need_root(root, tmp_path):
    """Without root (and without the suite's XIVO_CERTS_TEST_OWNER), nothing is written."""
    elsewhere = tmp_path / "open-root"
    elsewhere.mkdir()
    elsewhere.chmod(0o755)
    for args in (["ensure"], ["sync"], ["generate"], ["override"]):
        result = run_without_root(elsewhere, *args)
        assert result.returncode == 1, (args, result.stderr)
        assert result.stderr == "xivo-certs: must be run as root (it writes the private key)\n"
    assert os.listdir(elsewhere) == []


@pytest.mark.skipif(not AS_ROOT, reason="what root does with XIVO_CERTS_TEST_OWNER: needs root")
def test_root_ignores_the_test_owner(root, cmd):
    assert cmd("ensure", env={"XIVO_CERTS_TEST_OWNER": "1000:1000"}).code == 0
    assert owner_mode(root.key) == (0, WWW_DATA, 0o640)
    assert owner_mode(root.paths.state) == (0, 0, 0o600)


@pytest.mark.skipif(AS_ROOT, reason="root ignores XIVO_CERTS_TEST_OWNER (see the test above)")
def test_a_test_owner_that_is_not_the_user_is_refused(root, cmd):
    result = cmd("ensure", env={"XIVO_CERTS_TEST_OWNER": f"{UID + 1}:{GID}"})
    assert (result.code, result.err) == (1, "xivo-certs: must be run as root (it writes the private key)\n")
    assert not root.key.exists()


@pytest.mark.parametrize("args", [("generate", "--key-type", "ec:p256"), ("status",)],
                         ids=["generate", "status"])
def test_output_that_cannot_be_written_is_one_line_and_exit_1(root, args):
    """stdout on a full disk (/dev/full): the command ends with one line on stderr, exit 1, and no
    traceback; what it did is done (generate's pair is in place)."""
    if args[0] == "status":
        assert subprocess.run(argv(root, "generate", "--key-type", "ec:p256"), env=command_env(),
                              capture_output=True).returncode == 0
    with open("/dev/full", "w") as full:
        result = subprocess.run(argv(root, *args), env=command_env(), stdout=full,
                                stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1 and lines[0].startswith("xivo-certs: ") and "No space left" in lines[0], lines
    assert root.certs()[0].public_key() is not None


# --- terminal escapes --------------------------------------------------------------------------

HOSTILE_CN = "pbx\x1b]0;owned\x07\x1b[2J\u202e"


@pytest.mark.parametrize("where", ["subject CN", "issuer CN"])
def test_install_refuses_control_characters_in_the_names(root, cmd, tmp_path, where):
    from support.pool import PrivateCA
    issuer = PrivateCA(cn=HOSTILE_CN if where == "issuer CN" else "Test CA")
    cert, key = issuer.leaf(("pbx.example.test",), cn=HOSTILE_CN if where == "subject CN" else None)
    (tmp_path / "c.pem").write_bytes(pem(cert))
    (tmp_path / "k.pem").write_bytes(pem(key))
    root.lock_ready()
    line = refusal_line(root, cmd, "install", "--cert", tmp_path / "c.pem", "--key", tmp_path / "k.pem")
    assert line == (f"xivo-certs: {tmp_path / 'c.pem'}: the certificate's {where} "
                    r"'pbx\x1b]0;owned\x07\x1b[2J\u202e' holds control characters")


def test_what_is_printed_never_holds_a_control_character(capsys):
    from xivo_certs import cli
    from xivo_certs.context import Notes
    notes = Notes()
    notes.out.extend(["certificate", "  subject    CN=a\x1b[2Jb\x00\u2028c\x9b\x7f"])
    notes.warn("bell\x07 and \u202eright-to-left")
    notes.warn("/tmp/no\nxivo-certs: installed the certificate for evil.org: not a certificate")
    cli.show(notes)
    out, err = capsys.readouterr()
    assert out == "certificate\n  subject    CN=a\\x1b[2Jb\\x00\\u2028c\\x9b\\x7f\n"
    assert err == ("xivo-certs: bell\\x07 and \\u202eright-to-left\n"
                   "xivo-certs: /tmp/no\\nxivo-certs: installed the certificate for evil.org: not a "
                   "certificate\n")


def test_a_file_name_holding_a_newline_is_still_one_line_of_refusal(root, xc, tmp_path):
    missing = tmp_path / "no\nxivo-certs: installed the certificate for evil.org"
    line = refusal_line(root, xc, "install", "--cert", missing, "--key", missing)
    assert line.startswith(f"xivo-certs: {tmp_path}/no\\nxivo-certs: installed the certificate for "
                           "evil.org: "), line
