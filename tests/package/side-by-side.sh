# Sourced by piuparts.sh and autopkgtest.sh: run `run_suite SUITE` for every suite at once
# (each waits on apt and dpkg more than on the CPU), print the verdicts in the suites' order,
# and exit 1 if any failed. Needs $work, a scratch directory.
run_suites_side_by_side() {
	pids=
	for suite in "$@"; do
		run_suite "$suite" > "$work/verdict-$suite" &
		pids="$pids $!"
	done
	rc=0
	for pid in $pids; do wait "$pid" || rc=1; done
	for suite in "$@"; do cat "$work/verdict-$suite"; done
	return $rc
}
