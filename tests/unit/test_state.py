"""xivo_certs.state: the `key=value` state file, and what the commands record in it."""

import hashlib
import os
import subprocess
import time
from pathlib import Path

from hypothesis import given, strategies as st

from xivo_certs import state
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
    path = tmp_path / "state"
    path.write_text(text)
    read = state.read(str(path))
    assert read == state.State(**values)


def test_read_ignores_unknown_keys_and_junk_and_a_missing_file_is_empty(tmp_path):
    path = tmp_path / "state"
    path.write_text("hostname=a=b\nnonsense\nfuture_key=1\n\nkey_type=rsa:2048\n")
    assert state.read(str(path)) == state.State(hostname="a=b", key_type="rsa:2048")
    assert state.read(str(tmp_path / "absent")) == state.State()


def test_render_drops_values_that_would_break_the_line_format():
    assert state.render(state.State(hostname="evil\nfingerprint=00", key_type="rsa:2048")) == \
        "key_type=rsa:2048\n"


@given(st.dictionaries(st.sampled_from(["hostname", "key_type", "fingerprint", "changed_at"]),
                       st.text(alphabet=st.characters(blacklist_categories=("Cs",),  # no lone surrogates:
                                                      blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e"
                                                      "\x85\u2028\u2029"), max_size=30)),
       st.lists(st.text(alphabet="abcdef/-*.", min_size=1, max_size=20), max_size=4))
def test_round_trip_property(tmp_path_factory, values, dirs):
    path = tmp_path_factory.mktemp("s") / "state"
    path.write_text(state.render(state.State(**values, confd_dir=tuple(dirs))), encoding="utf-8")
    assert state.read(str(path)) == state.State(**values, confd_dir=tuple(dirs))


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
