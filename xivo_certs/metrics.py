"""The Prometheus node-exporter textfile (xivo_certs.prom): the certificate's end of validity and
the number of problems `status` reports. Written only where the textfile directory exists, by
`renew` (daily) and after every change."""

import datetime
import os

from . import files
from .errors import Problem

TEXTFILE_DIR = "/var/lib/prometheus/node-exporter"
FILE_NAME = "xivo_certs.prom"
FILE_MODE = 0o644  # the exporter reads it


def path(paths):
    return os.path.join(paths.under(TEXTFILE_DIR), FILE_NAME)


def refresh(ctx, notes):
    """Rewrite the textfile (atomically) from the status; a failure is a warning."""
    target = path(ctx.paths)
    if not os.path.isdir(os.path.dirname(target)) or os.geteuid() != ctx.owner.uid:
        return
    from .status import report  # lazy: status imports this module's users
    try:
        text = render(report(ctx))
        with files.locked(ctx.paths, ctx.owner):
            files.atomic_write(target, text.encode(), FILE_MODE, ctx.owner.private)
    except (OSError, Problem) as error:
        where = getattr(error, "filename", None) or target
        notes.warn(f"warning: {where}: metrics not written: {getattr(error, 'strerror', None) or error}")


def render(result):
    """The textfile of a status report (status.report)."""
    lines = []
    if "not_after" in result:
        end = datetime.datetime.fromisoformat(result["not_after"]).timestamp()
        lines += ["# HELP xivo_certs_not_after_timestamp_seconds End of validity of the XiVO HTTPS "
                  "certificate (server.crt), unix time.",
                  "# TYPE xivo_certs_not_after_timestamp_seconds gauge",
                  f"xivo_certs_not_after_timestamp_seconds {int(end)}"]
    lines += ["# HELP xivo_certs_problems Problems `xivo-certs status` reports (0: none).",
              "# TYPE xivo_certs_problems gauge",
              f"xivo_certs_problems {len(result['problems'])}"]
    return "\n".join(lines) + "\n"
