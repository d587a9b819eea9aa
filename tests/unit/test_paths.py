"""xivo_certs.paths: the files under a root, and the daemons' conf.d directories."""

from xivo_certs.paths import Paths


def test_paths_are_under_the_root(tmp_path):
    paths = Paths(str(tmp_path / "r" / ".."))
    assert paths.root == str(tmp_path)
    assert paths.cert == f"{tmp_path}/usr/share/xivo-certs/server.crt"
    assert paths.state == f"{tmp_path}/var/lib/xivo-certs/state"
    assert paths.link_in("/x/conf.d") == "/x/conf.d/010-custom-certificate.yml"


def test_confd_dirs_are_existing_directories_sorted_without_hidden_names(tmp_path):
    for directory in ("etc/xivo-b/conf.d", "etc/xivo-a/conf.d", "etc/wazo-c/conf.d", "etc/.xivo-h/conf.d",
                      "etc/xivo-/conf.d", "etc/xivo-d"):
        (tmp_path / directory).mkdir(parents=True)
    (tmp_path / "etc/xivo-e").mkdir()
    (tmp_path / "etc/xivo-e/conf.d").write_text("a file, not a directory")
    (tmp_path / "etc/xivo-a/.conf.d").mkdir()
    paths = Paths(str(tmp_path))
    assert paths.confd_dirs(("/etc/xivo-*/conf.d", "/etc/*-c/conf.d", "/etc/xivo-a/conf.d")) == [
        f"{tmp_path}/etc/wazo-c/conf.d", f"{tmp_path}/etc/xivo-/conf.d", f"{tmp_path}/etc/xivo-a/conf.d",
        f"{tmp_path}/etc/xivo-b/conf.d"]
    assert paths.confd_dirs(("/etc/*/*",)) == sorted(
        f"{tmp_path}/etc/{d}" for d in ("xivo-b/conf.d", "xivo-a/conf.d", "wazo-c/conf.d", "xivo-/conf.d"))
    assert Paths(str(tmp_path / "absent")).confd_dirs(("/etc/xivo-*/conf.d",)) == []


def test_a_root_with_glob_characters_is_taken_literally(tmp_path):
    root = tmp_path / "r[1]*"
    (root / "etc/xivo-a/conf.d").mkdir(parents=True)
    (tmp_path / "r1" / "etc/xivo-b/conf.d").mkdir(parents=True)
    assert Paths(str(root)).confd_dirs(("/etc/xivo-*/conf.d",)) == [f"{root}/etc/xivo-a/conf.d"]
