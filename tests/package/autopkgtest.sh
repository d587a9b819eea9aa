#!/bin/sh
# debian/tests (DEP-8) against the installed .deb, with autopkgtest's unshare
# backend on each distribution, using the cached mmdebstrap base (which has
# apt-utils) as --tarball. Needs a root:100000:65536 line in /etc/subuid and
# /etc/subgid (`make package-deps` adds it).
#
#   tests/package/autopkgtest.sh DEB SUITE...
set -eu

deb=$(readlink -f "$1"); shift
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
py=/usr/bin/python3
outbase=${AUTOPKGTEST_OUTDIR:-$(dirname "$deb")}

# The tests need only debian/ of the source tree (they test the installed
# package). debian/files marks it a *built* tree, so that autopkgtest neither
# builds it nor installs dpkg-dev in the testbed to unpack it; the .deb given
# on the command line satisfies the tests' "@".
work=$(mktemp -d /var/tmp/xivo-certs-autopkgtest.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/xivo-certs"
cp -a "$repo/debian" "$work/xivo-certs/"
: > "$work/xivo-certs/debian/files"

# One suite: autopkgtest with its output directory, then a one-line verdict on stdout.
run_suite() {
	suite=$1
	tarball=$("$py" "$here/debroot.py" tarball "$suite" --deb "$deb")
	out=$outbase/autopkgtest-$suite
	rm -rf "$out"
	start=$(date +%s)
	set +e
	autopkgtest --output-dir "$out" "$deb" "$work/xivo-certs/" \
		-- unshare --release "$suite" --tarball "$tarball" >"$work/log-$suite" 2>&1
	status=$?
	set -e
	if [ $status -eq 0 ]; then
		verdict=PASS
	else
		verdict="FAIL (autopkgtest exit $status)"
		tail -n 60 "$work/log-$suite" >&2
	fi
	summary=$(sed 's/ \+/ /g' "$out/summary" 2>/dev/null | paste -sd ';' -)
	echo "autopkgtest $suite: $verdict in $(( $(date +%s) - start ))s ($summary) log: $out/log"
	[ $status -eq 0 ]
}

. "$here/side-by-side.sh"
run_suites_side_by_side "$@"
