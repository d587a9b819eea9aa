"""The writing commands of the default certificate (ensure, generate, revert, renew) and what every
writing command shares (install.py and override_command.py use it too). Each changes things under
the lock, records the state (settle), and returns what the hooks need; the command line runs them
once the lock is released. What they have to say goes to `notes`."""

import os

from . import expiry, files, names, pair, settings as settings_module, state, transaction
from .context import refuse_early
from .errors import Problem
from .settle import settle


def locked_change(ctx, notes, change, reason, admin_pair_problems_warn=False):
    """Run `change(recorded)` under the lock and settle; a Settled if the hooks must run.

    With `admin_pair_problems_warn` (ensure, run by postinst), a pair that cannot be used once
    `change` is done — necessarily an admin's, which ensure never touches — is a warning."""
    refuse_early(ctx)
    with files.locked(ctx.paths, ctx.owner):
        transaction.recover(ctx.paths)
        recorded = change(state.read(ctx.paths.state))
        try:
            return settle(ctx, recorded, reason)
        except Problem as problem:
            if not admin_pair_problems_warn:
                raise
            notes.warn(f"warning: {problem}; the admin's certificate is left as it is")
            return None


def ensure(ctx, notes, hostname=None, key_type=None, reason="install"):
    hostname = names.normalize(hostname) if hostname else None
    _check_key_type(key_type)
    _settings_or_defaults(ctx, notes)

    def change(recorded):
        recorded = _record_answers(recorded, hostname, key_type)
        try:
            found = pair.read(ctx.paths)
        except Problem:
            if os.path.lexists(ctx.paths.cert):
                return recorded  # an admin's file we cannot read: settle says what is wrong
            _mention_purged_pair(ctx, notes, recorded)
            return _new_default(ctx, notes, recorded, hostname, key_type, None)
        if not pair.is_default(found, recorded):
            _say_left_alone(notes, found, recorded, hostname, reason)
            return _remember_answers(recorded, hostname, key_type)
        unrecorded = not recorded.generated_fingerprint
        # A key type is chosen only since the record: an unrecorded pair's is never a reason alone.
        reasons = pair.regeneration_reasons(found, ctx.settings, hostname, None if unrecorded else key_type)
        if not reasons:
            return pair.adopted_state(found, recorded) if unrecorded else recorded
        if unrecorded:
            where = files.backup(ctx.paths, ctx.owner, [ctx.paths.cert, ctx.paths.key], "unrecorded")
            notes.say(f"backed up the certificate and key in place, never recorded, to {where}")
        return _new_default(ctx, notes, recorded, hostname or pair.hostname_of(found, recorded),
                            key_type or recorded.key_type or found.info.key_type,
                            "; ".join(reasons), key_is_spare=bool(found.key_problem) and not unrecorded)
    return locked_change(ctx, notes, change, reason, admin_pair_problems_warn=True)


def _settings_or_defaults(ctx, notes):
    """ensure is how the package configures, which a typo in the settings must not stop: the
    defaults apply, with a warning (every other command refuses bad settings)."""
    if os.geteuid() != ctx.owner.uid:
        return  # refuse_early refuses first: not root
    try:
        ctx.settings  # noqa: B018 -- loading them is the check
    except Problem as problem:
        notes.warn(f"warning: {problem}; the default settings apply until it is fixed")
        ctx.settings = settings_module.defaults()


def _record_answers(recorded, hostname, key_type):
    """debconf's answers, as applied: debian/config tells from them which side changed since."""
    return recorded._replace(answered_hostname=hostname or recorded.answered_hostname,
                             answered_key_type=key_type or recorded.answered_key_type)


def _mention_purged_pair(ctx, notes, recorded):
    """On the first install after a purge, where the purge put the pair it found (debian/postrm)."""
    if recorded.fingerprint:
        return
    try:
        purged = sorted(n for n in os.listdir(ctx.paths.backups) if n.startswith("purged-"))
    except OSError:
        return
    if purged:
        where = os.path.join(ctx.paths.backups, purged[-1])
        notes.say(f"the certificate and key found at the last purge are in {where}/; "
                  f"`xivo-certs install --cert {where}/server.crt --key {where}/server.key` "
                  "puts them back")


def _say_left_alone(notes, found, recorded, hostname, reason):
    name = found.info.primary_name or found.info.subject_cn
    recorded_name = hostname if recorded.hostname is None else recorded.hostname
    if reason == "reconfigure" or (hostname and hostname != recorded_name):
        notes.say(f"an admin's certificate for {name} is in place and left as it is"
                  + (f"; the name {hostname} applies when the default certificate comes back"
                     " (xivo-certs revert)" if hostname and hostname != name else ""))


def _remember_answers(recorded, hostname, key_type):
    """debconf's answers, kept for the default certificate to come (the config script reads them)."""
    return recorded._replace(hostname=hostname or recorded.hostname,
                             key_type=key_type or recorded.key_type)


def _check_key_type(key_type):
    if key_type and key_type not in settings_module.KEY_TYPES:
        raise Problem(f"key type {key_type!r} is not one of {', '.join(settings_module.KEY_TYPES)}")


def _new_default(ctx, notes, recorded, hostname, key_type, reason, extra_names=None, days=None,
                 key_is_spare=False):
    """Make the default pair; a key that belongs to no certificate in place is backed up first."""
    key_type = key_type or recorded.key_type
    if key_type not in settings_module.KEY_TYPES:  # none recorded, or a legacy one's (rsa:1024)
        key_type = settings_module.DEFAULT_KEY_TYPE
    if os.path.lexists(ctx.paths.key) and (key_is_spare or not os.path.lexists(ctx.paths.cert)):
        where = files.backup(ctx.paths, ctx.owner, [ctx.paths.key], "spare-key")
        notes.say(f"backed up {ctx.paths.key} (it matches no certificate in place) to {where}")
    if reason:
        notes.say(f"making a new default certificate: {reason}")
    return pair.make_default(
        ctx.paths, ctx.owner, notes, recorded, hostname or recorded.hostname or "localhost",
        key_type, recorded.san if extra_names is None else extra_names, days or ctx.settings.days)


def generate(ctx, notes, hostname=None, extra_names=None, key_type=None, days=None, force=False):
    hostname = names.normalize(hostname) if hostname else None
    if extra_names is not None:
        extra_names = tuple(names.normalize(n, "subjectAltName") for n in extra_names)
    _check_key_type(key_type)

    def change(recorded):
        set_aside_admin_pair(ctx, notes, recorded, force, "generate --force")
        return _new_default(ctx, notes, recorded, hostname, key_type, None, extra_names, days)
    return locked_change(ctx, notes, change, "generate")


def set_aside_admin_pair(ctx, notes, recorded, force, command):
    """Back up a pair the package did not generate; refuse unless forced."""
    if not os.path.lexists(ctx.paths.cert):
        return
    try:
        default = pair.is_default(pair.read(ctx.paths), recorded)
    except Problem:
        default = False
    if default:
        return
    if not force:
        raise Problem(f"an admin's certificate is in place; `xivo-certs {command}` replaces it "
                      "(after backing it up)", ctx.paths.cert)
    where = files.backup(ctx.paths, ctx.owner, [ctx.paths.cert, ctx.paths.key], "admin")
    notes.say(f"backed up the admin's certificate and key to {where}")


def revert(ctx, notes):
    def change(recorded):
        try:
            found = pair.read(ctx.paths)
            if pair.is_default(found, recorded) and not found.key_problem:
                notes.say("the default certificate is already in place")
                return recorded
            spare_key = bool(found.key_problem)
        except Problem:
            spare_key = False
        set_aside_admin_pair(ctx, notes, recorded, True, "revert")
        return _new_default(ctx, notes, recorded, None, None, "revert", key_is_spare=spare_key)
    return locked_change(ctx, notes, change, "revert")


def renew(ctx, notes):
    def change(recorded):
        found = pair.read(ctx.paths)
        if not pair.is_default(found, recorded):
            days = found.info.days_left()
            if days <= ctx.settings.renew_days:
                raise Problem(f"an admin's certificate, expiring in {days} days: renew it yourself "
                              "and install it with `xivo-certs install`", ctx.paths.cert)
            return recorded
        reasons = pair.regeneration_reasons(found, ctx.settings)
        if not reasons:
            return recorded
        return _new_default(ctx, notes, recorded, pair.hostname_of(found, recorded),
                            recorded.key_type or found.info.key_type, "; ".join(reasons),
                            key_is_spare=bool(found.key_problem))
    return expiry.after_renew(ctx, notes, lambda: locked_change(ctx, notes, change, "renew"))
