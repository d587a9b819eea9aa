"""The test kit's stand-in for the daemons' configuration loader (support.daemons), checked
against what xivo-lib-python's read_config_file_hierarchy does, on the override xivo-certs writes."""

from support import daemons
from support.layout import CA as CA_PATH, LINK_NAME, OVERRIDE


def test_conf_d_files_in_sorted_order_win_over_config_yml_and_nested_maps_merge(tmp_path):
    (tmp_path / "conf.d").mkdir()
    (tmp_path / "config.yml").write_text("auth:\n  host: localhost\n  port: 9497\n  verify_certificate: "
                                         "/usr/share/xivo-certs/server.crt\ndebug: false\n")
    (tmp_path / "conf.d/020-later.yml").write_text("auth:\n  host: later.example\n  timeout: 3\n")
    (tmp_path / "conf.d/005-first.yml").write_text("debug: true\n")
    (tmp_path / "conf.d" / LINK_NAME).write_text(f"auth:\n  host: pbx.example.test\n  verify_certificate: "
                                                 f"{CA_PATH}\n")
    (tmp_path / "conf.d/.hidden.yml").write_text("debug: hidden\n")
    (tmp_path / "conf.d/notes.txt").write_text("debug: txt\n")
    (tmp_path / "conf.d/030-broken.yml").write_text("auth: [unclosed\n")
    assert daemons.read_config_file_hierarchy(str(tmp_path)) == {
        "auth": {"host": "pbx.example.test", "verify_certificate": CA_PATH, "port": 9497, "timeout": 3},
        "debug": True,
    }
    assert OVERRIDE.endswith(".yml")
