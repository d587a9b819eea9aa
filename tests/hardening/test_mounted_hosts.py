"""As root: /etc/hosts bind-mounted, as Docker and most containers have it. No rename can replace a
mount point (EBUSY): the managed block is written into the mounted file in place."""

import os
import subprocess

import pytest

from hardening_lib import AdminPair, make_ca, make_root
from support import command
from support.layout import CHECKOUT, hosts_block


def run_with_hosts_mounted(root, hosts_file, *args):
    """`xivo-certs ARGS` (and its hooks) in a mount namespace where `hosts_file` is mounted over
    the root's /etc/hosts."""
    script = 'mount --bind "$1" "$2" && shift 2 && exec "$@"'
    return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh",
                           str(hosts_file), str(root / "etc/hosts"), *root.argv(*args)],
                          env=command.environment(), cwd=str(CHECKOUT), capture_output=True, text=True,
                          stdin=subprocess.DEVNULL, timeout=120)


def test_the_block_goes_into_a_bind_mounted_etc_hosts_in_place(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mount needs root")
    root = make_root(tmp_path / "root")
    underneath = "127.0.0.1\tlocalhost\n"
    (root / "etc/hosts").write_text(underneath)
    mounted = tmp_path / "hosts.container"
    mounted.write_text("127.0.0.1\tlocalhost\n172.17.0.2\tcontainer\n")
    inode = mounted.stat().st_ino
    ca = make_ca()
    admin = AdminPair(tmp_path / "in", "pbx", ("pbx.example.com",), issuer=ca, chain=[ca.cert])

    result = run_with_hosts_mounted(root, mounted, *admin.install_args())
    assert result.returncode == 0, result
    text = mounted.read_text()
    assert hosts_block("pbx.example.com") in text, text
    assert text.endswith("127.0.0.1\tlocalhost\n172.17.0.2\tcontainer\n")  # the container's lines kept
    assert mounted.stat().st_ino == inode and oct(mounted.stat().st_mode & 0o777) == "0o644"
    assert (root / "etc/hosts").read_text() == underneath
    assert not [name for name in os.listdir(root / "etc") if name.startswith("hosts.")]

    result = run_with_hosts_mounted(root, mounted, "revert")
    assert result.returncode == 0, result
    assert mounted.read_text() == "127.0.0.1\tlocalhost\n172.17.0.2\tcontainer\n"
