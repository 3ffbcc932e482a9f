#!/bin/sh
# Runs the Check suite (one runner, one summary line). SG_VALGRIND=1 runs
# it under valgrind memcheck, unforked so leaks in tests are seen.
BUILD=${1:-build}
export SG_BUILD="$BUILD"
if [ -n "$SG_VALGRIND" ]; then
	export CK_FORK=no CK_DEFAULT_TIMEOUT=600
	exec valgrind --quiet --error-exitcode=99 --leak-check=full \
		--errors-for-leak-kinds=definite "$BUILD/tests/suite"
fi
exec "$BUILD/tests/suite"
