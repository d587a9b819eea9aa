"""What every command ends with: record what is in place, and run the hooks when it changed."""

import time
from typing import NamedTuple

from . import files, hooks, names, pair, state
from .errors import Problem

# XIVO_CERTS_NAMES holds at most this many bytes: the kernel refuses a variable over 128 KiB
# (MAX_ARG_STRLEN), and all of them together over a quarter of the stack limit.
NAMES_LIMIT = 32768


class Settled(NamedTuple):
    """A change the hooks must hear of: their environment, and the claim on `hooks-due` that
    keeps them owed until they ran (see hooks.claim)."""
    environment: dict
    claim: int


def settle(ctx, recorded, reason):
    """Fix hand-copied modes, record what is in place; a Settled when the hooks must run, else None."""
    files.normalize_modes(ctx.paths, ctx.owner)
    # The metadata is taken before the contents are read: a file replaced meanwhile then differs
    # from the record, and the next sync reads it (taken after, it would hide the new file).
    stamps = state.current_stamps(ctx.paths, ctx.settings.confd_globs)
    try:
        found = pair.read(ctx.paths)
        if found.key_problem:
            raise Problem(found.key_problem)
    except Problem:
        # The files' metadata is recorded (the next syncs stay no-ops until they change), not the
        # conf.d directories (new ones still get the hooks once the pair is fixed).
        file_stamps = {key: value for key, value in stamps.items() if key != "confd_dir"}
        state.write(ctx.paths, ctx.owner, recorded._replace(**file_stamps))
        raise
    previous = recorded.fingerprint or "", recorded.pem_sha256 or ""
    # A watched override path that moved is news for the hooks once: the watch is dropped here,
    # and the override hook records it again (without that hook, later syncs stay no-ops).
    watch_moved = not state.watch_unchanged(recorded)
    new = recorded._replace(fingerprint=found.info.fingerprint, pem_sha256=found.pem_sha256, **stamps,
                            override_watch=() if watch_moved else recorded.override_watch)
    if previous[0] and _served_changed(previous, new):
        new = new._replace(changed_at=str(int(time.time())))
    owed = hooks.owed(ctx.paths)
    if owed is None and not watch_moved and not _news_for_the_hooks(previous, recorded, new):
        state.write(ctx.paths, ctx.owner, new)
        return None
    previous = owed if owed is not None else previous
    # claimed before the state is written: a crash from here on leaves the hooks owed, not forgotten
    claim = hooks.claim(ctx.paths, ctx.owner, new.fingerprint, previous)
    state.write(ctx.paths, ctx.owner, new)
    return Settled(hook_environment(ctx, found, pair.is_default(found, new), previous, reason), claim)


def _served_changed(previous, new):
    """Whether `new` serves another certificate, or another chain (as 90-restart-services says),
    than `previous` (fingerprint, sha256 of server.crt; "" when none was recorded)."""
    fingerprint, pem_sha256 = previous
    return new.fingerprint != fingerprint or bool(pem_sha256) and new.pem_sha256 != pem_sha256


def _news_for_the_hooks(previous, recorded, new):
    """Whether the hooks must hear of `new`: another certificate or chain, new conf.d directories,
    or other settings."""
    return (_served_changed(previous, new)
            or not set(new.confd_dir) <= set(recorded.confd_dir)
            or new.settings_stat != (recorded.settings_stat or ""))


def hook_environment(ctx, found, default, previous, reason):
    """What the hooks get; `previous`: (fingerprint, sha256 of server.crt) the hooks last ran for."""
    info = found.info
    yes_no = {True: "yes", False: "no"}
    return {
        "XIVO_CERTS_ROOT": ctx.paths.root, "XIVO_CERTS_CERT": ctx.paths.cert,
        "XIVO_CERTS_KEY": ctx.paths.key, "XIVO_CERTS_HOSTNAME": info.primary_name or "",
        "XIVO_CERTS_NAMES": names_for_hooks(info.names), "XIVO_CERTS_SELF_SIGNED": yes_no[info.self_signed],
        "XIVO_CERTS_DEFAULT": yes_no[default], "XIVO_CERTS_FINGERPRINT": info.fingerprint,
        "XIVO_CERTS_PREVIOUS_FINGERPRINT": previous[0],
        "XIVO_CERTS_PEM_SHA256": found.pem_sha256, "XIVO_CERTS_PREVIOUS_PEM_SHA256": previous[1],
        "XIVO_CERTS_NOT_AFTER": info.not_after.isoformat(), "XIVO_CERTS_REASON": reason,
        "XIVO_CERTS_RESTART_SERVICES": yes_no[ctx.settings.restart_services],
    }


def names_for_hooks(certificate_names):
    """The certificate's DNS names a hook can take, space separated: host names and wildcards of
    host names only (a hand-copied certificate may hold anything, NUL and spaces included), no
    more than NAMES_LIMIT bytes in all (the later names are left out)."""
    kept: list[str] = []
    size = 0
    for name in certificate_names:
        if not names.is_host_name(name[2:] if name.startswith("*.") else name):
            continue
        size += len(name) + bool(kept)
        if size > NAMES_LIMIT:
            break
        kept.append(name)
    return " ".join(kept)


def run_hooks(ctx, settled, notes, nonfatal=False, quiet=False):
    """Exit status after running the hooks (none to run is success); `quiet` drops their stdout."""
    if settled is None:
        return 0
    try:
        failures, said = hooks.run(ctx.paths, ctx.owner, settled.environment,
                                   ctx.settings.hook_timeout, quiet)
    except Problem as problem:  # untrusted hooks, no run-parts, no process: they stay owed
        if not nonfatal:
            raise
        notes.warn(f"warning: {problem}")
        return 0
    notes.err.extend(said)  # run-parts' own lines, as they are
    hooks.done(ctx.paths, ctx.owner, settled.claim, settled.environment["XIVO_CERTS_FINGERPRINT"])
    for failure in failures:
        notes.warn(f"{'warning: ' if nonfatal else ''}hook {failure} failed")
    return 1 if failures and not nonfatal else 0
