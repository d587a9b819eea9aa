"""Test support shared by the suites (unit, hardening, package): where things are (layout),
certificates (certs: hand-made, for weak and malformed cases; chains: ordinary chains from
python3-trustme; pool: keys made once and a hand-made private CA; facts: reading them),
temporary roots (roots), the recording hook (hooks), whole-tree snapshots (snapshots), the owners
a run gives its files, as root or not (owners), running the real command (command) and the
assertions on its outcome (asserts).

Imported as `support` (setup.cfg puts tests/ on pytest's pythonpath). Run the suites with Debian's
/usr/bin/python3 (python3-cryptography 38, python3-trustme 0.9).
"""
