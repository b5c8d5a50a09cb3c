#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the soft CPU's libFuzzer target (tests/fuzz/fuzz_soft_cpu.c:
# decoder at every offset, then the interpreter on a standalone CPU in
# 16-, 32- and 64-bit modes) and runs it for a bounded time from the seed
# corpus. Prints TAP.
#
# Environment: BUILD (default build), FUZZ_SECONDS (default 30).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
budget=${FUZZ_SECONDS:-30}
name="fuzz-soft: decoder and interpreter, ${budget}s without a crash"

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
if ! make -s -C tests/fuzz BUILD="$fuzz_build" "$fuzz_build/fuzz_soft_cpu" >"$tmp/build.log" 2>&1; then
	echo "not ok - fuzz-soft: the fuzz target builds"
	sed 's/^/#   /' "$tmp/build.log" | tail -n 20
	exit 0
fi
echo "ok - fuzz-soft: the fuzz target builds"

mkdir "$tmp/corpus" "$tmp/artifacts"
cp tests/fuzz/corpus/soft_cpu/* "$tmp/corpus/"
"$fuzz_build/fuzz_soft_cpu" -max_total_time="$budget" -max_len=64 -timeout=10 \
	-artifact_prefix="$tmp/artifacts/" "$tmp/corpus" >"$tmp/run.log" 2>&1
rc=$?
if [ "$rc" -eq 0 ] && [ -z "$(ls -A "$tmp/artifacts")" ]; then
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$tmp/run.log")
	echo "ok - $name (${runs:-?} runs)"
else
	echo "not ok - $name"
	grep -E "ERROR|SUMMARY|runtime error|Test unit" "$tmp/run.log" | head -n 10 | sed 's/^/#   /'
	for f in "$tmp"/artifacts/*; do
		[ -f "$f" ] && echo "#   input: $(od -An -tx1 -v "$f" | tr -s ' \n' ' ' | head -c 300)"
	done
fi
