#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# make check's share of kvm-unit-tests: a fast subset (QUICK_TESTS in
# tests/conformance/kvm-unit-tests) on --accel soft, as TAP. Skips, with the
# reason, when the suite is not on this machine (CI cannot fetch it); set
# KVM_UNIT_TESTS_DIR to a checkout, or run tests/conformance/kvm-unit-tests
# once to fetch and build it. The full run is tests/conformance/kvm-unit-tests
# (docs/conformance.md).
set -u
root=${KILN_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
exec "$root/tests/conformance/kvm-unit-tests" --accel soft --quick --tap \
	--out "$BUILD/conformance/quick"
