#!/bin/sh
# Runs the Check suite (one runner, one summary line). SG_VALGRIND=1 runs
# the unit-level suites (unit, staple: no servers, no timing) under
# valgrind memcheck, unforked so that leaks in the tested code are seen;
# the integration suites run under ASan+UBSan instead (make asan), since
# valgrind's slowdown breaks their timeouts on purpose.
BUILD=${1:-build}
export SG_BUILD="$BUILD"
if [ -n "$SG_VALGRIND" ]; then
	status=0
	for suite in unit staple; do
		CK_FORK=no CK_RUN_SUITE=$suite valgrind --quiet --error-exitcode=99 \
			--leak-check=full --errors-for-leak-kinds=definite \
			"$BUILD/tests/suite" || status=1
	done
	exit $status
fi
exec "$BUILD/tests/suite"
