"""A temporary root for the real command (`--root`): /etc/group with www-data, conf.d directories
of XiVO daemons, the hooks directory with the shipped hooks and the recording hook; and readers of
what xivo-certs wrote there."""

import os
from pathlib import Path

import yaml

from xivo_certs import state as state_module
from xivo_certs.paths import Paths

from . import command, hooks as recording
from .layout import CONFD_DIRS, LINK_NAME, SHIPPED_HOOKS


def _path(attribute):
    """A property: the Path of a Paths attribute (cert, key, override, hooks) in this root."""
    return property(lambda root: Path(getattr(root.paths, attribute)))


class Root:
    """A temporary system root; `log` is the recording hook's directory (default in the root),
    `confd` the conf.d directories it may have."""

    def __init__(self, path, log=None, confd=CONFD_DIRS):
        self.path = Path(path)
        self.paths = Paths(str(self.path))
        self.log = Path(log) if log else self.path / "hook-runs"
        self.confd = tuple(confd)

    def __str__(self):
        return str(self.path)

    def __truediv__(self, relative):
        return self.path / str(relative).lstrip("/")

    cert = _path("cert")
    key = _path("key")
    override = _path("override")
    hooks = _path("hooks")

    def argv(self, *args):
        return command.argv(self.path, *args)

    def run(self, *args, **options):
        return command.run(self.path, *args, **options)

    def popen(self, *args, **options):
        return command.popen(self.path, *args, **options)

    def hook_runs(self):
        """The XIVO_CERTS_* environment of each recorded hook run, in order."""
        return recording.runs(self.log)

    def state(self):
        """The state file, parsed by xivo-certs' own reader."""
        return state_module.read(self.paths.state)

    def override_yaml(self):
        return yaml.safe_load(self.override.read_bytes())

    def backups(self):
        directory = Path(self.paths.backups)
        return sorted(directory.iterdir()) if directory.is_dir() else []

    def confd_dirs(self):
        return [self / d for d in self.confd if (self / d).is_dir()]

    def links(self):
        """{conf.d directory (relative to the root): link target, "<not a link>" or None}"""
        result = {}
        for directory in self.confd:
            link = self / directory / LINK_NAME
            result[directory.lstrip("/")] = os.readlink(link) if os.path.islink(link) else (
                "<not a link>" if os.path.lexists(link) else None)
        return result


def make_root(path, hooks=True, record=True, confd=CONFD_DIRS, log=None):
    """A root at `path`: /etc/group, `confd` directories, the shipped hooks (`hooks`) and the
    recording hook (`record`, into `log`)."""
    root = Root(path, log, confd)
    root.path.mkdir(parents=True, exist_ok=True)
    os.chmod(root.path, 0o755)
    (root / "etc").mkdir(exist_ok=True)
    (root / "etc/group").write_text("root:x:0:\nwww-data:x:33:\n")
    for directory in confd:
        (root / directory).mkdir(parents=True, exist_ok=True)
    if hooks:
        root.hooks.mkdir(parents=True, exist_ok=True)
        os.chmod(root.hooks, 0o755)
        ship_hooks(root.hooks)
        if record:
            recording.install(root.hooks, root.log)
    return root


def ship_hooks(directory):
    """The shipped hooks, as the package installs them; but the `xivo-certs` they run is the
    checkout's (support.command.LAUNCHER): hooks get a fixed PATH, where only an installed one is."""
    for hook in SHIPPED_HOOKS.iterdir():
        text = hook.read_bytes().replace(b"exec xivo-certs ", f"exec {command.LAUNCHER} ".encode())
        (directory / hook.name).write_bytes(text)
        os.chmod(directory / hook.name, 0o755 if os.access(hook, os.X_OK) else 0o644)
