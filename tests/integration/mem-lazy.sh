#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Lazy guest RAM and overcommit (docs/MEMORY.md): Kiln commits a page of
# guest RAM only when the guest writes it, unless --mem-prealloc asks for
# everything up front; so a 16 GiB guest that touches 64 MiB costs about
# 64 MiB, and guests whose RAM adds up to more than the host's run
# together. Guests are tests/guests/mem_touch.c on kvm. Prints TAP.
#
# Margin: Kiln's own footprint (binary, libraries, thread stacks, device
# buffers) is measured with a guest that touches nothing; a guest's RSS is
# that plus what it touched, within LAZY_MARGIN_MIB (default 8).
#
# Environment: BUILD, KILN, GUEST_ACCEL (default kvm), LAZY_MARGIN_MIB.
set -u
cd "$(dirname "$0")/../.."
SUITE=mem-lazy
. tests/integration/mem-lib.sh
mem_setup

MARGIN_MIB=${LAZY_MARGIN_MIB:-8}
# Kiln with a guest that touched nothing must stay under this.
BASE_MAX_MIB=32
BIG=16G
TOUCH_MIB=64
PRE_MIB=256
OVERCOMMIT_GUESTS=3

TESTS=(
	"a 16 GiB guest that touches nothing costs only Kiln's own footprint"
	"a 16 GiB guest that touches 64 MiB has an RSS of 64 MiB more"
	"--mem-prealloc: a 256 MiB guest has all 256 MiB resident before it runs"
	"--mem-prealloc beyond the host's memory is refused before the guest starts"
	"three 16 GiB guests, more RAM than the host has, run together"
)
why=$(guest_unavailable)
if [ -n "$why" ]; then
	for t in "${TESTS[@]}"; do skip "$t" "$why"; done
	exit 0
fi
host_mib=$(mib "$(meminfo_kib MemTotal)")

# measure NAME ARGS...: runs a guest until it has touched, sets rss (KiB)
# and, after stopping it, touched (bytes, Kiln's --stats); false on failure.
measure() {
	local n=$1
	shift
	start_guest "$n" --stats "$@"
	wait_touched "$n" || return 1
	rss=$(rss_kib "$n")
	stop_guest "$n"
	touched=$(kstat "$n" touched_bytes)
	[ "$stop_rc" -eq 0 ] && [ -n "$touched" ]
}

name=${TESTS[0]}
if measure idle --mem $BIG --cmdline "touch.mib=0"; then
	base=$rss base_touched=$touched
	if [ "$base" -le $((BASE_MAX_MIB * 1024)) ]; then
		ok "$name"
	else
		not_ok "$name" "VmRSS $base KiB, want at most $BASE_MAX_MIB MiB"
	fi
	note "16 GiB guest, nothing touched: VmRSS $(mib "$base") MiB," \
		"guest RAM resident $((base_touched / 1024)) KiB (boot data and the image)"
else
	not_ok "$name" "the guest did not run" "$(guest_diag idle)"
	base=
fi

name=${TESTS[1]}
if [ -z "$base" ]; then
	skip "$name" "no baseline"
elif measure touch --mem $BIG --cmdline "touch.mib=$TOUCH_MIB"; then
	grew=$((rss - base))
	t_grew=$(( (touched - base_touched) / 1024 ))
	if [ "$grew" -ge $(( (TOUCH_MIB - MARGIN_MIB) * 1024 )) ] &&
	   [ "$grew" -le $(( (TOUCH_MIB + MARGIN_MIB) * 1024 )) ] &&
	   [ "$t_grew" -eq $((TOUCH_MIB * 1024)) ]; then
		ok "$name"
	else
		not_ok "$name" "VmRSS grew by $grew KiB, want ${TOUCH_MIB} MiB +- $MARGIN_MIB MiB;" \
			"Kiln's touched_bytes grew by $t_grew KiB, want exactly $((TOUCH_MIB * 1024))"
	fi
	note "16 GiB guest, $TOUCH_MIB MiB touched: VmRSS $(mib "$rss") MiB" \
		"(+$(mib "$grew") MiB), Kiln's touched_bytes $((touched / 1048576)) MiB"
else
	not_ok "$name" "the guest did not run" "$(guest_diag touch)"
fi

name=${TESTS[2]}
if measure pre --mem ${PRE_MIB}M --mem-prealloc --cmdline "touch.mib=0"; then
	if [ -n "$base" ] && [ "$rss" -ge $((PRE_MIB * 1024)) ] &&
	   [ "$rss" -le $(( (PRE_MIB + MARGIN_MIB) * 1024 + base )) ] &&
	   [ "$touched" -eq $((PRE_MIB * 1048576)) ]; then
		ok "$name"
	else
		not_ok "$name" "VmRSS $rss KiB, want $PRE_MIB MiB plus Kiln's $((base + 0)) KiB" \
			"(+$MARGIN_MIB MiB); touched_bytes=$touched"
	fi
	note "${PRE_MIB} MiB guest with --mem-prealloc, nothing touched: VmRSS $(mib "$rss") MiB"
else
	not_ok "$name" "the guest did not run" "$(guest_diag pre)"
fi

name=${TESTS[3]}
too_big=$(( (host_mib / 1024 + 1) * 2 ))G
start_guest huge --mem "$too_big" --mem-prealloc --cmdline "touch.mib=1"
wait "${guest_pid[huge]}"; rc=$?; unset "guest_pid[huge]"
if [ "$rc" -eq 2 ] && grep -q "the host has available" "$mem_tmp/huge.err" &&
   ! [ -s "$mem_tmp/huge.out" ]; then
	ok "$name"
	note "$(cat "$mem_tmp/huge.err")"
else
	not_ok "$name" "--mem $too_big --mem-prealloc: exit $rc, want 2 with a message" \
		"$(guest_diag huge)"
fi

name=${TESTS[4]}
for ((g = 1; g <= OVERCOMMIT_GUESTS; g++)); do
	start_guest over$g --mem $BIG --stats --cmdline "touch.mib=$TOUCH_MIB touch.seed=$g"
done
bad= total_rss=0
for ((g = 1; g <= OVERCOMMIT_GUESTS; g++)); do
	wait_touched over$g || bad="$bad guest $g did not run: $(guest_diag over$g);"
done
sleep 2	# all of them, at once, for a while
for ((g = 1; g <= OVERCOMMIT_GUESTS; g++)); do
	pid=${guest_pid[over$g]}
	kill -0 "$pid" 2>/dev/null || { bad="$bad guest $g died;"; continue; }
	total_rss=$((total_rss + $(rss_kib over$g)))
done
for ((g = 1; g <= OVERCOMMIT_GUESTS; g++)); do
	[ -n "${guest_pid[over$g]:-}" ] || continue
	stop_guest over$g
	[ "$stop_rc" -eq 0 ] || bad="$bad guest $g exited $stop_rc;"
done
guest_gib=$((OVERCOMMIT_GUESTS * 16))
if [ -z "$bad" ] && [ $((guest_gib * 1024)) -gt "$host_mib" ]; then
	ok "$name"
elif [ -z "$bad" ]; then
	skip "$name" "this host has $host_mib MiB: $guest_gib GiB is no overcommit"
else
	not_ok "$name" "$bad"
fi
note "$OVERCOMMIT_GUESTS guests, $guest_gib GiB of guest RAM on a host of $host_mib MiB:" \
	"summed VmRSS $(mib "$total_rss") MiB"
