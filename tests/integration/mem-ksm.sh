#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# KSM (docs/MEMORY.md): three identical --ksm guests fill the same 128 MiB
# with the same content; with ksmd running (and sped up), their summed
# proportional RSS falls by about two guests' worth, and Kiln's own
# figures (GET /stats while running, --stats at exit) report the merged
# pages. The KSM settings are saved first and put back on every exit path.
#
# VmRSS counts a merged page in every process that maps it, so the summed
# VmRSS does not move; Pss (smaps_rollup) divides a shared page among its
# sharers and is what falls. Both are printed, with the host's MemAvailable.
#
# Environment: BUILD, KILN, GUEST_ACCEL (default kvm), KSM_TIMEOUT (s, 90).
set -u
cd "$(dirname "$0")/../.."
SUITE=mem-ksm
. tests/integration/mem-lib.sh
mem_setup

KSM=/sys/kernel/mm/ksm
GUESTS=3
GUEST_MIB=512
TOUCH_MIB=128
TOUCH_PAGES=$((TOUCH_MIB * 256))
KSM_TIMEOUT=${KSM_TIMEOUT:-90}

TESTS=(
	"ksmd merges three identical guests"
	"Kiln reports its merged pages: /proc's count before, the touched pages after (API)"
	"the summed proportional RSS falls by two guests' worth"
	"--stats at exit: merged pages and share of guest RAM"
	"KSM settings are restored"
)

skip_all() { for t in "${TESTS[@]}"; do skip "$t" "$1"; done; exit 0; }
why=$(guest_unavailable)
[ -n "$why" ] && skip_all "$why"
[ -w "$KSM/run" ] || skip_all "cannot write $KSM/run (no KSM in this kernel, or not root)"
[ -r /proc/self/ksm_merging_pages ] ||
	skip_all "the kernel has no /proc/PID/ksm_merging_pages (Linux 5.19+)"

saved_run=$(cat $KSM/run) saved_scan=$(cat $KSM/pages_to_scan) saved_sleep=$(cat $KSM/sleep_millisecs)
restore_ksm() {
	echo "$saved_scan" >$KSM/pages_to_scan
	echo "$saved_sleep" >$KSM/sleep_millisecs
	echo "$saved_run" >$KSM/run
}
mem_on_exit+=(restore_ksm)
# Nothing merges until the "before" figures are taken.
echo 0 >$KSM/run

sock=$mem_tmp/g1.sock
for ((g = 1; g <= GUESTS; g++)); do
	api=()
	[ $g -eq 1 ] && api=(--api-sock "$sock")
	start_guest g$g --mem ${GUEST_MIB}M --ksm --stats "${api[@]}" --cmdline "touch.mib=$TOUCH_MIB"
done
for ((g = 1; g <= GUESTS; g++)); do
	wait_touched g$g && continue
	not_ok "${TESTS[0]}" "guest $g did not run" "$(guest_diag g$g)"
	for t in "${TESTS[@]:1:3}"; do skip "$t" "the guests did not run"; done
	restore_ksm
	ok "${TESTS[4]}"
	exit 0
done

# api_merged: Kiln's ksm_merged_pages from GET /stats, through kiln ctl.
api_merged() {
	"$KILN" ctl --sock "$sock" stats 2>/dev/null |
		sed -n 's/^memory:.* ksm_merged_pages=\([0-9]*\).*/\1/p'
}
sums() {	# sets rss, pss (KiB, summed) and avail (KiB)
	rss=0 pss=0
	for ((g = 1; g <= GUESTS; g++)); do
		rss=$((rss + $(rss_kib g$g))) pss=$((pss + $(pss_kib g$g)))
	done
	avail=$(meminfo_kib MemAvailable)
}
merged_min() {	# the smallest /proc/PID/ksm_merging_pages of the guests
	local m min=
	for ((g = 1; g <= GUESTS; g++)); do
		m=$(cat "/proc/${guest_pid[g$g]}/ksm_merging_pages")
		[ -z "$min" ] || [ "$m" -lt "$min" ] && min=$m
	done
	echo "$min"
}

sums
rss0=$rss pss0=$pss avail0=$avail
api0=$(api_merged)
# 0 unless ksmd ran before we stopped it (a host where it was already on).
proc0=$(cat "/proc/${guest_pid[g1]}/ksm_merging_pages")

echo 5000 >$KSM/pages_to_scan
echo 10 >$KSM/sleep_millisecs
echo 1 >$KSM/run
start=$SECONDS
want=$((TOUCH_PAGES * 95 / 100))
while [ "$(merged_min)" -lt "$want" ] && [ $((SECONDS - start)) -lt "$KSM_TIMEOUT" ]; do
	sleep 0.5
done
secs=$((SECONDS - start))
sleep 1	# let ksmd finish the pass it is in
sums
api1=$(api_merged)

name=${TESTS[0]}
if [ "$(merged_min)" -ge "$want" ]; then
	ok "$name"
	note "every guest had $want+ pages merged after ${secs}s (pages_to_scan=5000, sleep 10 ms)"
	note "ksmd: pages_shared=$(cat $KSM/pages_shared) pages_sharing=$(cat $KSM/pages_sharing)"
else
	not_ok "$name" "after ${KSM_TIMEOUT}s the least merged guest has $(merged_min) pages, want $want"
fi

name=${TESTS[1]}
if [ "$api0" = "$proc0" ] && [ -n "$api1" ] && [ "$api1" -ge "$want" ]; then
	ok "$name"
else
	not_ok "$name" "GET /stats ksm_merged_pages: '$api0' before, '$api1' after (want $proc0, >= $want)"
fi
note "Kiln (guest 1, GET /stats): ksm_merged_pages $api0 -> $api1"

name=${TESTS[2]}
dup_kib=$(( (GUESTS - 1) * TOUCH_MIB * 1024 ))
fell=$((pss0 - pss))
if [ "$fell" -ge $((dup_kib * 3 / 4)) ]; then
	ok "$name"
else
	not_ok "$name" "summed Pss fell by $(mib $fell) MiB, want at least $(mib $((dup_kib * 3 / 4))) MiB"
fi
note "summed over $GUESTS guests: Pss $(mib $pss0) -> $(mib $pss) MiB (-$(mib $fell) MiB)," \
	"VmRSS $(mib $rss0) -> $(mib $rss) MiB; host MemAvailable +$(mib $((avail - avail0))) MiB"

name=${TESTS[3]}
bad=
for ((g = 1; g <= GUESTS; g++)); do
	stop_guest g$g
	m=$(kstat g$g ksm_merged_pages) p=$(kstat g$g ksm_merged_permille)
	# The share is of all 512 MiB: 128 MiB touched is 250 per mille.
	want_p=$((want * 1000 / (GUEST_MIB * 256)))
	if [ "$stop_rc" -ne 0 ] || [ -z "$m" ] || [ "$m" -lt "$want" ] || [ "$p" -lt "$want_p" ] ||
	   [ "$(kstat g$g ksm)" != 1 ]; then
		bad="$bad guest $g: exit $stop_rc, ksm_merged_pages=$m ksm_merged_permille=$p;"
	fi
	note "guest $g --stats: ksm_merged_pages=$m ksm_merged_permille=$p"
done
if [ -z "$bad" ]; then ok "$name"; else not_ok "$name" "$bad (want >= $want, >= $want_p)"; fi

name=${TESTS[4]}
restore_ksm
now="$(cat $KSM/run) $(cat $KSM/pages_to_scan) $(cat $KSM/sleep_millisecs)"
if [ "$now" = "$saved_run $saved_scan $saved_sleep" ]; then
	ok "$name"
else
	not_ok "$name" "run/pages_to_scan/sleep_millisecs are $now, were $saved_run $saved_scan $saved_sleep"
fi
