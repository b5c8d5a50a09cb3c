#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the control API's libFuzzer target (tests/fuzz/fuzz_api.c) and
# runs it for a bounded time from the seed corpus. Prints TAP.
#
# Environment: BUILD (default build), FUZZ_SECONDS (default 30).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SECONDS_BUDGET=${FUZZ_SECONDS:-30}
name="fuzz-api: HTTP parser and JSON validation, ${SECONDS_BUDGET}s without a crash"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! command -v clang >/dev/null; then
	echo "ok - $name # SKIP clang is not installed"
	exit 0
fi
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return (void)d, (int)(n & 0); }\n' \
	>"$tmp/probe.c"
if ! clang -fsanitize=fuzzer "$tmp/probe.c" -o "$tmp/probe" 2>/dev/null; then
	echo "ok - $name # SKIP clang has no libFuzzer (-fsanitize=fuzzer)"
	exit 0
fi

fuzz_build=$(realpath -m "$BUILD/fuzz")
if ! make -s -C tests/fuzz BUILD="$fuzz_build" >"$tmp/build.log" 2>&1; then
	echo "not ok - fuzz-api: the fuzz target builds"
	sed 's/^/#   /' "$tmp/build.log" | tail -n 20
	exit 0
fi
echo "ok - fuzz-api: the fuzz target builds"

# A scratch copy: the corpus grows as the fuzzer runs.
mkdir "$tmp/corpus" "$tmp/artifacts"
cp tests/fuzz/corpus/api/* "$tmp/corpus/"
"$fuzz_build/fuzz_api" -max_total_time="$SECONDS_BUDGET" -max_len=8192 -timeout=10 \
	-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$tmp/artifacts/" \
	"$tmp/corpus" >"$tmp/log" 2>&1
rc=$?
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$tmp/log" | grep -o '[0-9]*$')
if [ "$rc" -eq 0 ] && [ -z "$(ls -A "$tmp/artifacts")" ] && [ -n "$runs" ]; then
	echo "ok - $name"
	echo "#   $runs inputs in ${SECONDS_BUDGET}s"
else
	echo "not ok - $name"
	echo "#   libFuzzer exited $rc; artifacts: $(ls "$tmp/artifacts")"
	grep -A 30 -m 1 -E 'ERROR|WARNING|deadly|runtime error' "$tmp/log" | sed 's/^/#   /'
	for a in "$tmp"/artifacts/*; do
		[ -f "$a" ] && echo "#   input (base64): $(base64 -w0 "$a" | head -c 2000)"
	done
fi
