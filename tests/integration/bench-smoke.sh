#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# bench/run --smoke: checks that the harness works (every benchmark's row is
# in the report, measured or with its reason), not how fast anything is.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
check() {	# NAME COMMAND...
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

start=$SECONDS
BUILD=$BUILD bench/run --smoke --out "$out" >"$out/run.log" 2>&1
rc=$?
echo "# bench/run --smoke took $((SECONDS - start)) s"
check "bench/run --smoke succeeds" test $rc -eq 0
[ $rc -eq 0 ] || tail -20 "$out/run.log" | sed 's/^/# /'
report=$(ls "$out"/*.md 2>/dev/null | head -1)
check "it writes a dated report" test -n "$report"
[ -n "$report" ] || exit 1
check "the report is named after today's date" test "$(basename "$report")" = "$(date +%F).md"

num='[0-9][0-9.]*'
measured="| $num | $num | $num"
unavailable="| not available yet | | "
# A row is well formed when each side has numbers or says it is not
# available yet; a side not available must give its reason below the table.
row_ok() {	# LABEL-PREFIX
	local line side_re="\\($measured\\|$unavailable\\)"
	line=$(grep -F -- "| $1" "$report" | head -1)
	[ -n "$line" ] && printf '%s\n' "$line" |
		grep -q "^| $1.* $side_re $side_re | [0-9.—]* |\$"
}
for r in "1. boot, soft vs TCG: start →" "1. boot, soft vs TCG: start → power-off" \
	 "1. boot, soft vs TCG: CPU time" "2. sha256sum" "3. memory: RSS, guest idle" \
	 "3. memory: guest RAM touched" "3. memory: RSS − guest RAM" "3. memory: PSS − guest RAM" \
	 "3. memory: peak RSS − guest RAM" "3. idle guest: VMM CPU" \
	 "4. start-up, soft vs TCG: start" "4. start-up, soft vs TCG: CPU" \
	 "4. start-up, kvm vs KVM: start" "4. start-up, kvm vs KVM: CPU" \
	 "5. virtio-blk: sequential write" "5. virtio-blk: sequential read" \
	 "5. virtio-blk: 4 KiB random reads" \
	 "6. virtio-net, slirp: guest → host" "6. virtio-net, slirp: host → guest" \
	 "6. virtio-net, tap: guest → host" "6. virtio-net, tap: host → guest" \
	 "7. kvm exit cost: one port-I/O exit" "7. kvm exit cost: the same, the raw loop's VM with an in-kernel irqchip"; do
	check "report row: $r" row_ok "$r"
done
for c in "256M RAM, 1 vCPU" "2G RAM, 1 vCPU" "16G RAM, 1 vCPU" "256M RAM, 2 vCPUs" "256M RAM, 4 vCPUs"; do
	for m in "start" "RSS at" "RSS − guest RAM touched"; do
		check "report row: 8. scale, $c: $m" row_ok "8. scale, $c: $m"
	done
done
if grep -q "^| 1\. [^|]* | not available yet | | " "$report"; then
	check "Kiln's missing Linux benchmarks give a reason" \
		grep -q '^- Kiln, benchmarks 1–3, 5, 6 and 8 (the Linux guest): ..*' "$report"
fi
# Every side not measured is explained below the table.
if grep -q "| not available yet | | " "$report"; then
	check "the sides not measured give their reasons" \
		bash -c "sed -n '/^## Not available yet/,/^## /p' '$report' | grep -q '^- [^,]*, benchmark.*: ..*'"
fi
# Outside a git checkout (a git archive copy) the commit is unknown, and says so.
check "report names the host and the Kiln commit" \
	bash -c "grep -q '^- Host: .*cores' '$report' &&
		 grep -q '^- Kiln: .*commit \([0-9a-f]\{7,\}\|unknown (not a git checkout)\)' '$report'"
check "report gives the load average" grep -q '^  load average [0-9.]* [0-9.]* [0-9.]* before' "$report"
check "report gives the exact commands of both sides" \
	bash -c "grep -q '^- boot, kiln: \`.*kiln run --accel soft' '$report' &&
		 grep -q '^- boot, qemu: \`qemu-system-x86_64 -accel tcg' '$report'"

# The harness is exercised end to end by the QEMU side, which must measure.
if command -v qemu-system-x86_64 >/dev/null; then
	check "QEMU's boot was measured" \
		grep -q "^| 1\. boot, soft vs TCG: start → \`.*\` (s) | .* | $num | $num | $num | [0-9.—]* |\$" "$report"
	check "QEMU's sha256sum was measured" \
		grep -q "^| 2\. sha256sum .* | $num | $num | $num | [0-9.—]* |\$" "$report"
	check "QEMU's memory overhead was measured" \
		grep -q "^| 3\. memory: RSS − guest RAM.* | $num | $num | $num | [0-9.—]* |\$" "$report"
	check "QEMU's PSS was measured" \
		grep -q "^| 3\. memory: PSS − guest RAM.* | $num | $num | $num | [0-9.—]* |\$" "$report"
	check "QEMU's TCG start-up was measured" \
		grep -q "^| 4\. start-up, soft vs TCG: start.* | $num | $num | $num | [0-9.—]* |\$" "$report"
	check "QEMU's virtio-blk was measured" \
		grep -q "^| 5\. virtio-blk: 4 KiB .* | $num | $num | $num | [0-9.—]* |\$" "$report"
	check "QEMU's virtio-net over slirp was measured" \
		grep -q "^| 6\. virtio-net, slirp: host → guest .* | $num | $num | $num | [0-9.—]* |\$" "$report"
	check "QEMU's 16G boot was measured" \
		grep -q "^| 8\. scale, 16G RAM, 1 vCPU: start .* | $num | $num | $num | [0-9.—]* |\$" "$report"
	check "QEMU's guest RAM mapping was found at 16G" \
		grep -q "^| 8\. scale, 16G RAM, 1 vCPU: RSS − guest RAM .* | $num | $num | $num | [0-9.—]* |\$" "$report"
else
	ok "QEMU side measured # SKIP qemu-system-x86_64 not installed"
fi
# The floor of benchmark 7 needs only /dev/kvm.
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	check "the raw KVM_RUN loop was measured" \
		grep -q "^| 7\. kvm exit cost: one .* | $num | $num | $num | [0-9.—]* |\$" "$report"
	check "the raw KVM_RUN loop with an irqchip was measured" \
		grep -q "^| 7\. kvm exit cost: the same.* | $num | $num | $num | [0-9.—]* |\$" "$report"
else
	ok "the raw KVM_RUN loop was measured # SKIP /dev/kvm is not usable"
fi
