#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/mem-scale --smoke: checks that the memory benchmark works (every
# row measured, or the reason it could not be), not how fast anything is.
# Prints the report's tables as TAP comments.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
export KILN=${KILN:-$BUILD/kiln}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

ok() { echo "ok - mem-bench: $*"; }
not_ok() { echo "not ok - mem-bench: $*"; }
check() {	# NAME COMMAND...
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

start=$SECONDS
BUILD=$BUILD bench/mem-scale --smoke --out "$out" >"$out/run.log" 2>&1
rc=$?
echo "# bench/mem-scale --smoke took $((SECONDS - start)) s"
check "bench/mem-scale --smoke succeeds" test $rc -eq 0
[ $rc -eq 0 ] || tail -20 "$out/run.log" | sed 's/^/#   /'
report=$(ls "$out"/mem-*.md 2>/dev/null | head -1)
check "it writes a dated report" test -n "$report"
[ -n "$report" ] || exit 1

num='[-0-9][0-9.]*'
# Every size was measured in its one run.
size_row() {	# MODE SIZE
	grep -q "^| $1 | $2 | $num | $num | $num | $num | $num | $num | $num | $num | $num | 1/1 |\$" "$report"
}
for size in 256M 2G 16G; do
	check "start-up and RSS measured at $size" size_row lazy $size
done
for size in 256M 2G; do
	check "start-up and RSS measured at $size with --mem-prealloc" size_row --mem-prealloc $size
done
# KSM: measured for 1 and 2 guests, or not available with a reason.
ksm_ok() {
	grep -q "^Not available: ..*\.\$" "$report" && return 0
	grep -q "^| 1 \(| $num \)\{8\}|\$" "$report" && grep -q "^| 2 \(| $num \)\{8\}|\$" "$report"
}
check "KSM measured for 1 and 2 guests, or why not" ksm_ok
# Two identical guests: KSM saves about one guest's touched memory.
if grep -q "^| 2 |" "$report"; then
	saved=$(grep "^| 2 |" "$report" | awk -F'|' '{ gsub(/ /, "", $7); print $7 }')
	check "KSM saves at least 12 MiB of two guests' identical 16 MiB (saved $saved MiB)" \
		test "${saved:-0}" -ge 12
fi
grep '^|' "$report" | sed 's/^/#   /'
