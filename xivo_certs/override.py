"""The hostname override: the YAML every daemon reads from conf.d, its links, and the CA file."""

import ipaddress
import os
import socket
from typing import NamedTuple

from . import files, paths as default_paths, trust, x509
from .errors import Problem

HEADER = ("# Managed by xivo-certs: written to match /usr/share/xivo-certs/server.crt.\n"
          "# Do not edit: change the certificate instead (xivo-certs install, dpkg-reconfigure\n"
          "# xivo-certs). To manage this file yourself, delete these lines first.\n")
MANAGED_MARK = HEADER.splitlines()[0][:24].encode()


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
    host = info.primary_name
    if host is None:
        return Plan(needed=True, problems=(
            f"{paths.cert}: no DNS host name the daemons can connect to (only wildcards or addresses)",))
    if trust.system_trusts(paths.cert, paths.system_ca_bundle):
        return Plan(needed=True, host=host, verify=True, text=render(settings, host, True))
    ca_pem = x509.anchor_pem(certs)
    if ca_pem is not None:  # the services trust the chain's own root, put in the CA file
        return Plan(needed=True, host=host, verify=default_paths.CA, ca_pem=ca_pem,
                    text=render(settings, host, default_paths.CA))
    return Plan(needed=True, host=host, text=render(settings, host, None), problems=(
        f"{paths.cert}: the chain does not reach a CA the system trusts, nor a root certificate "
        "(give the root with `xivo-certs install --chain`)",))


def render(settings, host, verify):
    import yaml  # type: ignore[import]  # lazy: only the override's YAML needs it, not generate or install

    sections = {}
    for service, verify_key in settings.services:
        sections[service] = {"host": host}
        if verify is not None:
            sections[service][verify_key] = verify
    return (HEADER + yaml.safe_dump(sections, default_flow_style=False, sort_keys=False)).encode()


# --- what is on disk ---------------------------------------------------------------------------

def file_state(path):
    """absent, managed (a regular file starting with our header) or foreign."""
    if not os.path.lexists(path):
        return "absent"
    if os.path.islink(path) or not os.path.isfile(path):
        return "foreign"
    try:
        head = files.read_input(path, follow=False)[:len(MANAGED_MARK)]
    except Problem:
        return "foreign"
    return "managed" if head == MANAGED_MARK else "foreign"


def link_state(link):
    """missing, managed (a symbolic link to the override) or foreign; one system call."""
    try:
        target = os.readlink(link)
    except FileNotFoundError:
        return "missing"
    except OSError:  # EINVAL: there, but not a symbolic link
        return "foreign"
    return "managed" if target == default_paths.OVERRIDE else "foreign"


def inspect(paths, settings, wanted):
    """The override's part of `status`: its state, its links' states, and the problems found."""
    state = file_state(paths.override)
    links = [{"path": paths.link_in(d), "state": link_state(paths.link_in(d))}
             for d in paths.confd_dirs(settings.confd_globs)]
    problems = list(wanted.problems)
    if wanted.needed:
        problems += _needed_problems(paths, wanted, state, links)
    else:
        problems += _stale_problems(paths, state, links)
    return {"needed": wanted.needed, "path": paths.override, "state": state, "links": links,
            "host": wanted.host, "verify": wanted.verify}, problems


def _needed_problems(paths, wanted, state, links):
    fix = "run `xivo-certs override --adopt` to take it over"
    found = []
    if state == "absent":
        found.append(f"{paths.override}: missing; the certificate does not cover localhost "
                     "(run `xivo-certs override`)")
    elif state == "foreign":
        found.append(f"{paths.override}: not written by xivo-certs; {fix}")
    elif wanted.text and files.read_input(paths.override, follow=False) != wanted.text:
        found.append(f"{paths.override}: out of date (run `xivo-certs override`)")
    for link in links:
        if link["state"] == "missing":
            found.append(f"{link['path']}: missing link to {default_paths.OVERRIDE}")
        elif link["state"] == "foreign":
            found.append(f"{link['path']}: not a link to {default_paths.OVERRIDE}; {fix}")
    if wanted.host and not resolves_here(wanted.host):
        found.append(f"{wanted.host} does not resolve to this machine; the daemons connect to it")
    return found


def _stale_problems(paths, state, links):
    found = []
    if state != "absent":
        found.append(f"{paths.override}: present ({state}) but the certificate covers localhost; "
                     "run `xivo-certs override" + (" --adopt`" if state == "foreign" else "`"))
    found += [f"{link['path']}: override link left while no override is needed"
              for link in links if link["state"] != "missing"]
    return found


# --- bringing the disk in line --------------------------------------------------------------------

def apply(paths, settings, owner, wanted, notes, adopt=False):
    """Write or remove the override, its links and the CA file; the problems left (foreign files)."""
    state = file_state(paths.override)
    links = {paths.link_in(d): link_state(paths.link_in(d)) for d in paths.confd_dirs(settings.confd_globs)}
    foreign = [paths.override] if state == "foreign" else []
    foreign += [link for link, link_is in links.items() if link_is == "foreign"]
    if foreign and not adopt:
        return [f"{path}: not written by xivo-certs, left as it is; "
                "run `xivo-certs override --adopt` to take it over" for path in foreign]
    if foreign:
        notes.say(f"backed up {', '.join(foreign)} to {files.backup(paths, owner, foreign, 'override')}")
        for path in foreign:
            files.remove(path)
        links.update((link, "missing") for link in foreign if link in links)
    # temporary files a crash left between their write and their rename
    for temporary in (paths.ca + files.NEW_SUFFIX, paths.override + files.NEW_SUFFIX):
        files.remove(temporary)
    if wanted.needed and wanted.text:
        _write_override(paths, owner, wanted, links)
    else:
        _remove_override(paths, links)
    return list(wanted.problems)


def _write_override(paths, owner, wanted, links):
    if wanted.ca_pem:
        if _content(paths.ca) != wanted.ca_pem:
            files.atomic_write(paths.ca, wanted.ca_pem, files.CERT_MODE, owner.shared)
    else:
        files.remove(paths.ca)
    os.makedirs(os.path.dirname(paths.override), mode=0o755, exist_ok=True)
    if _content(paths.override) != wanted.text:
        files.atomic_write(paths.override, wanted.text, 0o644, owner.private)
    for link, link_is in links.items():
        if link_is == "missing":
            os.symlink(default_paths.OVERRIDE, link)  # atomic: the link is there whole or not at all


def _remove_override(paths, links):
    for link, link_is in links.items():
        if link_is == "managed":
            files.remove(link)
    if file_state(paths.override) == "managed":
        files.remove(paths.override)
    files.remove(paths.ca)


def _content(path):
    try:
        return files.read_input(path, follow=False)
    except Problem:
        return None


# --- name resolution -------------------------------------------------------------------------

def resolves_here(host):
    """Whether every address `host` resolves to is this machine's own (loopback or bindable)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)}
    except (socket.gaierror, UnicodeError):
        return False
    return bool(addresses) and all(_is_own_address(a) for a in addresses)


def _is_own_address(address):
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.is_loopback:
        return True
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        try:
            probe.bind((address, 0))
        except OSError:
            return False
    return True


def advice(host):
    """What the admin must still do by hand once the override names `host`."""
    lines = []
    if not resolves_here(host):
        lines.append(f"{host} does not resolve to this machine, and the XiVO daemons connect to it: "
                     "add it to your DNS or to /etc/xivo/custom-templates/system/etc/hosts "
                     "(XiVO regenerates /etc/hosts from templates; do not edit /etc/hosts)")
    lines.append("directory definitions in the web interface (Configuration > Directories) still "
                 f"name localhost: change them to {host}")
    return lines
