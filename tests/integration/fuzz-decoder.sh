#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Builds the soft CPU decoder's libFuzzer target (tests/fuzz/fuzz_decoder.c:
# never past 15 bytes, never past the input, results independent of the
# bytes after the instruction, consistent lengths; 16-, 32- and 64-bit
# modes) and runs it for a bounded time (issue 3: 60 s in CI without a
# crash). Prints TAP.
#
# Environment: BUILD (default build), FUZZ_DECODER_SECONDS (default 60).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
budget=${FUZZ_DECODER_SECONDS:-60}
name="fuzz-decoder: soft CPU decoder, ${budget}s without a crash"

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
if ! make -s -C tests/fuzz BUILD="$fuzz_build" "$fuzz_build/fuzz_decoder" >"$tmp/build.log" 2>&1; then
	echo "not ok - fuzz-decoder: the fuzz target builds"
	sed 's/^/#   /' "$tmp/build.log" | tail -n 20
	exit 0
fi
echo "ok - fuzz-decoder: the fuzz target builds"

# Seeds: first byte the mode (0 16-bit, 1 32-bit, 2 64-bit), then an
# instruction with the prefixes, ModRM/SIB forms and immediates that are
# easy to get wrong. The fuzzer grows its own corpus in $tmp.
mkdir "$tmp/corpus" "$tmp/artifacts"
i=0
for hex in \
	024801d8 02f0480fb10c8d78563412 02660f3a0fc108 02f30f1efa 02c4e27d18c0 \
	0267f3a5 0241ff24c5ffffff7f 0248b8efcdab8967452301 02f2480f2c05f0ffffff \
	02660f73d807 02d9e8 02dd3c24 020fc70e 02264f63c1 028d0425dead0000 \
	01a1efbeadde 01f3a4 0166c70600800000 00b80010 00c706347812ab 00ea00100000 \
	0266666666666666666666666666669090; do
	# shellcheck disable=SC2059 # the format is the bytes
	printf "$(sed 's/../\\x&/g' <<<"$hex")" >"$tmp/corpus/seed$i"
	i=$((i + 1))
done

"$fuzz_build/fuzz_decoder" -max_total_time="$budget" -max_len=64 -timeout=10 \
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
		[ -f "$a" ] && echo "#   input (hex): $(od -An -tx1 -v "$a" | tr -d ' \n' | head -c 200)"
	done
fi
