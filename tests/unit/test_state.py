"""xivo_certs.state: the `key=value` state file, and what the commands record in it."""

import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from xivo_certs import state
from xivo_certs.errors import Problem
from support.asserts import owner_mode
from support.facts import fingerprint, sha256_file
from support.owners import GID, OWNER, UID
from xc_testlib import CONFD_DIRS


def test_render_and_read_round_trip(tmp_path):
    values = {"hostname": "pbx.example.com", "key_type": "ec:p256", "san": ("a.example", "b.example"),
              "fingerprint": "ab" * 32, "confd_dir": ("/etc/xivo-dird/conf.d", "/etc/wazo-calld/conf.d"),
              "settings_stat": "", "changed_at": "1700000000"}
    text = state.render(state.State(**values))
    assert text.splitlines() == [
        "hostname=pbx.example.com", "key_type=ec:p256", "san=a.example", "san=b.example",
        "fingerprint=" + "ab" * 32, "settings_stat=", "confd_dir=/etc/xivo-dird/conf.d",
        "confd_dir=/etc/wazo-calld/conf.d", "changed_at=1700000000"]
    path = private_file(tmp_path / "state", text)
    read = state.read(str(path))
    assert read == state.State(**values)


def private_file(path, text):
    """A state file as xivo-certs writes it (mode 0600: nothing else is believed)."""
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    path.chmod(0o600)
    return path


def test_read_ignores_unknown_keys_and_junk_and_a_missing_file_is_empty(tmp_path):
    path = private_file(tmp_path / "state", "hostname=a=b\nnonsense\nfuture_key=1\n\nkey_type=rsa:2048\n")
    assert state.read(str(path)) == state.State(hostname="a=b", key_type="rsa:2048")
    assert state.read(str(tmp_path / "absent")) == state.State()


def test_render_drops_values_that_would_break_the_line_format():
    assert state.render(state.State(hostname="evil\nfingerprint=00", key_type="rsa:2048")) == \
        "key_type=rsa:2048\n"


@pytest.mark.parametrize("separator", ["\r", "\v", "\f", "\x1c", "\x85", "\u2028", "\u2029",
                                       "\x1b", "\x00", "\x7f", "\u202e"])
def test_control_characters_neither_split_lines_nor_are_stored(tmp_path, separator):
    """A conf.d path holding U+2028 once injected `changed_at=` (str.splitlines splits there)."""
    hostile = f"/etc/xivo-a{separator}changed_at=junk/conf.d"
    recorded = state.State(hostname="pbx", confd_dir=(hostile, "/etc/xivo-b/conf.d"))
    assert state.render(recorded) == "hostname=pbx\nconfd_dir=/etc/xivo-b/conf.d\n"
    path = private_file(tmp_path / "state", f"hostname=pbx\nconfd_dir={hostile}\nkey_type=x{separator}y\n")
    assert state.read(str(path)) == state.State(hostname="pbx")


def test_current_stamps_leave_out_what_the_state_cannot_hold(root):
    """Else the no-op sync would never be one: the directory would be new at every run."""
    hostile = root / "etc/xivo-a\u2028b/conf.d"
    hostile.mkdir(parents=True)
    found = state.current_stamps(root.paths, ["/etc/xivo-*/conf.d"])["confd_dir"]
    assert str(hostile) not in found and found  # the others are there


def test_only_a_private_state_file_is_believed(tmp_path):
    path = private_file(tmp_path / "state", "generated_fingerprint=" + "ab" * 32 + "\n")
    assert state.read(str(path)).generated_fingerprint == "ab" * 32
    os.link(path, tmp_path / "second-name")
    with pytest.raises(Problem, match=rf"^{path}: must be a regular file of uid {os.geteuid()}, "
                                      r"mode 0600 at most, with one link \(it has .* 2 links\)"):
        state.read(str(path))
    os.unlink(tmp_path / "second-name")
    path.chmod(0o644)
    with pytest.raises(Problem, match=r"mode 0644"):
        state.read(str(path))


PRINTABLE = st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs"),
                          whitelist_characters=" ")


@given(st.dictionaries(st.sampled_from(["hostname", "key_type", "fingerprint", "changed_at"]),
                       st.text(alphabet=PRINTABLE, max_size=30)),
       st.lists(st.text(alphabet="abcdef/-*.", min_size=1, max_size=20), max_size=4))
def test_round_trip_property(tmp_path_factory, values, dirs):
    path = private_file(tmp_path_factory.mktemp("s") / "state",
                        state.render(state.State(**values, confd_dir=tuple(dirs))))
    assert state.read(str(path)) == state.State(**values, confd_dir=tuple(dirs))


@given(st.text(max_size=40))
def test_any_value_is_stored_as_it_is_or_not_at_all(tmp_path_factory, value):
    path = private_file(tmp_path_factory.mktemp("s") / "state",
                        state.render(state.State(hostname=value, confd_dir=(value,))))
    assert state.read(str(path)) in (state.State(hostname=value, confd_dir=(value,)), state.State())


def test_write_makes_a_root_only_directory_and_file(root):
    state.write(root.paths, OWNER, state.State(hostname="x"))
    assert owner_mode(root.paths.state_dir) == (UID, GID, 0o700)
    assert owner_mode(root.paths.state) == (UID, GID, 0o600)
    assert Path(root.paths.state).read_text() == "hostname=x\n"


def test_posix_sh_reads_it(root):
    """debconf's config script and postrm read the state with sed, without python."""
    state.write(root.paths, OWNER, state.State(hostname="pbx.example.com", key_type="ec:p384"))
    out = subprocess.run(["sh", "-c", "sed -n 's/^hostname=//p' \"$1\"; sed -n 's/^key_type=//p' \"$1\"",
                          "sh", root.paths.state], capture_output=True, text=True, check=True).stdout
    assert out == "pbx.example.com\nec:p384\n"


def test_what_ensure_records(root, xc):
    before = int(time.time())
    assert xc("ensure", "--hostname", "pbx.example.com", "--key-type", "ec:p256").code == 0
    recorded = root.state()
    cert = root.certs()[0]
    assert recorded.hostname == "pbx.example.com"
    assert recorded.key_type == "ec:p256"
    assert recorded.generated_fingerprint == fingerprint(cert) == recorded.fingerprint
    assert recorded.generated_pem_sha256 == sha256_file(root.cert)
    assert recorded.generated_pem_sha256 == subprocess.run(
        ["sha256sum", root.cert], capture_output=True, text=True).stdout.split()[0]
    for key, path in (("cert_stat", root.cert), ("key_stat", root.key)):
        info = os.lstat(path)
        assert getattr(recorded, key) == f"{info.st_ino}:{info.st_size}:{info.st_mtime_ns}:{info.st_ctime_ns}"
    assert recorded.settings_stat == ""  # no settings file
    assert recorded.confd_dir == tuple(sorted(str(root / d) for d in CONFD_DIRS))
    assert recorded.san == ()
    assert recorded.changed_at is None  # the first certificate is not a change

    # a later change of certificate is dated
    assert xc("generate", "--hostname", "other.example.com", "--san", "voip.example.com").code == 0
    recorded = root.state()
    assert before <= int(recorded.changed_at) <= int(time.time())
    assert recorded.san == ("voip.example.com",)
    assert recorded.fingerprint == fingerprint(root.certs()[0])
    text = Path(root.paths.state).read_text()
    assert hashlib.sha256(text.encode()).hexdigest()  # plain text, one key=value a line
    assert all("=" in line for line in text.splitlines())


def test_every_key_has_its_default():
    """A key added without its default would shift the others' (namedtuple defaults fill from
    the right)."""
    empty = state.State()
    assert {key: getattr(empty, key) for key in state.KEYS} == {
        key: () if key in state.LIST_KEYS else None for key in state.KEYS}
