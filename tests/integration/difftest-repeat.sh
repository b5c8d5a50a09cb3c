#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The differential tester gives the same summary in every process: several
# separate processes (each with its own ASLR layout) run the same seed and
# sequence count, and their summaries (instructions generated, native
# exceptions, the multi-instruction blocks' instructions and blocks, the
# compiled blocks' counts) must be identical. Equal results can hide the
# soft CPU decoding or compiling bytes that depend on where the host put
# things: the decoder once went on past an indirect JMP (FF /4) into the
# exit stub's host address, so the counts moved with ASLR while no result
# differed. The one-instruction-per-block mode prints no count of its own
# (each block is one instruction by construction), so only its mismatch
# count is compared. Prints TAP.
#
# Many processes, not two: in that bug most layouts gave the same count
# (seed 1, 1,000 sequences, 200 processes: 5 different totals, the
# commonest in 123), so two processes agreed 2 times in 5, and 8 about 1
# time in 50; 16 all agree about 1 time in 2,400 (0.615^16). More
# processes find it surer than more sequences: the layout is what varies.
#
# Environment: BUILD (default build), DIFFTEST_SEED (default 1),
# DIFFTEST_REPEAT_COUNT (sequences per process, default 1000),
# DIFFTEST_REPEAT_PROCS (processes, default 16).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
SEED=${DIFFTEST_SEED:-1}
COUNT=${DIFFTEST_REPEAT_COUNT:-1000}
PROCS=${DIFFTEST_REPEAT_PROCS:-16}
bin=$BUILD/difftest

if [ ! -x "$bin" ]; then
	echo "not ok - difftest-repeat: $bin is built (make BUILD=$BUILD $bin)"
	exit 0
fi
if [ "$(cat /proc/sys/kernel/randomize_va_space 2>/dev/null)" = 0 ]; then
	echo "ok - difftest-repeat # SKIP ASLR is off (kernel.randomize_va_space=0): every process would have the same layout"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The summary without the time taken and the rate, which legitimately vary.
summary() {
	sed 's/, in [0-9.]* s: [0-9]* sequences\/s$//' "$1"
}

# The compiled mode needs the block compiler, whatever the caller's KILN_SOFT_JIT.
for i in $(seq "$PROCS"); do
	if ! env -u KILN_SOFT_JIT "$bin" --count "$COUNT" --seed "$SEED" --quiet >"$tmp/out$i" 2>&1; then
		echo "not ok - difftest-repeat: process $i ran (seed $SEED, $COUNT sequences)"
		tail -10 "$tmp/out$i" | sed 's/^/#   /'
		exit 0
	fi
	summary "$tmp/out$i" >"$tmp/sum$i"
done

# Each count compared on its own line, so a failure names the mode that moved.
check() {
	local name=$1 pattern=$2 i
	if ! grep -q "$pattern" "$tmp/sum1"; then
		echo "not ok - difftest-repeat: $name: the summary has a '$pattern' line"
		return
	fi
	for i in $(seq 2 "$PROCS"); do
		if ! cmp -s <(grep "$pattern" "$tmp/sum1") <(grep "$pattern" "$tmp/sum$i"); then
			echo "not ok - difftest-repeat: $name: the same in $PROCS processes"
			grep -h "$pattern" "$tmp"/sum* | sort | uniq -c | sed 's/^/#   /'
			return
		fi
	done
	echo "ok - difftest-repeat: $name: the same in $PROCS processes ($(grep "$pattern" "$tmp/sum1" | sed 's/^difftest: //'))"
}
check "generated sequences" '^difftest: seed '
check "native exceptions" ' ended in an exception natively'
check "multi-instruction blocks" 'multi-instruction blocks: '
check "compiled blocks" 'compiled blocks: .* blocks compiled'
check "mismatches, every mode" 'mismatches: '

# Nothing else in the summary either (a line added later is covered too).
for i in $(seq 2 "$PROCS"); do
	if ! cmp -s "$tmp/sum1" "$tmp/sum$i"; then
		echo "not ok - difftest-repeat: the whole summary is the same in $PROCS processes"
		diff "$tmp/sum1" "$tmp/sum$i" | head -10 | sed 's/^/#   /'
		exit 0
	fi
done
echo "ok - difftest-repeat: the whole summary is the same in $PROCS processes (seed $SEED, $COUNT sequences each)"
