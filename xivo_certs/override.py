"""The hostname override: the YAML every daemon reads from conf.d, its links, the CA file and the
hosts block that makes its host reach the daemons.

Foreign files (an admin's own override or link) never stall the rest: each is reported by name
and everything else is written. Writes go through directory descriptors (files.opened_dir): a
conf.d or /etc/xivo/custom that is a link, or inside a directory others can write to, is refused
and reported, never written through."""

import os
from typing import NamedTuple

from . import files, hosts, names, paths as default_paths, trust, x509
from .errors import Problem

HEADER = ("# Managed by xivo-certs: written to match /usr/share/xivo-certs/server.crt.\n"
          "# Do not edit: change the certificate instead (xivo-certs install, dpkg-reconfigure\n"
          "# xivo-certs). To manage this file yourself, delete these lines first.\n")
MANAGED_MARK = HEADER.splitlines()[0][:24].encode()
# Names looked up for one that resolves to 127.0.0.1: each lookup may wait on DNS, and the hook
# that chooses runs with apt (a certificate may hold thousands of names).
RESOLVED_AT_MOST = 10
OVERRIDE_NAME = os.path.basename(default_paths.OVERRIDE)
ADOPT = "run `xivo-certs override --adopt` to take it over"


class Plan(NamedTuple):
    """What the override should be for the certificate in place."""
    needed: bool
    host: str | None = None
    verify: object = None  # True (system trust), the CA file's path, or None (unknown)
    ca_pem: bytes | None = None
    text: bytes | None = None
    problems: tuple = ()


def plan(paths, settings, certs):
    """The plan for the chain `certs` (leaf first), in place at paths.cert."""
    info = x509.describe(certs[0])
    if info.covers("localhost"):
        return Plan(needed=False)
    host, problems = choose_host(paths, settings, info)
    if host is None:
        return Plan(needed=True, problems=problems + (
            f"{paths.cert}: no DNS host name the daemons can connect to (only wildcards or addresses)",))
    if trust.system_trusts(paths.cert, paths.system_ca_bundle):
        return Plan(True, host, True, None, render(settings, host, True), problems)
    ca_pem = x509.anchor_pem(certs)
    if ca_pem is not None:  # the services trust the chain's own root, put in the CA file
        return Plan(True, host, default_paths.CA, ca_pem, render(settings, host, default_paths.CA),
                    problems)
    return Plan(True, host, None, None, render(settings, host, None), problems + (
        f"{paths.cert}: the chain does not reach a CA the system trusts, nor a root certificate "
        "(give the root with `xivo-certs install --chain`)",))


def choose_host(paths, settings, info):
    """The certificate's name the daemons connect to, and the problems of that choice: the setting
    override_host, else the machine's FQDN when the certificate covers it, else the first name
    that resolves to 127.0.0.1 (of the first RESOLVED_AT_MOST), else the first name; never a
    wildcard (`*.example.org, example.org` must not send the daemons to the company's website)."""
    problems: tuple = ()
    if settings.override_host:
        if info.covers(settings.override_host):
            return settings.override_host, problems
        problems = (f"override_host {settings.override_host} is not a name of the certificate "
                    f"{paths.cert}: chosen among its names instead",)
    fqdn = hosts.own_fqdn(paths)
    if fqdn and names.is_host_name(fqdn) and info.covers(fqdn):
        return fqdn, problems
    candidates = [name for name in info.names if not name.startswith("*") and names.is_host_name(name)]
    if not info.has_san and info.primary_name:
        candidates.append(info.primary_name)
    for name in candidates[:RESOLVED_AT_MOST]:
        if hosts.resolves_to_loopback(paths, name):
            return name, problems
    return (candidates[0] if candidates else None), problems


def render(settings, host, verify):
    import yaml  # type: ignore[import]  # lazy: only the override's YAML needs it, not generate or install

    sections = {}
    for service, verify_key in settings.services:
        sections[service] = {"host": host}
        if verify is not None:
            sections[service][verify_key] = verify
    return (HEADER + yaml.safe_dump(sections, default_flow_style=False, sort_keys=False)).encode()


# --- what is on disk ---------------------------------------------------------------------------

class Survey(NamedTuple):
    override: str  # absent, managed, foreign or refused
    links: list  # (link path, state): missing, managed, foreign or refused
    refused: list  # a line for each directory refused (a link, or others can write above it),
    # and for each foreign entry --adopt could not take over


def survey(paths, settings, owner):
    refused: list = []
    state = _in_dir(paths, owner, os.path.dirname(paths.override), file_state, "absent", refused)
    links = [(paths.link_in(directory),
              _in_dir(paths, owner, directory, lambda fd, d=directory: link_state(paths, fd, d),
                      "missing", refused))
             for directory in paths.confd_dirs(settings.confd_globs)]
    return Survey(state, links, refused)


def _in_dir(paths, owner, directory, look, missing, refused):
    """`look(fd)` of `directory`; `missing` when it does not exist, "refused" (said in `refused`)."""
    try:
        with files.opened_dir(paths.root, directory, owner) as fd:
            return look(fd)
    except FileNotFoundError:
        return missing
    except PermissionError:  # status run by a user other than root
        refused.append(f"{directory}: cannot be read by this user")
        return "refused"
    except Problem as problem:
        refused.append(str(problem))
        return "refused"


def file_state(dir_fd):
    """absent, managed (a regular file starting with our header) or foreign."""
    try:
        data = files.read_at(dir_fd, OVERRIDE_NAME)
    except Problem:
        return "foreign"
    if data is None:
        return "absent"
    return "managed" if data.startswith(MANAGED_MARK) else "foreign"


def link_state(paths, dir_fd, directory):
    """missing, managed (a symbolic link to the override, absolute or relative as `ln -sr` makes
    it) or foreign; one system call."""
    try:
        target = os.readlink(default_paths.LINK_NAME, dir_fd=dir_fd)
    except FileNotFoundError:
        return "missing"
    except OSError:  # EINVAL: there, but not a symbolic link
        return "foreign"
    resolved = os.path.normpath(os.path.join(paths.inside(directory), target))
    return "managed" if resolved == default_paths.OVERRIDE else "foreign"


def _foreign_paths(paths, found):
    return ([paths.override] if found.override == "foreign" else []) + [
        link for link, state in found.links if state == "foreign"]


def inspect(paths, settings, owner, wanted):
    """The override's part of `status`: its state, its links' states, and the problems found."""
    result = {"needed": wanted.needed, "managed": settings.manage_override, "path": paths.override,
              "host": wanted.host, "verify": wanted.verify, "state": None, "links": []}
    if not settings.manage_override:
        return result, []
    found = survey(paths, settings, owner)
    result.update(state=found.override, links=[{"path": p, "state": s} for p, s in found.links])
    problems = list(wanted.problems) + found.refused
    problems += [f"{paths.override}: not written by xivo-certs; {ADOPT}"] * (found.override == "foreign")
    problems += [f"{link}: not a link to {default_paths.OVERRIDE}; {ADOPT}"
                 for link, state in found.links if state == "foreign"]
    if wanted.needed:
        problems += _needed_problems(paths, settings, wanted, found)
    else:
        problems += [f"{paths.override}: present but the certificate covers localhost "
                     "(run `xivo-certs override`)"] * (found.override == "managed")
        problems += [f"{link}: override link left while no override is needed (run `xivo-certs override`)"
                     for link, state in found.links if state == "managed"]
    return result, problems


def _needed_problems(paths, settings, wanted, found):
    problems = []
    if found.override == "absent":
        problems.append(f"{paths.override}: missing; the certificate does not cover localhost "
                        "(run `xivo-certs override`)")
    elif found.override == "managed" and wanted.text and _content(paths.override) != wanted.text:
        problems.append(f"{paths.override}: out of date (run `xivo-certs override`)")
    problems += [f"{link}: missing link to {default_paths.OVERRIDE}"
                 for link, state in found.links if state == "missing"]
    if wanted.ca_pem and found.override == "managed" and _content(paths.ca) != wanted.ca_pem:
        problems.append(f"{paths.ca}: missing or not the chain's root, which the override has the "
                        "daemons verify with (run `xivo-certs override`)")
    if wanted.host and not hosts.resolves_to_loopback(paths, wanted.host):
        problems.append(f"{wanted.host} does not resolve to 127.0.0.1, where the XiVO daemons listen"
                        + (" (run `xivo-certs override`)" if settings.manage_hosts else
                           " (add it to your hosts files, or set manage_hosts = yes)"))
    return problems


# --- bringing the disk in line --------------------------------------------------------------------

def apply(paths, settings, owner, wanted, notes, adopt=False):
    """Write or remove the override, its links, the CA file and the hosts block; the problems
    left: each foreign file and refused directory by name, everything else written all the same."""
    found = survey(paths, settings, owner)
    if adopt:
        found = _adopt(paths, owner, found, notes)
    problems = list(wanted.problems) + found.refused + [
        f"{path}: not written by xivo-certs, left as it is; {ADOPT}" for path in _foreign_paths(paths, found)]
    host = wanted.host if wanted.needed and wanted.text else None
    directory = os.path.dirname(paths.override)
    if host and found.override in ("absent", "managed"):
        failed = _attempt(paths, owner, directory, 0o755, _write_file, wanted.text, owner.private)
        problems += failed
        placed = not failed
    else:
        if found.override == "managed":
            problems += _attempt(paths, owner, directory, None, files.unlink_at, OVERRIDE_NAME)
        placed = False
    for link, state in found.links:
        if placed and state == "missing":
            problems += _attempt(paths, owner, os.path.dirname(link), None, _make_link)
        elif not host and state == "managed":
            problems += _attempt(paths, owner, os.path.dirname(link), None, files.unlink_at,
                                 default_paths.LINK_NAME)
    _apply_ca(paths, owner, wanted.ca_pem if host else None)
    return problems + hosts.apply(paths, owner, host if settings.manage_hosts else None)


def _attempt(paths, owner, directory, make_mode, change, *args):
    """`change(fd, *args)` in `directory`; [] when done, else the line that says why not."""
    try:
        with files.opened_dir(paths.root, directory, owner, make_mode) as fd:
            change(fd, *args)
    except Problem as problem:
        return [str(problem)]
    except OSError as error:
        return [f"{error.filename or directory}: {error.strerror}"]
    return []


def _write_file(dir_fd, text, ids):
    if files.read_at(dir_fd, OVERRIDE_NAME) != text:
        files.write_at(dir_fd, OVERRIDE_NAME, text, 0o644, ids)


def _make_link(dir_fd):
    os.symlink(default_paths.OVERRIDE, default_paths.LINK_NAME, dir_fd=dir_fd)  # whole or not at all


def _adopt(paths, owner, found, notes):
    """Back up each foreign file or link, then remove it, one at a time; the survey with those
    gone, and what cannot be adopted (a directory, a FIFO...) left, refused by name."""
    foreign = _foreign_paths(paths, found)
    adoptable = [path for path in foreign if os.path.islink(path) or os.path.isfile(path)]
    if adoptable:
        target = files.backup_dir(paths, owner, "override")
        for path in adoptable:
            files.back_up(paths, owner, path, target)
            files.remove(path)  # each checked above: its directory was reached without a link
            notes.say(f"backed up {path} to {target}")
    left = [path for path in foreign if path not in adoptable]
    return found._replace(
        override=_adopted(found.override, paths.override in left, "absent"),
        links=[(link, _adopted(state, link in left, "missing")) for link, state in found.links],
        refused=found.refused + [f"{path}: not a regular file or a symbolic link: cannot be adopted, "
                                 "left as it is" for path in left])


def _adopted(state, left, gone):
    """A foreign entry's state once adopted: `gone`, or refused when it was `left`."""
    if state != "foreign":
        return state
    return "refused" if left else gone


def _apply_ca(paths, owner, ca_pem):
    files.remove(paths.ca + files.NEW_SUFFIX)  # a crash left it between its write and its rename
    if ca_pem is None:
        files.remove(paths.ca)
    elif _content(paths.ca) != ca_pem:
        files.atomic_write(paths.ca, ca_pem, files.CERT_MODE, owner.shared)


def _content(path):
    try:
        return files.read_input(path, follow=False)
    except Problem:
        return None


def watch(paths, settings):
    """`STAMP PATH` of the override, the CA file and each link the override should have (STAMP
    `-`: absent), for the state: `sync` runs the hooks again when one of them changes (deleted,
    or a foreign file removed)."""
    watched = [paths.override, paths.ca] + [paths.link_in(d) for d in paths.confd_dirs(settings.confd_globs)]
    return tuple(f"{files.stat_stamp(path) or '-'} {path}" for path in watched)


def advice(paths, settings, host):
    """What the admin must still do by hand once the override names `host`."""
    lines = []
    if not settings.manage_hosts and not hosts.resolves_to_loopback(paths, host):
        lines.append(f"{host} does not resolve to 127.0.0.1, where the XiVO daemons listen: add "
                     f"`127.0.0.1 {host}` first in /etc/hosts and in "
                     "/etc/xivo/custom-templates/system/etc/hosts (XiVO regenerates /etc/hosts from "
                     "templates), or set manage_hosts = yes")
    lines.append("directory definitions in the web interface (Configuration > Directories) still "
                 f"name localhost: change them to {host}")
    return lines
