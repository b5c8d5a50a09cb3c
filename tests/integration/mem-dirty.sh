#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# kiln run --dirty-log and the dirty_log stats group, on soft and on kvm:
# the mem_touch guest writes one word in each page of M MiB (0, 16, 64) and
# exits; Kiln's --stats at exit must count exactly M * 256 more dirty pages
# than with M = 0 (what the guest's image, stack and page tables add is the
# same each time). Without --dirty-log the group says on=0. Prints TAP.
#
# Environment: BUILD (default build), KILN (default $BUILD/kiln).
set -u
cd "$(dirname "$0")/../.."
SUITE=mem-dirty
. tests/integration/mem-lib.sh

# dstat NAME FIELD: a dirty_log figure from the --stats Kiln printed at exit.
dstat() {
	sed -n "s/^dirty_log:.* $2=\([0-9]*\).*/\1/p" "$mem_tmp/$1.err" | head -n 1
}

# run_touch NAME MIB [FLAGS...]: a mem_touch guest to its exit; sets run_rc.
run_touch() {
	local name=$1 mib=$2
	shift 2
	timeout --foreground -k 5 "$TOUCH_TIMEOUT" "$KILN" run --accel "$GUEST_ACCEL" \
		--kernel "$MEM_TOUCH" --mem 128M --stats "$@" \
		--cmdline "touch.mib=$mib touch.exit=1" </dev/null \
		>"$mem_tmp/$name.out" 2>"$mem_tmp/$name.err"
	run_rc=$?
}

mem_setup
for GUEST_ACCEL in soft kvm; do
	why=$(guest_unavailable)
	if [ -n "$why" ]; then
		skip "$GUEST_ACCEL: dirty pages counted by --dirty-log" "$why"
		skip "$GUEST_ACCEL: no dirty_log figures without --dirty-log" "$why"
		continue
	fi

	declare -A pages=()
	problems=()
	for mib in 0 16 64; do
		name=$GUEST_ACCEL-$mib
		run_touch "$name" "$mib" --dirty-log
		pages[$mib]=$(dstat "$name" dirty_pages)
		# The guest's quiet debug-exit 0 is Kiln's exit 1.
		[ "$run_rc" -eq 1 ] || problems+=("$mib MiB: Kiln exited $run_rc, not 1" \
						"$(guest_diag "$name")")
		[ "$(dstat "$name" on)" = 1 ] || problems+=("$mib MiB: dirty_log on is not 1")
		[ -n "${pages[$mib]}" ] || { problems+=("$mib MiB: no dirty_pages figure"); pages[$mib]=0; }
	done
	note "$GUEST_ACCEL: dirty pages at exit: ${pages[0]} touching nothing," \
		"${pages[16]} after 16 MiB (+$((pages[16] - pages[0])), expected +4096)," \
		"${pages[64]} after 64 MiB (+$((pages[64] - pages[0])), expected +16384)"
	[ $((pages[16] - pages[0])) -eq 4096 ] || problems+=("16 MiB: not 4096 pages more")
	[ $((pages[64] - pages[0])) -eq 16384 ] || problems+=("64 MiB: not 16384 pages more")
	[ "${pages[0]}" -gt 0 ] && [ "${pages[0]}" -lt 64 ] ||
		problems+=("touching nothing: ${pages[0]} dirty pages, not 1-63 (image, stack, tables)")
	if [ ${#problems[@]} -eq 0 ]; then
		ok "$GUEST_ACCEL: dirty pages counted by --dirty-log"
	else
		not_ok "$GUEST_ACCEL: dirty pages counted by --dirty-log" "${problems[@]}"
	fi

	run_touch "$GUEST_ACCEL-off" 16
	if [ "$run_rc" -eq 1 ] && grep -q "^dirty_log: on=0$" "$mem_tmp/$GUEST_ACCEL-off.err"; then
		ok "$GUEST_ACCEL: no dirty_log figures without --dirty-log"
	else
		not_ok "$GUEST_ACCEL: no dirty_log figures without --dirty-log" \
			"exit $run_rc; $(grep "^dirty_log" "$mem_tmp/$GUEST_ACCEL-off.err")"
	fi
	unset pages
done
