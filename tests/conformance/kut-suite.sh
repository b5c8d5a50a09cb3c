# SPDX-License-Identifier: Apache-2.0
#
# Finds, fetches and builds kvm-unit-tests for the conformance runner.
# Sourced. The suite is never part of Kiln's tree: it lives in a cache
# directory and is built there.
#
#   KVM_UNIT_TESTS_DIR  a checkout to use (built if it has no .flat files);
#                       default ${XDG_CACHE_HOME:-~/.cache}/kiln/kvm-unit-tests
#   KVM_UNIT_TESTS_GIT  where --fetch clones from when the directory is
#                       missing (default: upstream on GitLab)

KUT_DEFAULT_GIT=https://gitlab.com/kvm-unit-tests/kvm-unit-tests.git
KUT_DIR=${KVM_UNIT_TESTS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kiln/kvm-unit-tests}
KUT_WHY=""	# why the suite is unavailable, for the SKIP line

# Clones the suite into $KUT_DIR. Returns 1 with KUT_WHY set on failure.
kut_fetch() {
	local src=${KVM_UNIT_TESTS_GIT:-$KUT_DEFAULT_GIT}

	mkdir -p "$(dirname "$KUT_DIR")" || { KUT_WHY="cannot create $(dirname "$KUT_DIR")"; return 1; }
	echo "# cloning kvm-unit-tests from $src into $KUT_DIR" >&2
	if ! timeout 300 git clone -q "$src" "$KUT_DIR" >&2; then
		rm -rf "$KUT_DIR"
		KUT_WHY="cannot clone kvm-unit-tests from $src (no network?); set KVM_UNIT_TESTS_DIR to a checkout"
		return 1
	fi
}

# Configures and builds the x86_64 tests when they are missing or stale.
kut_build() {
	local log=$KUT_DIR/.kiln-build.log

	if [ ! -f "$KUT_DIR/config.mak" ]; then
		(cd "$KUT_DIR" && ./configure --arch=x86_64) >"$log" 2>&1 ||
			{ KUT_WHY="./configure failed in $KUT_DIR (see $log)"; return 1; }
	fi
	if ! grep -q '^ARCH=x86_64' "$KUT_DIR/config.mak"; then
		KUT_WHY="$KUT_DIR is configured for another architecture (want --arch=x86_64)"
		return 1
	fi
	(cd "$KUT_DIR" && make -s -j"$(nproc)") >>"$log" 2>&1 ||
		{ KUT_WHY="make failed in $KUT_DIR (see $log)"; return 1; }
}

# kut_prepare FETCH(yes|no): a built suite in $KUT_DIR, or 1 with KUT_WHY.
kut_prepare() {
	local fetch=$1

	if [ ! -f "$KUT_DIR/x86/unittests.cfg" ]; then
		if [ -n "${KVM_UNIT_TESTS_DIR:-}" ]; then
			KUT_WHY="KVM_UNIT_TESTS_DIR=$KVM_UNIT_TESTS_DIR holds no x86/unittests.cfg"
			return 1
		fi
		if [ "$fetch" != yes ]; then
			KUT_WHY="kvm-unit-tests is not in $KUT_DIR (run tests/conformance/kvm-unit-tests once to fetch it, or set KVM_UNIT_TESTS_DIR)"
			return 1
		fi
		kut_fetch || return 1
	fi
	command -v make >/dev/null || { KUT_WHY="make is not installed"; return 1; }
	kut_build
}

# The suite's commit, for the report.
kut_commit() {
	git -C "$KUT_DIR" rev-parse --short=12 HEAD 2>/dev/null || echo unknown
}
