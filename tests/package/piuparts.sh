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
# One repository per suite: piuparts looks for processes with files open under
# its chroot (lsof +D), and a bind mount shared by two runs would make each see
# (and kill) the other's apt-get.
for suite in "$@"; do
	"$py" "$here/debroot.py" repo "$work/repo-$suite" "$work/standins/xivo-certs_15.11_all.deb" >/dev/null
done
chmod -R a+rX "$work"

# One suite: piuparts with its log, then a one-line verdict on stdout.
run_suite() {
	suite=$1
	tgz=$("$py" "$here/debroot.py" tarball "$suite" --deb "$deb" --gz)
	log=$logdir/piuparts-$suite.log
	rm -f "$log"
	start=$(date +%s)
	# -i: debconf's own scratch directory, made by apt's preconfiguration
	# (apt-utils is in the base, for autopkgtest) and never removed; Debian
	# 12's piuparts does not know it yet (it fails "hello" on Debian 13 too).
	if piuparts --basetgz "$tgz" -d "$suite" -m "$mirror" \
		--extra-repo "deb [trusted=yes] file://$work/repo-$suite ./" --bindmount "$work/repo-$suite" \
		-i /var/cache/debconf/tmp.ci/ -l "$log" "$deb" >/dev/null 2>&1; then
		verdict=PASS
	else
		verdict=FAIL
		tail -n 40 "$log" >&2
	fi
	tests=$(grep -E '(PASS|FAIL): ' "$log" | sed 's/^.*\(PASS\|FAIL\): /\1: /' | paste -sd ';' -)
	echo "piuparts $suite: $verdict in $(( $(date +%s) - start ))s ($tests) log: $log"
	[ $verdict = PASS ]
}

. "$here/side-by-side.sh"
run_suites_side_by_side "$@"
