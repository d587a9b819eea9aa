"""Expiry alerts of the daily `renew`: the hooks run once per threshold crossed (30, 14, 7, 1 days)
with XIVO_CERTS_REASON=expiring, a line on stderr, exit 1 for an admin's certificate inside the
renew window; `status` notes the last alert; the node-exporter textfile follows the certificate."""

import datetime
import json
import os

import pytest

from support.asserts import owner_mode
from support.certs import DAY, now
from support.facts import fingerprint
from support.layout import PROM
from support.owners import GID, UID

RECORD = "var/lib/xivo-certs/expiry-alert"


def admin_pair(root, ca, days_left):
    """An admin's certificate ending `days_left` days (and half a day) from now, in place."""
    leaf, key = ca.leaf(("localhost",), not_before=now() - 300 * DAY,
                        not_after=now() + days_left * DAY + DAY / 2)
    root.put_pair(leaf, key)
    return leaf


def expiring_runs(root):
    return [run for run in root.hook_runs() if run["XIVO_CERTS_REASON"] == "expiring"]


def alert_line(root, days_left, days):
    return (f"xivo-certs: warning: {root.cert} expires in {days_left} days (alert at {days} days): "
            "running the hooks with XIVO_CERTS_REASON=expiring")


def refusal(root, days_left):
    return (f"xivo-certs: {root.cert}: an admin's certificate, expiring in {days_left} days: renew it "
            "yourself and install it with `xivo-certs install`")


def test_each_threshold_alerts_once(root, xc, ca):
    leaf = admin_pair(root, ca, 20)
    result = xc("renew")
    assert result.code == 1
    assert result.err_lines == [alert_line(root, 20, 30), refusal(root, 20)]
    [run] = expiring_runs(root)
    assert (run["XIVO_CERTS_FINGERPRINT"], run["XIVO_CERTS_PREVIOUS_FINGERPRINT"],
            run["XIVO_CERTS_DEFAULT"]) == (fingerprint(leaf), fingerprint(leaf), "no")
    assert owner_mode(root / RECORD) == (UID, GID, 0o600)
    # the next day: still inside the window (exit 1, the line), no second alert
    result = xc("renew")
    assert (result.code, result.err_lines) == (1, [refusal(root, 20)])
    assert len(expiring_runs(root)) == 1
    # once it is within 14 days (the record says the last alert was at 30), the next alert
    words = (root / RECORD).read_text().split()
    assert words[:2] == [fingerprint(leaf), "30"]
    admin_pair(root, ca, 10)  # another certificate alerts anew: at the threshold it is within
    assert xc("renew").err_lines[0] == alert_line(root, 10, 14)
    (root / RECORD).write_text(f"{fingerprint(root.certs()[0])} 30 {words[2]}\n")
    assert xc("renew").err_lines[0] == alert_line(root, 10, 14)
    assert xc("renew").err_lines == [refusal(root, 10)]
    assert len(expiring_runs(root)) == 3


@pytest.mark.parametrize("days_left, days", [(6, 7), (0, 1), (-3, 1)])
def test_the_last_thresholds_and_the_expired(root, xc, ca, days_left, days):
    admin_pair(root, ca, days_left)
    result = xc("renew")
    assert result.code == 1
    assert result.err_lines == [alert_line(root, days_left, days), refusal(root, days_left)]
    assert len(expiring_runs(root)) == 1


def test_outside_the_renew_window_an_alert_warns_and_exits_0(root, xc, ca):
    (root / "etc/xivo-certs/xivo-certs.conf").write_text("renew_days = 10\n")
    admin_pair(root, ca, 25)
    result = xc("renew")
    assert (result.code, result.err_lines) == (0, [alert_line(root, 25, 30)])
    assert len(expiring_runs(root)) == 1
    assert xc("renew").code == 0 and len(expiring_runs(root)) == 1


def test_no_alert_far_from_expiry(root, xc, ca):
    admin_pair(root, ca, 31)
    assert (xc("renew").code, expiring_runs(root)) == (0, [])
    assert not os.path.lexists(root / RECORD)


def test_a_failing_hook_on_an_alert_is_reported(root, xc, ca):
    root.add_hook("60-mail", "#!/bin/sh\n[ \"$XIVO_CERTS_REASON\" != expiring ] || exit 3\n")
    admin_pair(root, ca, 25)
    result = xc("renew")
    assert result.code == 1  # inside the renew window
    assert result.err_lines == [alert_line(root, 25, 30),
                                "xivo-certs: warning: hook 60-mail (exit code 3) failed on the expiry alert",
                                refusal(root, 25)]


def test_status_notes_the_last_alert(root, xc, ca):
    admin_pair(root, ca, 20)
    xc("renew")
    found = json.loads(xc("status", "--json").out)
    today = datetime.date.today().isoformat()
    assert (f"expiry alert at 30 days sent on {today} (hooks run with XIVO_CERTS_REASON=expiring); "
            "the next at 14 days") in found["information"]
    assert found["problems"] == [f"{root.cert}: expires in 20 days"]
    admin_pair(root, ca, 0)
    xc("renew")
    assert (f"expiry alert at 1 days sent on {today} (hooks run with XIVO_CERTS_REASON=expiring); "
            "no other: renew the certificate") in json.loads(xc("status", "--json").out)["information"]


def test_the_textfile_follows_renew_and_every_change(root, xc, ca):
    (root / "var/lib/prometheus/node-exporter").mkdir(parents=True)
    leaf = admin_pair(root, ca, 20)
    xc("renew")
    assert owner_mode(root / PROM) == (UID, GID, 0o644)
    assert metrics(root) == {"xivo_certs_not_after_timestamp_seconds": int(end(leaf)),
                             "xivo_certs_problems": 1}
    assert xc("revert").code == 0  # a change: a new default certificate, no problem left
    assert metrics(root) == {"xivo_certs_not_after_timestamp_seconds": int(end(root.certs()[0])),
                             "xivo_certs_problems": 0}
    assert sorted(os.listdir(root / "var/lib/prometheus/node-exporter")) == ["xivo_certs.prom"]


def test_the_textfile_follows_a_change_whose_hooks_cannot_run(root, xc, ca):
    (root / "var/lib/prometheus/node-exporter").mkdir(parents=True)
    admin_pair(root, ca, 20)
    xc("renew")
    (root / "etc/xivo-certs/hooks.d").chmod(0o775)  # hooks others may write are never run
    result = xc("revert")
    assert result.code == 1 and "hooks.d" in result.err, result
    assert metrics(root)["xivo_certs_not_after_timestamp_seconds"] == int(end(root.certs()[0]))


def test_no_textfile_without_the_exporter_directory(root, xc, ca):
    admin_pair(root, ca, 20)
    xc("renew")
    assert not os.path.lexists(root / "var/lib/prometheus")


def metrics(root):
    """{name: value} of the textfile's samples, after checking each has its HELP and TYPE."""
    lines = (root / PROM).read_text().splitlines()
    samples = {}
    for line in lines:
        if not line.startswith("#"):
            name, value = line.split()
            assert f"# TYPE {name} gauge" in lines and any(h.startswith(f"# HELP {name} ") for h in lines)
            samples[name] = int(value)
    return samples


def end(cert):
    return cert.not_valid_after.replace(tzinfo=datetime.timezone.utc).timestamp()
