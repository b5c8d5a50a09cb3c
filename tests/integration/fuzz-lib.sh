# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the libFuzzer suites (tests/integration/fuzz-*.sh), not a suite
# itself: builds one target of tests/fuzz and runs it for a bounded time
# from its seed corpus, printing TAP.

# fuzz_suite SUITE TARGET CORPUS-DIR MAX-LEN WHAT: runs $BUILD/fuzz/TARGET for
# FUZZ_SECONDS (default 30) from tests/fuzz/corpus/CORPUS-DIR.
fuzz_suite() {
	local suite=$1 target=$2 corpus=$3 max_len=$4 what=$5
	local budget=${FUZZ_SECONDS:-30} tmp fuzz_build rc runs name
	name="$suite: $what, ${budget}s without a crash"
	tmp=$(mktemp -d)
	# shellcheck disable=SC2064	# expand now: tmp is local
	trap "rm -rf '$tmp'" EXIT

	if ! command -v clang >/dev/null; then
		echo "ok - $name # SKIP clang is not installed"
		return 0
	fi
	printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return (void)d, (int)(n & 0); }\n' \
		>"$tmp/probe.c"
	if ! clang -fsanitize=fuzzer "$tmp/probe.c" -o "$tmp/probe" 2>/dev/null; then
		echo "ok - $name # SKIP clang has no libFuzzer (-fsanitize=fuzzer)"
		return 0
	fi
	fuzz_build=$(realpath -m "${BUILD:-build}/fuzz")
	if ! make -s -j2 -C tests/fuzz BUILD="$fuzz_build" "$fuzz_build/$target" >"$tmp/build.log" 2>&1; then
		echo "not ok - $suite: the fuzz target builds"
		sed 's/^/#   /' "$tmp/build.log" | tail -n 20
		return 0
	fi
	echo "ok - $suite: the fuzz target builds"

	mkdir "$tmp/corpus" "$tmp/artifacts"
	cp tests/fuzz/corpus/"$corpus"/* "$tmp/corpus/"
	"$fuzz_build/$target" -max_total_time="$budget" -max_len="$max_len" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$tmp/artifacts/" \
		"$tmp/corpus" >"$tmp/log" 2>&1
	rc=$?
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$tmp/log" | grep -o '[0-9]*$')
	if [ "$rc" -eq 0 ] && [ -z "$(ls -A "$tmp/artifacts")" ] && [ -n "$runs" ]; then
		echo "ok - $name"
		echo "#   $runs inputs in ${budget}s"
		return 0
	fi
	echo "not ok - $name"
	echo "#   libFuzzer exited $rc; artifacts: $(ls "$tmp/artifacts")"
	grep -A 30 -m 1 -E 'ERROR|WARNING|deadly|runtime error' "$tmp/log" | sed 's/^/#   /'
	for a in "$tmp"/artifacts/*; do
		[ -f "$a" ] && echo "#   input (base64, first 2000 chars): $(base64 -w0 "$a" | head -c 2000)"
	done
	return 0
}
