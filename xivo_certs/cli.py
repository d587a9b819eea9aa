"""The `xivo-certs` command line. Exit 0 ok, 1 problem found or refused, 2 usage error. The only
module that prints: the commands return what they have to say (context.Notes)."""

import sys
from types import SimpleNamespace

from . import sync
from .context import Context, Notes, process_owner
from .errors import Problem
from .paths import Paths


def main(argv=None, owner=None):
    """Run the command line `argv`; its exit status. `owner`: see context.Owner (tests)."""
    argv = sys.argv[1:] if argv is None else argv
    args = plain_sync(argv) or parse(argv)
    paths = Paths(getattr(args, "root", "/"))
    ctx = Context(paths, owner or process_owner(paths))
    notes = Notes()
    try:
        return run(ctx, args, notes)
    except Problem as problem:
        notes.warn(str(problem))
    except OSError as error:
        where = f"{error.filename}: " if error.filename else ""
        notes.warn(f"{where}{error.strerror or error}")
    finally:
        show(notes)
    return 1


def plain_sync(argv):
    """The arguments of `[--root DIR] sync [--quiet]`, what the apt hook and the path unit run
    after every apt run, else None. Read without argparse: importing it and building the parser
    cost more than the whole no-op sync may take (make bench: at most 2x `python3 -c pass`)."""
    root = "/"
    if argv[:1] == ["--root"] and len(argv) > 1:
        root, argv = argv[1], argv[2:]
    if argv not in (["sync"], ["sync", "--quiet"]):
        return None
    return SimpleNamespace(command="sync", root=root, quiet=len(argv) == 2)


def parse(argv):
    from . import arguments  # lazy: argparse stays off the no-op sync path (see plain_sync)
    return arguments.parser().parse_args(argv)


def show(notes):
    """Print what the command had to say, and forget it."""
    for line in notes.out:
        print(line)
    for line in notes.err:
        print(line, file=sys.stderr)
    sys.stdout.flush()
    notes.out.clear()
    notes.err.clear()


def run(ctx, args, notes):
    # The imports below are lazy: cryptography and yaml stay off the no-op sync path, and each
    # command loads what it uses (status alone needs json, the others the writing commands).
    if args.command == "status":
        from . import status
        text, problems = status.show(ctx, args.json)
        print(text)
        return 1 if problems else 0
    if args.command == "sync":
        settled = sync.sync(ctx)
        if settled is None:
            return 0
    else:
        from . import actions
        if args.command == "override":
            problems = actions.override(ctx, notes, args.adopt)
            for problem in problems:
                notes.warn(problem)
            return 1 if problems else 0
        settled = change(actions, ctx, args, notes)
    from .settle import run_hooks
    show(notes)  # before the hooks, which write to stderr too
    nonfatal = args.command == "ensure" and args.hooks_nonfatal
    quiet = args.command == "sync" and args.quiet
    return run_hooks(ctx, settled, notes, nonfatal, quiet)


def change(actions, ctx, args, notes):
    """Run a writing command; a settle.Settled when the hooks must run."""
    if args.command == "ensure":
        return actions.ensure(ctx, notes, args.hostname, args.key_type, args.reason)
    if args.command == "generate":
        return actions.generate(ctx, notes, args.hostname, args.san, args.key_type, args.days,
                                args.force)
    if args.command == "install":
        return actions.install(ctx, notes, args.cert, args.key, args.chain)
    if args.command == "revert":
        return actions.revert(ctx, notes)
    return actions.renew(ctx, notes)
