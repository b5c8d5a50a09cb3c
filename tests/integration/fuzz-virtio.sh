#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the virtqueue walker + virtio-blk parser libFuzzer target
# (tests/fuzz/fuzz_virtqueue.c) and runs it for a bounded time from the
# seed corpus. Prints TAP.
#
# Environment: BUILD (default build), FUZZ_SECONDS (default 30).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
budget=${FUZZ_SECONDS:-30}
name="fuzz-virtio: split-ring walker and blk parser, ${budget}s without a crash"

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
if ! make -s -C tests/fuzz BUILD="$fuzz_build" "$fuzz_build/fuzz_virtqueue" >"$tmp/build.log" 2>&1; then
	echo "not ok - fuzz-virtio: the fuzz target builds"
	sed 's/^/#   /' "$tmp/build.log" | tail -n 20
	exit 0
fi
echo "ok - fuzz-virtio: the fuzz target builds"

mkdir "$tmp/corpus" "$tmp/artifacts"
cp tests/fuzz/corpus/virtqueue/* "$tmp/corpus/"
# 16 header bytes + 64 KiB + 4 KiB of guest RAM.
"$fuzz_build/fuzz_virtqueue" -max_total_time="$budget" -max_len=69648 -timeout=10 \
	-rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$tmp/artifacts/" \
	"$tmp/corpus" >"$tmp/log" 2>&1
rc=$?
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$tmp/log" | grep -o '[0-9]*$')
if [ "$rc" -eq 0 ] && [ -z "$(ls -A "$tmp/artifacts")" ] && [ -n "$runs" ]; then
	echo "ok - $name"
	echo "#   $runs inputs in ${budget}s"
else
	echo "not ok - $name"
	echo "#   libFuzzer exited $rc; artifacts: $(ls "$tmp/artifacts")"
	grep -A 30 -m 1 -E 'ERROR|WARNING|deadly|runtime error' "$tmp/log" | sed 's/^/#   /'
	for a in "$tmp"/artifacts/*; do
		[ -f "$a" ] && echo "#   input (base64, first 2000 chars): $(base64 -w0 "$a" | head -c 2000)"
	done
fi
