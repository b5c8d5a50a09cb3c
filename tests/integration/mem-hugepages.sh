#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Huge pages (docs/MEMORY.md): --mem-backing hugetlb against the host's
# pool, which the suite grows through /proc/sys/vm/nr_hugepages and gives
# back on every exit path; and --mem-backing thp, seen in the guest's
# AnonHugePages. Guests are tests/guests/mem_touch.c on kvm. Prints TAP.
#
# Environment: BUILD, KILN, GUEST_ACCEL (default kvm).
set -u
cd "$(dirname "$0")/../.."
SUITE=mem-hugepages
. tests/integration/mem-lib.sh
mem_setup

NR_HUGEPAGES=/proc/sys/vm/nr_hugepages
POOL_2M=/sys/kernel/mm/hugepages/hugepages-2048kB
POOL_1G=/sys/kernel/mm/hugepages/hugepages-1048576kB
THP_ENABLED=/sys/kernel/mm/transparent_hugepage/enabled
GUEST_MIB=256
GUEST_PAGES=$((GUEST_MIB / 2))
TOUCH_MIB=16

TESTS=(
	"hugetlb: RAM that is not a multiple of 2M is refused"
	"hugetlb: a pool too small is refused before the guest starts, with the counts"
	"hugetlb 1G: a pool too small is refused, with the counts"
	"hugetlb: the guest's pool pages are reserved and only touched ones used"
	"hugetlb --mem-prealloc: HugePages_Free drops by the guest's size"
	"hugetlb path=: a hugetlbfs mount backs the guest"
	"hugetlb: nr_hugepages is restored"
	"thp: AnonHugePages grows for a guest that touches memory"
)

why=$(guest_unavailable)
if [ -n "$why" ]; then
	for t in "${TESTS[@]}"; do skip "$t" "$why"; done
	exit 0
fi

pool_free() { cat "$POOL_2M/free_hugepages"; }
pool_resv() { cat "$POOL_2M/resv_hugepages"; }

# ---- the pool, saved now and put back on every exit path -------------------
saved_nr=
can_reserve=
if [ -w "$NR_HUGEPAGES" ] && [ -d "$POOL_2M" ]; then
	saved_nr=$(cat "$NR_HUGEPAGES")
	mem_on_exit+=("echo $saved_nr >$NR_HUGEPAGES")
	can_reserve=yes
fi
mount_dir=
mem_on_exit+=('[ -n "$mount_dir" ] && umount "$mount_dir" 2>/dev/null')

# set_pool N: makes the 2M pool hold N pages; false when the host cannot.
set_pool() {
	echo "$1" >"$NR_HUGEPAGES" 2>/dev/null
	[ "$(cat "$NR_HUGEPAGES")" -eq "$1" ]
}

# ---- refusals ----------------------------------------------------------------
name=${TESTS[0]}
start_guest odd --mem 255M --mem-backing hugetlb --cmdline "touch.mib=0"
wait "${guest_pid[odd]}"; rc=$?; unset "guest_pid[odd]"
if [ "$rc" -eq 2 ] && grep -q "not a multiple of the 2M page size" "$mem_tmp/odd.err"; then
	ok "$name"
	note "$(cat "$mem_tmp/odd.err")"
else
	not_ok "$name" "exit $rc, want 2" "$(guest_diag odd)"
fi

name=${TESTS[1]}
if [ -z "$can_reserve" ]; then
	skip "$name" "cannot write $NR_HUGEPAGES (not root?)"
elif ! set_pool $((GUEST_PAGES - 28)); then
	skip "$name" "the host could not make a pool of $((GUEST_PAGES - 28)) pages"
else
	avail=$(( $(pool_free) - $(pool_resv) ))
	start_guest small --mem ${GUEST_MIB}M --mem-backing hugetlb --cmdline "touch.mib=1"
	wait "${guest_pid[small]}"; rc=$?; unset "guest_pid[small]"
	want="needs $GUEST_PAGES huge pages of 2M, but the host's pool has $avail free"
	if [ "$rc" -eq 2 ] && grep -qF "$want" "$mem_tmp/small.err" &&
	   ! [ -s "$mem_tmp/small.out" ]; then
		ok "$name"
		note "$(cat "$mem_tmp/small.err")"
	else
		not_ok "$name" "exit $rc (want 2), want '$want' on stderr and no guest output" \
			"$(guest_diag small)"
	fi
fi

name=${TESTS[2]}
if [ ! -d "$POOL_1G" ]; then
	skip "$name" "this host has no 1G huge pages"
else
	free1g=$(( $(cat "$POOL_1G/free_hugepages") - $(cat "$POOL_1G/resv_hugepages") ))
	need1g=$((free1g + 1))
	start_guest big --mem $((need1g))G --mem-backing hugetlb,size=1G --cmdline "touch.mib=1"
	wait "${guest_pid[big]}"; rc=$?; unset "guest_pid[big]"
	want="needs $need1g huge pages of 1G, but the host's pool has $free1g free"
	if [ "$rc" -eq 2 ] && grep -qF "$want" "$mem_tmp/big.err"; then
		ok "$name"
		note "$(cat "$mem_tmp/big.err")"
	else
		not_ok "$name" "exit $rc (want 2), want '$want'" "$(guest_diag big)"
	fi
fi

# ---- a guest on the pool -----------------------------------------------------
# run_on_pool NAME ARGS...: starts a guest on a pool of GUEST_PAGES + 16
# pages and records the pool before (f0, r0) and while it runs (f1, r1).
run_on_pool() {
	local n=$1
	shift
	f0=$(pool_free) r0=$(pool_resv)
	start_guest "$n" --mem ${GUEST_MIB}M --stats "$@" --cmdline "touch.mib=$TOUCH_MIB"
	wait_touched "$n" || return 1
	f1=$(pool_free) r1=$(pool_resv)
}

name=${TESTS[3]}
if [ -z "$can_reserve" ]; then
	skip "$name" "cannot write $NR_HUGEPAGES (not root?)"
elif ! set_pool $((GUEST_PAGES + 16)); then
	skip "$name" "the host could not make a pool of $((GUEST_PAGES + 16)) pages"
elif ! run_on_pool lazy --mem-backing hugetlb; then
	not_ok "$name" "the guest did not run" "$(guest_diag lazy)"
else
	stop_guest lazy; rc=$stop_rc
	avail_drop=$(( (f0 - r0) - (f1 - r1) )) used=$((f0 - f1))
	pages=$(kstat lazy hugetlb_pages)
	# Reserved up front: the whole guest. Used: what it touched (16 MiB
	# from 16 MiB, plus low memory: boot data and the image), not more.
	if [ "$rc" -eq 0 ] && [ "$avail_drop" -eq "$GUEST_PAGES" ] &&
	   [ "$used" -ge $((TOUCH_MIB / 2)) ] && [ "$used" -le $((TOUCH_MIB / 2 + 4)) ] &&
	   [ "$pages" = "$GUEST_PAGES" ]; then
		ok "$name"
	else
		not_ok "$name" "exit $rc; free-reserved dropped by $avail_drop (want $GUEST_PAGES);" \
			"pages used $used (want $((TOUCH_MIB / 2))..$((TOUCH_MIB / 2 + 4)));" \
			"Kiln says hugetlb_pages=$pages" "$(guest_diag lazy)"
	fi
	note "pool: HugePages_Free $f0 -> $f1, HugePages_Rsvd $r0 -> $r1:" \
		"$avail_drop pages reserved for a ${GUEST_MIB}M guest, $used in use after" \
		"touching $TOUCH_MIB MiB"
fi

name=${TESTS[4]}
if [ -z "$can_reserve" ]; then
	skip "$name" "cannot write $NR_HUGEPAGES (not root?)"
elif ! set_pool $((GUEST_PAGES + 16)); then
	skip "$name" "the host could not make a pool of $((GUEST_PAGES + 16)) pages"
elif ! run_on_pool pre --mem-backing hugetlb --mem-prealloc; then
	not_ok "$name" "the guest did not run" "$(guest_diag pre)"
else
	stop_guest pre; rc=$stop_rc
	touched=$(kstat pre touched_bytes)
	if [ "$rc" -eq 0 ] && [ $((f0 - f1)) -eq "$GUEST_PAGES" ] && [ "$r1" -eq "$r0" ] &&
	   [ "$touched" = $((GUEST_MIB * 1024 * 1024)) ]; then
		ok "$name"
	else
		not_ok "$name" "exit $rc; HugePages_Free $f0 -> $f1 (want -$GUEST_PAGES)," \
			"Rsvd $r0 -> $r1; touched_bytes=$touched" "$(guest_diag pre)"
	fi
	note "HugePages_Free $f0 -> $f1 while a ${GUEST_MIB}M guest with --mem-prealloc runs"
fi

name=${TESTS[5]}
mount_dir=$mem_tmp/hugetlbfs
mkdir -p "$mount_dir"
if [ -z "$can_reserve" ]; then
	skip "$name" "cannot write $NR_HUGEPAGES (not root?)"
	mount_dir=
elif ! mount -t hugetlbfs -o pagesize=2M none "$mount_dir" 2>"$mem_tmp/mount.err"; then
	skip "$name" "cannot mount hugetlbfs: $(head -n 1 "$mem_tmp/mount.err")"
	mount_dir=
elif ! set_pool $((GUEST_PAGES + 16)); then
	skip "$name" "the host could not make a pool of $((GUEST_PAGES + 16)) pages"
elif ! run_on_pool fs --mem-backing "hugetlb,path=$mount_dir"; then
	not_ok "$name" "the guest did not run" "$(guest_diag fs)"
else
	left=$(ls -A "$mount_dir")
	stop_guest fs; rc=$stop_rc
	avail_drop=$(( (f0 - r0) - (f1 - r1) ))
	if [ "$rc" -eq 0 ] && [ "$avail_drop" -eq "$GUEST_PAGES" ] && [ -z "$left" ] &&
	   [ "$(kstat fs page_size_bytes)" = 2097152 ]; then
		ok "$name"
	else
		not_ok "$name" "exit $rc; free-reserved dropped by $avail_drop (want $GUEST_PAGES);" \
			"files left on the mount: '$left'" "$(guest_diag fs)"
	fi
fi
[ -n "$mount_dir" ] && umount "$mount_dir" && mount_dir=

name=${TESTS[6]}
if [ -z "$can_reserve" ]; then
	skip "$name" "cannot write $NR_HUGEPAGES (not root?)"
else
	echo "$saved_nr" >"$NR_HUGEPAGES"
	now=$(cat "$NR_HUGEPAGES")
	if [ "$now" -eq "$saved_nr" ]; then
		ok "$name"
		note "nr_hugepages back to $now"
	else
		not_ok "$name" "nr_hugepages is $now, was $saved_nr"
	fi
fi

# ---- THP ---------------------------------------------------------------------
name=${TESTS[7]}
THP_MIB=64
if grep -q '\[never\]' "$THP_ENABLED" 2>/dev/null || [ ! -r "$THP_ENABLED" ]; then
	skip "$name" "transparent huge pages are disabled ($THP_ENABLED: $(cat "$THP_ENABLED" 2>/dev/null))"
else
	start_guest thp --mem 512M --stats --mem-backing thp --cmdline "touch.mib=$THP_MIB"
	start_guest plain --mem 512M --cmdline "touch.mib=$THP_MIB"
	if wait_touched thp && wait_touched plain; then
		thp=$(thp_kib thp) plain=$(thp_kib plain)
		stop_guest thp; rc=$stop_rc
		stop_guest plain
		stat_thp=$(kstat thp thp_bytes)
		# The 64 MiB touched lies in whole 2 MiB pages: all of it is huge.
		# Without thp, the host's madvise mode gives the guest none, unless
		# the host says always.
		plain_ok=yes
		grep -q '\[always\]' "$THP_ENABLED" || [ "$plain" -eq 0 ] || plain_ok=
		if [ "$rc" -eq 0 ] && [ "$thp" -ge $((THP_MIB * 1024)) ] && [ -n "$plain_ok" ] &&
		   [ "$stat_thp" -ge $((THP_MIB * 1024 * 1024)) ]; then
			ok "$name"
		else
			not_ok "$name" "AnonHugePages: ${thp} kB with thp, ${plain} kB without;" \
				"Kiln's thp_bytes=$stat_thp; exit $rc" "$(guest_diag thp)"
		fi
		note "AnonHugePages after touching $THP_MIB MiB: $(mib "$thp") MiB with" \
			"--mem-backing thp, $(mib "$plain") MiB without (host THP: $(cat "$THP_ENABLED"))"
	else
		not_ok "$name" "the guests did not run" "$(guest_diag thp)" "$(guest_diag plain)"
	fi
fi
