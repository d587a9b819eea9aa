"""What root's children get: system tools by absolute path and a fixed PATH, never the caller's.

An empty or relative PATH entry (or a user's directory in it, kept by `sudo -E`) would otherwise
make root run a user's `openssl` or `run-parts`, and the hooks the user's commands."""

import os
import shutil

from .errors import Problem

# usrmerge: Debian 12 ships run-parts in /bin, Debian 13 in /usr/bin; either may be the only one
# on an unmerged system.
SYSTEM_PATH = "/usr/sbin:/usr/bin:/sbin:/bin"
# Variables that make an interpreter load code from where they say (a user's, through sudo -E).
CODE_LOADERS = ("BASH_ENV", "ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE",
                "PERL5LIB", "PERL5OPT", "RUBYLIB", "RUBYOPT", "NODE_OPTIONS")


def find(name, package):
    """The absolute path of the system tool `name`; a Problem naming its package when missing."""
    path = shutil.which(name, path=SYSTEM_PATH)
    if path is None:
        raise Problem(f"{name} not found in {SYSTEM_PATH} (package {package})")
    return path


def environment(extra=None):
    """The environment of a child: ours without the code loaders, PATH fixed, plus `extra`."""
    env = {key: value for key, value in os.environ.items() if key not in CODE_LOADERS}
    env["PATH"] = SYSTEM_PATH
    env.update(extra or {})
    return env
