#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Device state in a snapshot is untrusted input. This suite takes real
# snapshots on the soft engine with every kind of device a snapshot saves:
# of the api_counter guest (tests/guests), and of the Linux test guest when
# its image is there (its LAPIC timer, kvmclock and drivers are live), then
# restores mutated copies whose CRCs are all correct (snapshot-mutate.py
# changes a few payload bytes of one section), each for a moment. Every run must end as a clean refusal
# (exit 2, a "--restore" message), a guest that runs (stopped by SIGTERM
# after half a second) or a guest-visible failure (its own exit codes);
# never a crash, a hang or a sanitizer report. Best run with a sanitizer build (BUILD=build-san).
# Prints TAP and how the runs ended.
#
# Environment: BUILD (default build), KILN (default $BUILD/kiln),
# SNAPSHOT_FUZZ_RUNS (default 100).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
KILN=${KILN:-$BUILD/kiln}
RUNS=${SNAPSHOT_FUZZ_RUNS:-100}
COUNTER=$BUILD/guests/api_counter.elf
. tests/integration/linux-lib.sh
NAME="snapshot-fuzz: $RUNS restores of snapshots with mutated device state end cleanly"

tmp=$(mktemp -d)
linux_tmp=$tmp
pid=
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "$linux_pid" ] && kill -9 "$linux_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

[ -x "$KILN" ] || { echo "ok - $NAME # SKIP no Kiln binary at $KILN"; exit 0; }
[ -s "$COUNTER" ] || { echo "ok - $NAME # SKIP no $COUNTER (make guests)"; exit 0; }
command -v python3 >/dev/null || { echo "ok - $NAME # SKIP python3 is not installed"; exit 0; }

truncate -s 1M "$tmp/disk.img"
DEV=(--disk "$tmp/disk.img" --rng --balloon --net user --vsock "cid=3,uds=$tmp/v.sock"
	--virtio-console "file=$tmp/hvc.out")
: >"$tmp/base.out"
"$KILN" run --accel soft --cpus 2 --kernel "$COUNTER" --mem 32M "${DEV[@]}" \
	--api-sock "$tmp/api.sock" </dev/null >"$tmp/base.out" 2>"$tmp/base.err" &
pid=$!
for ((i = 0; i < 100; i++)); do
	grep -q '^tick 3' "$tmp/base.out" && break
	sleep 0.1
done
"$KILN" ctl --sock "$tmp/api.sock" snapshot "$tmp/base.snap" >/dev/null 2>"$tmp/ctl.err"
{ kill -9 $pid; wait $pid; } 2>/dev/null
pid=
if [ ! -s "$tmp/base.snap" ]; then
	echo "not ok - snapshot-fuzz: a base snapshot of api_counter"
	sed 's/^/#   /' "$tmp/ctl.err" "$tmp/base.err" | tail -n 5
	exit 0
fi
echo "ok - snapshot-fuzz: a base snapshot of api_counter ($(stat -c %s "$tmp/base.snap") bytes)"
BASES=("$tmp/base.snap")
BASE_ARGS=("")

# The Linux guest, idle in a shell loop, with the same devices.
LINUX_NAME="snapshot-fuzz: a base snapshot of the Linux guest"
if [ -n "$(linux_image_missing)" ]; then
	echo "ok - $LINUX_NAME # SKIP $(linux_image_missing)"
else
	linux_boot linux "$LINUX_GUEST/initramfs.cpio.gz" "while :; do sleep 1; done" \
		--cpus 2 "${DEV[@]}" --api-sock "$tmp/lapi.sock"
	if linux_wait "$LINUX_MARKER" "$LINUX_LIMIT" && sleep 1 &&
	   "$KILN" ctl --sock "$tmp/lapi.sock" snapshot "$tmp/linux.snap" >/dev/null 2>&1; then
		echo "ok - $LINUX_NAME ($(stat -c %s "$tmp/linux.snap") bytes)"
		BASES+=("$tmp/linux.snap")
	elif grep -q "$LINUX_MARKER" "$tmp/linux.out"; then
		echo "not ok - $LINUX_NAME"
	else
		linux_finish 0
		echo "ok - $LINUX_NAME # SKIP $(linux_no_boot_reason)"
	fi
	if [ -n "$linux_pid" ]; then
		kill -9 "$linux_pid" 2>/dev/null
		wait "$linux_pid" 2>/dev/null
		linux_pid=
	fi
fi

refused=0 ran=0 guest=0 bad=0 diag=
for ((run = 1; run <= RUNS; run++)); do
	base=${BASES[$((run % ${#BASES[@]}))]}
	section=$(python3 tests/integration/snapshot-mutate.py "$base" "$tmp/m.snap" $run)
	# Loading takes milliseconds; then half a second of running, SIGTERM.
	timeout -k 5 0.5 "$KILN" run --restore "$tmp/m.snap" "${DEV[@]}" \
		</dev/null >"$tmp/m.out" 2>"$tmp/m.err"
	rc=$?
	if grep -q 'Sanitizer\|runtime error' "$tmp/m.err"; then
		rc=-1
	fi
	case $rc in
	2) if grep -q -- '--restore' "$tmp/m.err"; then refused=$((refused + 1)); else rc=-2; fi ;;
	124) ran=$((ran + 1)) ;;		# still running: stopped by the time limit
	0 | 1 | 3 | 4 | 6) guest=$((guest + 1)) ;;	# the guest's own ending
	esac
	case $rc in
	2 | 124 | 0 | 1 | 3 | 4 | 6) ;;
	*)
		bad=$((bad + 1))
		cp "$tmp/m.snap" "$tmp/crash-$run.snap"
		[ -z "$diag" ] && diag="run $run ($(basename "$base"), section $section, seed $run): exit $rc: $(grep -m 3 -i 'error\|sanitizer' "$tmp/m.err")"
		;;
	esac
done
echo "# $RUNS mutated snapshots: $refused refused, $ran ran on, $guest ended by the guest, $bad crashed"
if [ $bad -eq 0 ]; then
	echo "ok - $NAME"
else
	echo "not ok - $NAME"
	echo "#   $diag"
	echo "#   reproduce: tests/integration/snapshot-mutate.py BASE OUT SEED"
fi
