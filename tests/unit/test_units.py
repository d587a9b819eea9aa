"""The boot-time recovery unit's ordering, as xivo-certs(8) documents it (tests/package/test_systemd.py
boots it for real)."""

import re

from support.layout import CHECKOUT

RECOVER_UNIT = CHECKOUT / "debian" / "xivo-certs.xivo-certs-recover.service"


def ordered_before():
    return {unit for line in RECOVER_UNIT.read_text().splitlines() if line.startswith("Before=")
            for unit in line[len("Before="):].split()}


def documented_before():
    pod = (CHECKOUT / "xivo-certs.8.pod").read_text()
    item = pod.split("=item F<xivo-certs-recover.service>", 1)[1].split("=item", 1)[0]
    before = item.split(" before ", 1)[1].split("): ", 1)[0]
    return {name if name.endswith(".service") else name + ".service"
            for name in re.findall(r"F<([a-z0-9.-]+)>", before)}


def test_the_recovery_unit_runs_before_nginx_and_every_documented_daemon():
    assert "nginx.service" in ordered_before()
    assert ordered_before() == documented_before()
