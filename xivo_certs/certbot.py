"""Let's Encrypt: `xivo-certs certbot enable NAME` makes every certificate certbot obtains or
renews for the lineage NAME go through `install`; `disable` stops it. certbot runs the package's
hook in renewal-hooks/deploy/ on renewals only, so `enable` also gives certbot a deploy-hook in
its cli.ini, which it runs for certonly too. A failed install is recorded for `status` until an
install of that lineage succeeds."""

import os
import re
import time

from . import files, install, pair, state, x509
from .cli import one_line
from .context import refuse_early
from .errors import Problem

LINEAGE_ENV = "RENEWED_LINEAGE"  # what certbot gives its deploy hooks: /etc/letsencrypt/live/NAME
LIVE = "/etc/letsencrypt/live"
CLI_INI = "/etc/letsencrypt/cli.ini"
# A command that is still there, and does nothing, once the package is gone: certbot copies it
# into each lineage's renewal file, and refuses to renew when a hook's program is missing.
HOOK_LINE = "deploy-hook = test ! -x /usr/sbin/xivo-certs || /usr/sbin/xivo-certs certbot deploy"
MARK = "# Added by `xivo-certs certbot enable`; `xivo-certs certbot disable` removes these two lines."
OURS = f"{MARK}\n{HOOK_LINE}\n".encode()
OUR_LINES = (MARK.encode(), HOOK_LINE.encode())
HOOK_KEYS = ("deploy-hook", "renew-hook")  # renew-hook: certbot's former name of deploy-hook
# The key of a cli.ini line as certbot's ConfigArgParse reads it: up to `=`, `:` or whitespace.
CONFIG_KEY = re.compile(r"[^:=;#\s]+")
FAILURE_FILE = "certbot-failure"
NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def command(ctx, notes, action, name=None, lineage=None):
    """`xivo-certs certbot enable NAME | disable | deploy [--lineage DIR]`; a settle.Settled when
    the hooks must run, else None."""
    if action == "deploy":
        return deploy(ctx, notes, lineage)
    refuse_early(ctx)
    if action == "enable":
        return enable(ctx, notes, name)
    disable(ctx, notes)
    return None


def enable(ctx, notes, name):
    if not name or name.startswith(".") or not set(name) <= NAME_CHARS:
        raise Problem(f"certbot enable: {name!r} is not a certbot certificate name (the NAME of "
                      f"{LIVE}/NAME: letters, digits, '.', '-', '_')")
    data = _cli_ini(ctx)
    if any(_is_hook_key(line) for line in _lines(data) if not _is_ours(line)):
        raise Problem("has a deploy-hook of its own; certbot takes one only: make it run "
                      "`xivo-certs certbot deploy` too", ctx.paths.under(CLI_INI))
    _write_cli_ini(ctx, data, data if _has_our_hook(data) else _with_ours(data))
    _record_lineage(ctx, name)
    notes.say(f"certbot's certificates for {name} will be installed (`certbot certonly "
              f"--cert-name {name} ...` and every renewal)")
    live = ctx.paths.under(os.path.join(LIVE, name))
    return deploy(ctx, notes, live) if os.path.isdir(live) else None


def disable(ctx, notes):
    data = _cli_ini(ctx)
    _write_cli_ini(ctx, data, _without_ours(data))
    _record_lineage(ctx, None)
    files.remove(failure_path(ctx.paths))
    notes.say("certbot's certificates will no longer be installed")


def _cli_ini(ctx):
    """certbot's bytes of cli.ini (b"" when there is none), edited as bytes: its encoding and its
    line ends are certbot's business, and come back as they were."""
    path = ctx.paths.under(CLI_INI)
    if not os.path.exists(path):
        return b""
    return files.read_input(path)


def _lines(data):
    """The lines of cli.ini, their ends kept, split where certbot (reading it as text) splits
    them: at LF, CRLF or CR."""
    return data.splitlines(keepends=True)


def _is_ours(line):
    return line.rstrip(b"\r\n") in OUR_LINES


def _has_our_hook(data):
    return any(line.rstrip(b"\r\n") == OUR_LINES[1] for line in _lines(data))


def _is_hook_key(line):
    """Whether the cli.ini `line` sets certbot's deploy hook: its key read as ConfigArgParse does
    (a key it does not know, dashes stripped, is given to certbot as an option)."""
    text = line.decode("utf-8", "replace").strip()
    if not text or text[0] in "#;[" or text.startswith("---"):
        return False
    key = CONFIG_KEY.match(text)
    return key is not None and key.group().strip("-") in HOOK_KEYS


def _with_ours(data):
    """cli.ini's `data` with our lines: after its last line when that one ends, else before its
    first, so that taking our lines out gives back its bytes."""
    data = _without_ours(data)
    return data + OURS if not data or data.endswith(b"\n") else OURS + data


def _without_ours(data):
    return b"".join(line for line in _lines(data) if not _is_ours(line))


def _write_cli_ini(ctx, data, new):
    """Replace cli.ini, whose bytes are `data`, by `new`, unless they are the same (certbot's
    package ships it as a conffile: its bytes are left alone when nothing changes). An empty one
    is removed: enable created it, and an empty conffile would stop certbot's install at dpkg's
    prompt (certbot reads no file as an empty one)."""
    if new == data:
        return
    path = ctx.paths.under(CLI_INI)
    if os.path.islink(path):
        raise Problem("is a symbolic link; xivo-certs edits a regular file only (edit its target by "
                      "hand: see xivo-certs(8))", path)
    if not new:
        files.remove(path)
        files.fsync_dir(os.path.dirname(path))
        return
    files.make_dirs(os.path.dirname(path), 0o755)
    files.atomic_write(path, new, 0o644, ctx.owner.private)


def _record_lineage(ctx, name):
    with files.locked(ctx.paths, ctx.owner):
        recorded = state.read(ctx.paths.state)
        state.write(ctx.paths, ctx.owner, recorded._replace(letsencrypt_lineage=name))


def deploy(ctx, notes, lineage=None):
    """Install the lineage (certbot's live/NAME directory; default $RENEWED_LINEAGE) when NAME is
    the enabled one and its certificate is not in place yet."""
    lineage = lineage or os.environ.get(LINEAGE_ENV, "")
    if not lineage:
        raise Problem(f"certbot deploy: no lineage (certbot gives it as {LINEAGE_ENV}; by hand, "
                      f"give --lineage {LIVE}/NAME)")
    if not is_ours(ctx.paths, lineage):
        return None
    fullchain, privkey = (os.path.join(lineage, name) for name in ("fullchain.pem", "privkey.pem"))
    try:
        if _in_place(ctx.paths, fullchain):
            return None
        settled = install.install(ctx, notes, fullchain, privkey)
    except (Problem, OSError) as error:
        _record_failure(ctx, lineage, one_line(error))
        raise
    files.remove(failure_path(ctx.paths))
    return settled


def is_ours(paths, lineage):
    """Whether `lineage` (a live/NAME directory) is the one `certbot enable` named."""
    wanted = state.read(paths.state).letsencrypt_lineage
    return bool(wanted) and name_of(lineage) == wanted


def name_of(lineage):
    """The certificate name of a lineage: the NAME of live/NAME."""
    return os.path.basename(os.path.normpath(lineage))


def _in_place(paths, fullchain):
    """Whether the lineage's certificate is the one in place (certbot runs the hook of the
    directory and the one of cli.ini for each renewal)."""
    leaf = x509.parse_certificates(files.read_input(fullchain), fullchain)[0]
    try:
        return pair.read(paths).info.fingerprint == x509.describe(leaf).fingerprint
    except Problem:
        return False


def failure_path(paths):
    return os.path.join(paths.state_dir, FAILURE_FILE)


def _record_failure(ctx, lineage, error):
    record = f"lineage={lineage}\nfailed_at={int(time.time())}\nerror={error}\n"
    files.ensure_private_dir(ctx.paths.state_dir, ctx.owner)
    files.atomic_write(failure_path(ctx.paths), record.encode(), 0o600, ctx.owner.private)


def status_problems(ctx, recorded):
    """What `status` reports about certbot: the enabled lineage's last failed install (none once
    one succeeded), and a cli.ini that lost its deploy-hook (an upgrade of certbot may replace it)."""
    name = recorded.letsencrypt_lineage
    if not name:
        return []
    return _hook_line_problems(ctx, name) + _failure_problems(ctx, name)


def _hook_line_problems(ctx, name):
    path = ctx.paths.under(CLI_INI)
    try:
        if _has_our_hook(_cli_ini(ctx)):
            return []
    except Problem:
        pass
    return [f"{path}: certbot's deploy-hook for xivo-certs is gone, so `certbot certonly` no longer "
            f"installs its certificate: run `xivo-certs certbot enable {name}` again"]


def _failure_problems(ctx, name):
    path = failure_path(ctx.paths)
    try:
        with open(path, encoding="utf-8") as stream:
            record = dict(line.partition("=")[::2] for line in stream.read().split("\n"))
    except FileNotFoundError:
        return []
    lineage = record.get("lineage", "")
    if name_of(lineage) != name:
        return []
    stamp = record.get("failed_at", "")
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(int(stamp) if stamp.isdigit() else 0))
    return [f"{path}: certbot's deploy hook could not install {lineage} on {when}: "
            f"{record.get('error', '')}; once fixed, `xivo-certs certbot deploy --lineage "
            f"{lineage}` installs it"]
