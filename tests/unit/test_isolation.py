"""Issue 12, item 9: root's command is not steered by its caller's environment. The command runs
in Python's isolated mode (no PYTHONPATH, no user site, whatever HOME says); openssl and run-parts
are found in a fixed PATH, which the hooks get too, without the variables that make interpreters
load code."""

import subprocess
from pathlib import Path

from support.layout import COMMAND, PYTHON
from xivo_certs import tools

FAKE_TOOL = """#!/bin/sh
touch "{marker}/$(basename "$0")-ran"
"""
PATH_HOOK = """#!/bin/sh
printf '%s\\n' "$PATH" "${{PYTHONPATH-unset}}" "${{BASH_ENV-unset}}" > "{out}"
"""


def test_the_callers_path_never_chooses_a_tool_nor_the_hooks_path(root, cmd, tmp_path, issued,
                                                                  ordinary_ca):
    user_bin, ran = tmp_path / "user-bin", tmp_path / "ran"
    user_bin.mkdir()
    ran.mkdir()
    for tool in ("run-parts", "openssl", "xivo-certs", "date"):
        (user_bin / tool).write_text(FAKE_TOOL.format(marker=ran))
        (user_bin / tool).chmod(0o755)
    root.ship_hooks()
    seen = tmp_path / "hook-path"
    root.add_hook("40-path", PATH_HOOK.format(out=seen))
    leaf = issued("pbx.example.test")  # not trusted by the system: `openssl verify` decides
    root.put_pair(leaf.cert, leaf.key, chain=[ordinary_ca.cert])
    result = cmd("sync", path=f"{user_bin}::/usr/bin:/bin", env={"BASH_ENV": str(user_bin / "rc")})
    assert result.code == 0, result
    assert sorted(p.name for p in ran.iterdir()) == []
    assert seen.read_text().splitlines() == [tools.SYSTEM_PATH, "unset", "unset"]
    assert len(root.hook_runs()) == 1
    assert root.override_yaml()["dird"]["host"] == "pbx.example.test"  # the shipped hook ran


def user_site(home):
    """The user site directory Python would read for HOME `home`."""
    return subprocess.run([PYTHON, "-c", "import site; print(site.getusersitepackages())"],
                          env={"HOME": str(home)}, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_the_command_reads_neither_pythonpath_nor_the_users_site(tmp_path):
    home, planted, ran = tmp_path / "home", tmp_path / "planted", tmp_path / "ran"
    ran.mkdir()
    site_dir = Path(user_site(home))
    site_dir.mkdir(parents=True)
    (site_dir / "evil.pth").write_text(f"import os; open('{ran}/pth', 'w').close()\n")
    (planted / "xivo_certs").mkdir(parents=True)
    (planted / "xivo_certs" / "__init__.py").write_text(f"open('{ran}/pythonpath', 'w').close()\n")
    env = {"HOME": str(home), "PYTHONPATH": str(planted), "PATH": "/usr/bin:/bin"}
    # through its own first line, as root's shell, apt and systemd run it
    subprocess.run([str(COMMAND), "--root", str(tmp_path / "nowhere"), "status"], env=env,
                   capture_output=True, cwd=str(tmp_path), check=False, timeout=120)
    assert sorted(p.name for p in ran.iterdir()) == []
