#!/bin/sh
# piuparts on each distribution: install/purge of the .deb, and the upgrade
# from the stand-in xivo-certs 15.11 (which managed no certificate) served by a
# local flat repository; both tests happen in one piuparts run per suite.
# Uses the cached mmdebstrap base of the scenarios (debroot.py) as --basetgz.
#
#   tests/package/piuparts.sh DEB SUITE...
set -eu

deb=$(readlink -f "$1"); shift
here=$(cd "$(dirname "$0")" && pwd)
py=/usr/bin/python3
mirror=${XIVO_CERTS_TEST_MIRROR:-http://deb.debian.org/debian}
logdir=${PIUPARTS_LOGDIR:-$(dirname "$deb")}

work=$(mktemp -d /var/tmp/xivo-certs-piuparts.XXXXXX)
trap 'rm -rf "$work"' EXIT
"$py" "$here/debroot.py" standins "$work/standins" >/dev/null
"$py" "$here/debroot.py" repo "$work/repo" "$work/standins/xivo-certs_15.11_all.deb" >/dev/null
chmod -R a+rX "$work"

rc=0
for suite in "$@"; do
	tgz=$("$py" "$here/debroot.py" tarball "$suite" --deb "$deb" --gz)
	set -- --basetgz "$tgz" -d "$suite" -m "$mirror" \
		--extra-repo "deb [trusted=yes] file://$work/repo ./" --bindmount "$work/repo" \
		-l "$logdir/piuparts-$suite.log" \
		-i /var/cache/debconf/tmp.ci/
	# -i: debconf's own scratch directory, made by apt's preconfiguration
	# (apt-utils is in the base, for autopkgtest) and never removed; Debian
	# 12's piuparts does not know it yet (it fails "hello" on Debian 13 too).
	start=$(date +%s)
	rm -f "$logdir/piuparts-$suite.log"
	if piuparts "$@" "$deb" >/dev/null 2>&1; then
		verdict=PASS
	else
		verdict=FAIL
		rc=1
		tail -n 40 "$logdir/piuparts-$suite.log" >&2
	fi
	tests=$(grep -E '(PASS|FAIL): ' "$logdir/piuparts-$suite.log" | sed 's/^.*\(PASS\|FAIL\): /\1: /' | paste -sd ';' -)
	echo "piuparts $suite: $verdict in $(( $(date +%s) - start ))s ($tests) log: $logdir/piuparts-$suite.log"
done
exit $rc
