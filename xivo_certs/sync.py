"""`xivo-certs sync`, run after every apt run: when nothing changed, decided from file metadata
alone, without reading (or importing what reads) a certificate."""

import os

from . import files, state, transaction
from .context import refuse_early


def sync(ctx):
    """None when nothing changed, else what settle found (see settle.settle)."""
    refuse_early(ctx)
    with files.locked(ctx.paths, ctx.owner):
        pending = transaction.recover(ctx.paths)
        recorded = state.read(ctx.paths.state)
        if not pending and unchanged(ctx, recorded):
            return None
        from .settle import settle  # lazy: the no-op sync loads neither cryptography nor yaml
        return settle(ctx, recorded, "sync")


def unchanged(ctx, recorded):
    """Whether the recorded state still describes the files: metadata only, no hooks owed."""
    if not recorded.fingerprint or os.path.exists(ctx.paths.hooks_due):
        return False
    return (recorded.recorded_stamps() == state.current_stamps(ctx.paths, ctx.settings.confd_globs)
            and state.watch_unchanged(recorded))
