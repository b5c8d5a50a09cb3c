#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The differential tester (tests/difftest): random and busybox instruction
# sequences run natively and on the soft CPU, in its three modes (one
# instruction per block, multi-instruction blocks, the same blocks compiled
# by the block compiler, run cold, warm, then through their direct jumps), and compared. Prints TAP. The bar (issue 3): at least 200,000 sequences,
# none mismatching. Mismatch classes, each with a reproducer, go to
# $BUILD/difftest-findings.md.
#
# Environment: BUILD (default build), DIFFTEST_COUNT (default 200000),
# DIFFTEST_SEED (default 1), DIFFTEST_SECONDS (time cap, default 300).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
COUNT=${DIFFTEST_COUNT:-200000}
SEED=${DIFFTEST_SEED:-1}
CAP=${DIFFTEST_SECONDS:-300}
bin=$BUILD/difftest
findings=$BUILD/difftest-findings.md

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$bin" ]; then
	echo "not ok - difftest: $bin is built (make BUILD=$BUILD $bin)"
	exit 0
fi

corpus=()
if ! command -v objdump >/dev/null; then
	echo "ok - difftest: busybox corpus # SKIP objdump is not installed"
elif [ ! -x /bin/busybox ]; then
	echo "ok - difftest: busybox corpus # SKIP /bin/busybox is missing (busybox-static)"
elif ! objdump -d --insn-width=15 /bin/busybox >"$tmp/busybox.dis" 2>"$tmp/objdump.err"; then
	echo "not ok - difftest: objdump disassembles /bin/busybox"
	sed 's/^/#   /' "$tmp/objdump.err" | tail -5
else
	corpus=(--corpus "$tmp/busybox.dis")
fi

# The compiled mode needs the block compiler, whatever the caller's KILN_SOFT_JIT.
env -u KILN_SOFT_JIT "$bin" --count "$COUNT" --seconds "$CAP" --seed "$SEED" "${corpus[@]}" --quiet \
	--findings "$findings" >"$tmp/out" 2>&1
rc=$?
sed 's/^/#   /' "$tmp/out" | grep -v ' class ' | head -20

line=$(grep -m1 ' sequences (' "$tmp/out")
runs=$(sed -n 's/.*: \([0-9]*\) sequences (.*/\1/p' <<<"$line")
gen=$(sed -n 's/.*(\([0-9]*\) generated.*/\1/p' <<<"$line")
cor=$(sed -n 's/.* \([0-9]*\) corpus).*/\1/p' <<<"$line")
mline=$(grep -m1 'mismatches:' "$tmp/out")
mis=$(sed -n 's/.*mismatches: \([0-9]*\) sequences.*/\1/p' <<<"$mline")
single=$(sed -n 's/.*(\([0-9]*\) one instruction.*/\1/p' <<<"$mline")
block=$(sed -n 's/.*, \([0-9]*\) multi-instruction.*/\1/p' <<<"$mline")
jit=$(sed -n 's/.*, \([0-9]*\) compiled blocks).*/\1/p' <<<"$mline")
compiled=$(sed -n 's/.*compiled blocks: \([0-9]*\) blocks compiled.*/\1/p' "$tmp/out")
cov=$(sed -n 's/.*templates generated: \(.*\)/\1/p' "$tmp/out")

if [ -z "$runs" ] || [ -z "$mis" ] || [ -z "$jit" ] || [ "$rc" -eq 2 ] || [ "$rc" -gt 2 ]; then
	echo "not ok - difftest: the harness ran (exit $rc)"
	sed 's/^/#   /' "$tmp/out" | tail -20
	exit 0
fi
echo "ok - difftest: the harness ran $runs sequences ($gen generated, ${cor:-0} busybox corpus)"

if grep -q 'built with sanitizers' "$tmp/out"; then
	# Under ASan/UBSan the bar is the time cap, not the count.
	echo "ok - difftest: $runs sequences within ${CAP}s (sanitizer build)"
elif [ "$runs" -ge 200000 ] || [ "$runs" -ge "$COUNT" ]; then
	echo "ok - difftest: at least $COUNT sequences ($runs)"
else
	echo "not ok - difftest: at least $COUNT sequences (only $runs within ${CAP}s)"
fi

report() {
	local name=$1 n=$2
	if [ "$n" -eq 0 ]; then
		echo "ok - difftest: $name: 0 mismatches"
	else
		echo "not ok - difftest: $name: $n mismatching sequences"
	fi
}
report "one instruction per block" "$single"
report "multi-instruction blocks (lazy flags, chaining)" "$block"
if [ "${compiled:-0}" -gt 0 ]; then
	report "compiled blocks ($compiled compiled, run cold, warm, then linked)" "$jit"
else
	echo "not ok - difftest: compiled blocks: none compiled (is KILN_SOFT_JIT=0 set?)"
fi
if [ "$mis" -gt 0 ]; then
	echo "#   mismatch classes (count, instructions left after shrinking, what differed):"
	grep ' class ' "$tmp/out" | head -40 | sed 's/^difftest: class */#     /'
	echo "#   reproducers: $findings"
fi

case $cov in
"") echo "not ok - difftest: template coverage reported" ;;
*)
	set -- $cov
	if [ "$1" = "$3" ]; then
		echo "ok - difftest: every template generated ($1)"
	else
		echo "not ok - difftest: every template generated ($cov)"
	fi ;;
esac
