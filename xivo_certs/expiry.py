"""Expiry alerts, run by the daily `xivo-certs renew`: when the certificate in place comes within
30, 14, 7 or 1 days of its end, the hooks run once for that threshold with
XIVO_CERTS_REASON=expiring (a site hook can mail), and a warning goes to stderr (the journal).
The last alert is recorded in the state directory (`expiry-alert`), so each threshold alerts
once per certificate, not every day."""

import os
import time

from . import files, hooks, metrics, pair, state
from .errors import Problem

THRESHOLDS = (30, 14, 7, 1)  # days before the end of validity; the expired fall in the last
REASON = "expiring"
RECORD_NAME = "expiry-alert"  # "FINGERPRINT DAYS EPOCH": the last alert sent


def threshold(days_left):
    """The smallest alert threshold `days_left` is within, else None."""
    crossed = [days for days in THRESHOLDS if days_left <= days]
    return min(crossed) if crossed else None


def after_renew(ctx, notes, renewal):
    """Run `renewal` (renew's change under the lock: a settle.Settled or None); then, whether it
    succeeded or refused (an admin's certificate inside the renew window), refresh the metrics
    (a change has them refreshed by the command line, after its hooks) and alert for the
    certificate in place."""
    try:
        settled = renewal()
    except (Problem, OSError):
        _follow_up(ctx, notes, refresh_metrics=True)
        raise
    _follow_up(ctx, notes, refresh_metrics=settled is None)
    return settled


def _follow_up(ctx, notes, refresh_metrics):
    if os.geteuid() != ctx.owner.uid:
        return  # refused before anything (not root): nothing to alert with
    if refresh_metrics:
        metrics.refresh(ctx, notes)
    try:
        found = pair.read(ctx.paths)
    except Problem:
        return  # no certificate to alert for: the refusal says why
    days = threshold(found.info.days_left())
    if days is not None and _claim(ctx, found.info.fingerprint, days):
        default = pair.is_default(found, state.read(ctx.paths.state))
        _run_hooks(ctx, notes, found, default, days)


def _claim(ctx, fingerprint, days):
    """Record the alert of `days` for the certificate `fingerprint`; whether it is a new one (a
    smaller threshold than the last alert, or another certificate). Recorded before the hooks
    run, under the lock: two renews at once never both alert."""
    path = record_path(ctx.paths)
    with files.locked(ctx.paths, ctx.owner):
        last = read_record(path)
        if last and last[0] == fingerprint and last[1] <= days:
            return False
        files.atomic_write(path, f"{fingerprint} {days} {int(time.time())}\n".encode(), 0o600,
                           ctx.owner.private)
    return True


def _run_hooks(ctx, notes, found, default, days):
    from .settle import hook_environment  # what the hooks get on a change, with this reason
    environment = hook_environment(ctx, found, default, (found.info.fingerprint, found.pem_sha256),
                                   REASON)
    notes.warn(f"warning: {ctx.paths.cert} expires in {found.info.days_left()} days "
               f"(alert at {days} days): running the hooks with XIVO_CERTS_REASON={REASON}")
    try:
        failures, said = hooks.run(ctx.paths, ctx.owner, environment, ctx.settings.hook_timeout)
    except Problem as problem:  # untrusted hooks, no run-parts
        failures, said = [], [f"xivo-certs: warning: {problem}"]
    notes.err.extend(said)
    for failure in failures:
        notes.warn(f"warning: hook {failure} failed on the expiry alert")


def record_path(paths):
    return os.path.join(paths.state_dir, RECORD_NAME)


def read_record(path):
    """(fingerprint, days, epoch) of the last alert, or None."""
    try:
        with open(path, encoding="ascii") as record:
            words = record.read().split()
    except (OSError, UnicodeDecodeError):  # none, or not ours to read (status as a user)
        return None
    if len(words) != 3 or not words[1].isdigit() or not words[2].isdigit():
        return None
    return words[0], int(words[1]), int(words[2])


def status_notes(paths, found):
    """What `status` says of the last alert sent for the certificate in place."""
    last = read_record(record_path(paths))
    if not last or last[0] != found.info.fingerprint:
        return []
    when = time.strftime("%Y-%m-%d", time.localtime(last[2]))
    smaller = [days for days in THRESHOLDS if days < last[1]]
    following = f"the next at {max(smaller)} days" if smaller else "no other: renew the certificate"
    return [f"expiry alert at {last[1]} days sent on {when} (hooks run with "
            f"XIVO_CERTS_REASON={REASON}); {following}"]
