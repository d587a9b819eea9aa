"""`xivo-certs override` (what the shipped 10-hostname-override hook runs): the override, its
links, ca.crt and the hosts block brought in line with the certificate in place."""

from . import files, override as override_module, pair, state, transaction
from .context import refuse_early


def override(ctx, notes, adopt=False):
    """Bring the override in line with the certificate; the problems left. What it left is
    recorded (override_watch), so that `sync` runs the hooks again once it changes."""
    refuse_early(ctx)
    with files.locked(ctx.paths, ctx.owner):
        transaction.recover(ctx.paths)
        if not ctx.settings.manage_override:
            _record_watch(ctx, ())
            notes.say("manage_override = no: the override, its links, ca.crt and the hosts block "
                      "are left as they are")
            return []
        found = pair.read(ctx.paths)
        wanted = override_module.plan(ctx.paths, ctx.settings, found.certs)
        problems = override_module.apply(ctx.paths, ctx.settings, ctx.owner, wanted, notes, adopt)
        converged = not wanted.needed and not problems  # then there is nothing to keep an eye on
        _record_watch(ctx, () if converged else override_module.watch(ctx.paths, ctx.settings))
    if wanted.needed and wanted.host:
        for line in override_module.advice(ctx.paths, ctx.settings, wanted.host):
            notes.say(line)
    return problems


def _record_watch(ctx, watched):
    recorded = state.read(ctx.paths.state)
    if recorded.override_watch != watched:
        state.write(ctx.paths, ctx.owner, recorded._replace(override_watch=watched))
