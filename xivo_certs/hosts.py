"""The override's host must reach the XiVO daemons, which listen on 127.0.0.1 (Debian maps the
machine's FQDN to 127.0.1.1, where nothing listens): a managed block in /etc/hosts, and in XiVO's
custom hosts template when XiVO's template system is installed (xivo-update-config regenerates
/etc/hosts from it). Only the lines between the block's markers are ever changed.

Under another --root than /, names are resolved from that root's /etc/hosts alone (the machine's
resolver knows nothing of a test tree); on / by the system's resolver (getaddrinfo), as the
daemons do."""

import errno
import ipaddress
import os
import socket

from . import files
from .errors import Problem

LOOPBACK = "127.0.0.1"
BEGIN = b"# BEGIN xivo-certs: the certificate's name, for the XiVO daemons (they listen on 127.0.0.1)"
END = b"# END xivo-certs"
HOSTS_LIMIT = 64 << 20  # an ad-blocking /etc/hosts runs to several MiB


# --- resolution -----------------------------------------------------------------------------------

def resolves_to_loopback(paths, host):
    """Whether a client connecting to `host` reaches 127.0.0.1: its first IPv4 address is
    127.0.0.1 and none of its addresses leaves the machine."""
    found = _resolver_addresses(host) if paths.root == "/" else file_addresses(_read(paths.hosts), host)
    ipv4 = [a for a in found if "." in a]
    return bool(ipv4) and ipv4[0] == LOOPBACK and all(
        ipaddress.ip_address(a.split("%")[0]).is_loopback for a in found)


def _resolver_addresses(host):
    try:
        return [info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]
    except (socket.gaierror, UnicodeError):
        return []


def file_addresses(text, host):
    """The addresses of `host` in a hosts file's text, in the file's order (`multi on`)."""
    host = host.lower().encode()
    return [fields[0].decode("ascii", "replace") for fields in _entries(text)
            if host in (name.lower() for name in fields[1:])]


def _entries(text):
    for line in text.splitlines():
        fields = line.split(b"#")[0].split()
        if len(fields) > 1:
            yield fields


def own_fqdn(paths):
    """The machine's fully qualified name (as `hostname -f`), or None."""
    name = _hostname_file(paths)
    if not name and paths.root == "/":
        name = socket.gethostname().lower()
    name = name.removesuffix(".")  # a rooted name, `pbx.example.org.`, is the same name
    if not name or "." in name:
        return name or None
    for fields in _entries(_read(paths.hosts)):
        if name.encode() in (alias.lower() for alias in fields[2:]) and b"." in fields[1]:
            return fields[1].decode("ascii", "replace").lower()
    fqdn = socket.getfqdn(name).lower() if paths.root == "/" else name
    return fqdn if "." in fqdn else None


def _hostname_file(paths):
    """The name in /etc/hostname: its first line neither blank nor a comment (hostname(5)), or ""."""
    for line in _read(paths.hostname).splitlines():
        line = line.strip()
        if line and not line.startswith(b"#"):
            return line.decode("ascii", "replace").lower()
    return ""


def _read(path):
    """The bytes of a regular file, to resolve names from; b"" when missing, or when it is not a
    regular file (a FIFO is never waited on) or cannot be read: the block's writer reports it."""
    try:
        return files.read_input(path, HOSTS_LIMIT, missing=b"")
    except Problem:
        return b""


# --- the managed block ------------------------------------------------------------------------------

def with_block(text, host):
    """`text` with the managed block naming `host` first (the resolver answers with the first
    line that names a host), or with no managed block when `host` is None."""
    kept = without_block(text)
    if host is None:
        return kept
    return BEGIN + b"\n" + f"{LOOPBACK}\t{host}\n".encode() + END + b"\n" + kept


def without_block(text):
    """`text` without the managed blocks: only whole blocks, marker to marker, are dropped."""
    lines = text.splitlines(keepends=True)
    kept, start = [], None
    for number, line in enumerate(lines):
        stripped = line.rstrip(b"\r\n")
        if stripped == BEGIN and start is None:
            start = number
        elif stripped == END and start is not None:
            start = None
        elif start is None:
            kept.append(line)
    if start is not None:  # a BEGIN without its END: not a block of ours, kept whole
        kept += lines[start:]
    return b"".join(kept)


def targets(paths):
    """The files that get the block: XiVO's custom template (made from the shipped one) where
    XiVO's template system is installed, and /etc/hosts."""
    found = [paths.hosts]
    if os.path.isfile(paths.xivo_hosts_template):
        found.insert(0, paths.custom_hosts_template)
    return found


def apply(paths, owner, host):
    """Put the block naming `host` in every target, or take it out when `host` is None; the
    problems left (one line per file that could not be written)."""
    problems = []
    for path in targets(paths) if host else [paths.custom_hosts_template, paths.hosts]:
        try:
            _update(paths, owner, path, host)
        except Problem as problem:
            problems.append(f"{problem}; the managed hosts block is not in place")
        except OSError as error:
            problems.append(f"{path}: cannot update: {error.strerror}")
    return problems


def _update(paths, owner, path, host):
    directory, name = os.path.split(path)
    template = path == paths.custom_hosts_template
    if not host and (os.path.islink(path) or not os.path.lexists(path)):
        return  # no block of ours can be there
    with files.opened_dir(paths.root, directory, owner, 0o755 if host else None) as fd:
        current = files.read_at(fd, name, HOSTS_LIMIT, shown=path)
        shipped = _read(paths.xivo_hosts_template) if template else b""
        new = with_block(current if current is not None else shipped, host)
        if template and host is None and new == shipped:
            files.unlink_at(fd, name)  # nothing of the admin's left in it: XiVO's own template serves
        elif new != current:
            _write(fd, name, new, owner)


def _write(dir_fd, name, data, owner):
    try:
        files.write_at(dir_fd, name, data, 0o644, owner.private)
    except OSError as error:
        if error.errno != errno.EBUSY:
            raise
        files.overwrite_at(dir_fd, name, data)  # mounted over (containers): no rename replaces it
