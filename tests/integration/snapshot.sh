#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Snapshot and restore. First the freestanding api_counter guest on kvm and
# soft (its ticks must go on after a restore). Then the Linux test guest
# (tools/mkguest) with two vCPUs on the soft engine: a shell loop counts, writes each number to the virtio-blk
# disk (fsync'd) and then prints it on COM1. The test snapshots it through
# the API, kills Kiln with SIGKILL, restores with `kiln run --restore`, and
# checks that the count goes on from where it was and that the disk agrees
# with the console. Then corrupted, truncated and mismatched files must be
# refused through the CLI. Prints TAP, and the snapshot's size against
# guest RAM.
#
# Environment: BUILD (default build), KILN (default $BUILD/kiln),
# LINUX_BOOT_LIMIT (seconds to the first count, default 240).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
KILN=${KILN:-$BUILD/kiln}
LINUX_VIRTIO_ACCEL=soft
. tests/integration/linux-lib.sh

TESTS=(
	"PUT /snapshot/create answers 204 and leaves the VM paused"
	"the VM runs on after PATCH /vm Resumed, and kiln ctl snapshot-diff writes a diff"
	"the snapshot is sparse (smaller than guest RAM), the diff smaller still"
	"the disk holds the count the console showed when Kiln was killed"
	"kiln run --restore FULL --restore DIFF continues the count, not from 0"
	"after the restore, the disk agrees with the console"
	"after the restore, the balloon keeps its size and still inflates"
	"virtio-net: the host reaches the guest through hostfwd before and after the restore"
	"virtio-vsock: a connection open at the snapshot is reset in the guest, and new ones work"
	"virtio-console: hvc0 echoes through its socket before the snapshot and after the restore"
	"a corrupted snapshot is refused with a clear error (exit 2)"
	"a truncated snapshot is refused with a clear error (exit 2)"
	"a snapshot with other RAM, or without its disk, is refused (exit 2)"
	"a diff alone, a chain out of order, and --kernel with --restore are refused (exit 2)"
)
GUEST_TESTS=(
	"kvm: a freestanding guest ticks on after a restore from a full and a diff snapshot"
	"soft: a freestanding guest ticks on after a restore from a full and a diff snapshot"
)

tmp=$(mktemp -d)
linux_tmp=$tmp
cleanup() {
	[ -n "$linux_pid" ] && kill -9 "$linux_pid" 2>/dev/null && wait "$linux_pid" 2>/dev/null
	[ -n "${hvc_pid:-}" ] && kill "$hvc_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

done_tests=0
ok() { echo "ok - snapshot: ${TESTS[$done_tests]}"; done_tests=$((done_tests + 1)); }
not_ok() {
	echo "not ok - snapshot: ${TESTS[$done_tests]}"
	for l in "$@"; do sed 's/^/#   /' <<<"$l"; done
	done_tests=$((done_tests + 1))
}
check() {	# check STATUS DIAGNOSTICS...
	local status=$1
	shift
	if [ "$status" -eq 0 ]; then ok; else not_ok "$@"; fi
}
skip_rest() {
	for ((i = done_tests; i < ${#TESTS[@]}; i++)); do
		echo "ok - snapshot: ${TESTS[$i]} # SKIP $1"
	done
	exit 0
}

if [ ! -x "$KILN" ] || ! command -v curl >/dev/null; then
	why="no Kiln binary at $KILN"
	[ -x "$KILN" ] && why="curl is not installed (the API client)"
	for t in "${GUEST_TESTS[@]}"; do echo "ok - snapshot: $t # SKIP $why"; done
	skip_rest "$why"
fi

# --- the freestanding guest (tests/guests/api_counter.c), on each engine ---
# It prints "tick N" every 100 ms of ACPI PM-timer time; the PM timer, RAM
# and registers all come back, so the ticks must go on from N. A full
# snapshot, a second of running, then a diff: both restored. Two vCPUs, the
# second waiting for a SIPI that never comes.
COUNTER=$BUILD/guests/api_counter.elf
guest_results=()
guest_case() {	# guest_case ENGINE: sets guest_results[ENGINE index]
	local engine=$1 sock=$tmp/$1.sock pid status n1 first last err
	if [ ! -s "$COUNTER" ]; then
		guest_results+=("skip no $COUNTER (make guests)")
		return
	fi
	: >"$tmp/$engine-1.out"
	: >"$tmp/$engine-2.out"
	"$KILN" run --accel "$engine" --cpus 2 --kernel "$COUNTER" --mem 64M --api-sock "$sock" \
		</dev/null >"$tmp/$engine-1.out" 2>"$tmp/$engine-1.err" &
	pid=$!
	for ((i = 0; i < 300; i++)); do
		grep -q '^tick 5' "$tmp/$engine-1.out" && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	if ! kill -0 $pid 2>/dev/null; then
		wait $pid
		status=$?
		err=$(head -n 1 "$tmp/$engine-1.err")
		if [ $status -eq 2 ] && [[ $err == *"--accel $engine"* ]]; then
			guest_results+=("skip $err")
		else
			guest_results+=("fail exit $status before tick 5: $err")
		fi
		return
	fi
	status=$(curl -s --max-time 30 --unix-socket "$sock" -X PUT -o /dev/null -w '%{http_code}' \
		-d "{\"snapshot_path\": \"$tmp/$engine.snap\"}" http://localhost/snapshot/create)
	"$KILN" ctl --sock "$sock" resume >/dev/null
	sleep 1
	status=$status,$(curl -s --max-time 30 --unix-socket "$sock" -X PUT -o /dev/null \
		-w '%{http_code}' http://localhost/snapshot/create \
		-d "{\"snapshot_path\": \"$tmp/$engine.diff\", \"snapshot_type\": \"Diff\"}")
	n1=$(grep -o '^tick [0-9]*' "$tmp/$engine-1.out" | tail -n 1 | cut -d' ' -f2)
	kill -9 $pid
	wait $pid 2>/dev/null
	"$KILN" run --restore "$tmp/$engine.snap" --restore "$tmp/$engine.diff" \
		</dev/null >"$tmp/$engine-2.out" 2>"$tmp/$engine-2.err" &
	pid=$!
	for ((i = 0; i < 300; i++)); do
		[ "$(grep -c '^tick' "$tmp/$engine-2.out")" -ge 10 ] && break
		kill -0 $pid 2>/dev/null || break
		sleep 0.1
	done
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	first=$(grep -o '^tick [0-9]*' "$tmp/$engine-2.out" | head -n 1 | cut -d' ' -f2)
	last=$(grep -o '^tick [0-9]*' "$tmp/$engine-2.out" | tail -n 1 | cut -d' ' -f2)
	echo "# $engine: snapshot $(stat -c %s "$tmp/$engine.snap" 2>/dev/null) bytes for 64 MiB," \
		"then ticked to $n1 and a diff of $(stat -c %s "$tmp/$engine.diff" 2>/dev/null) bytes;" \
		"the restored guest ticked $first..$last"
	if [ "$status" = 204,204 ] && [ -n "$first" ] && [ "$first" -gt "${n1:-0}" ] &&
	   [ "$first" -le $((${n1:-0} + 2)) ] && [ "$last" -ge $((first + 9)) ] &&
	   ! grep -q '^api_counter: running' "$tmp/$engine-2.out"; then
		guest_results+=("ok")
	else
		guest_results+=("fail HTTP $status, ticks $n1 then $first..$last;" \
			"$(head -n 2 "$tmp/$engine-2.err")")
	fi
}
guest_case kvm
guest_case soft
report_guest() {	# report_guest INDEX
	local r=${guest_results[$1]} name=${GUEST_TESTS[$1]}
	case $r in
	ok) echo "ok - snapshot: $name" ;;
	skip*) echo "ok - snapshot: $name # SKIP ${r#skip }" ;;
	*) echo "not ok - snapshot: $name"; echo "#   ${r#fail }" ;;
	esac
}
report_guest 0
report_guest 1
if [ -n "$(linux_image_missing)" ]; then
	tools/mkguest "$LINUX_GUEST" >"$tmp/mkguest.log" 2>&1 ||
		skip_rest "$(linux_image_missing), and tools/mkguest failed: $(tail -n 1 "$tmp/mkguest.log")"
fi

DISK=$tmp/disk.img
RAM_MIB=256
truncate -s 1M "$DISK"
# Write first (fsync'd), print after: the disk is never behind the console.
# A listener answers "pong" on port 8080 (reached through slirp's hostfwd).
# Each round also reads virtio-rng: the loop stalls if that queue breaks.
NET_UP='ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0; (while :; do echo pong | nc -l -p 8080 >/dev/null; done) & '
# hvc0 echoes each line back with "hvc:" in front (raw mode, no tty echo).
HVC_UP='exec 3<>/dev/hvc0; stty raw -echo <&3; (while read -r l <&3; do echo hvc:$l >&3; done) & '
# With the vsock modules: an echo server on vsock port 6000, restarted
# whenever a connection ends. One is held open across the snapshot: only
# the transport reset after the restore lets the guest drop it and listen
# again.
VSOCK_UP='(while :; do kiln-vsock echo 6000 >/dev/null; done) & '
LOOP='i=0; while :; do i=$((i+1)); head -c 8 /dev/hwrng >/dev/null; echo $i | dd of=/dev/vda conv=notrunc,fsync 2>/dev/null; echo count=$i; sleep 0.1; done'

api() {		# api SOCK METHOD PATH [BODY]: prints the HTTP status
	curl -s --max-time 30 --unix-socket "$1" -X "$2" ${4:+-d "$4"} -o "$tmp/api.out" \
		-w '%{http_code}' "http://localhost$3"
}
# The last complete count on a console, or 0.
last_count() { sed 's/\r$//' "$1" | grep -o '^count=[0-9]*$' | tail -n 1 | cut -d= -f2 || true; }
first_count() { sed 's/\r$//' "$1" | grep -o '^count=[0-9]*$' | head -n 1 | cut -d= -f2 || true; }
disk_count() { head -c 16 "$DISK" | tr -dc '0-9'; }
wait_count() {	# wait_count FILE N SECONDS: until the console shows count >= N
	local i c
	for ((i = 0; i < $3 * 10; i++)); do
		c=$(last_count "$1")
		[ "${c:-0}" -ge "$2" ] && return 0
		kill -0 "$linux_pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# --- 1-3: the first run, two snapshots ---
SOCK=$tmp/api.sock
FWD_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 18080)
NET="user,hostfwd=tcp:127.0.0.1:$FWD_PORT-:8080"
# ping_guest: "pong" from the guest's listener, within 20 s.
ping_guest() {
	local i line
	for ((i = 0; i < 40; i++)); do
		if exec 3<>"/dev/tcp/127.0.0.1/$FWD_PORT" 2>/dev/null; then
			line=
			read -r -t 5 line <&3
			exec 3<&-
			[ "$line" = pong ] && return 0
		fi
		sleep 0.5
	done
	return 1
}
# hvc0's host side: Kiln connects to this socket, once per run. Connection
# k gets "pingK" until the guest echoes it; then "okK" goes to hvc.seen.
cat >"$tmp/hvc.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(4)
k = 0
while True:
    c, _ = s.accept()
    k += 1
    # Again every second: the guest may not be reading hvc0 yet.
    c.settimeout(1)
    data = b""
    for _ in range(120):
        try:
            c.sendall(b"ping%d\n" % k)
            d = c.recv(256)
        except socket.timeout:
            continue
        except OSError:
            break
        if not d:
            break
        data += d
        if b"hvc:ping%d" % k in data:
            break
    if b"hvc:ping%d" % k in data:
        open(sys.argv[2], "a").write("ok%d\n" % k)
PY
python3 "$tmp/hvc.py" "$tmp/hvc.sock" "$tmp/hvc.seen" &
hvc_pid=$!
for ((i = 0; i < 50; i++)); do [ -S "$tmp/hvc.sock" ] && break; sleep 0.1; done
HVC=(--virtio-console "socket=$tmp/hvc.sock")
UDS=$tmp/vsock.sock
VSOCK=(--vsock "cid=3,uds=$UDS")
INITRD_RUN=$LINUX_GUEST/initramfs.cpio.gz
if vsock_why=$(linux_vsock_initrd "$tmp" 2>&1); then
	INITRD_RUN=$tmp/vsock-initrd.gz
	NET_UP="$NET_UP$LINUX_VSOCK_INSMOD$VSOCK_UP"
else
	VSOCK=()
fi
# vsock_echo [hold]: the guest's echo answers "PING" (hold: connect and keep
# the connection open in the background, in vsock_hold_pid).
vsock_echo() {
	python3 - "$UDS" "${1:-echo}" <<'PY' 2>/dev/null
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"CONNECT 6000\n")
f = s.makefile("rb")
if not f.readline().startswith(b"OK "):
    sys.exit(1)
if sys.argv[2] == "hold":
    print("held", flush=True)
    time.sleep(3600)
s.sendall(b"ping\n")
s.shutdown(socket.SHUT_WR)
sys.exit(0 if f.readline().strip() == b"PING" else 1)
PY
}
vsock_try() {	# vsock_try: the echo works within 20 s
	for ((i = 0; i < 20; i++)); do
		vsock_echo && return 0
		sleep 1
	done
	return 1
}
linux_boot run1 "$INITRD_RUN" "$HVC_UP$NET_UP$LOOP" --mem ${RAM_MIB}M --disk "$DISK" \
	--cpus 2 --rng --balloon --net "$NET" "${VSOCK[@]}" "${HVC[@]}" --api-sock "$SOCK"
if ! wait_count "$tmp/run1.out" 5 "$LINUX_LIMIT"; then
	linux_finish 0
	grep -q "$LINUX_MARKER" "$tmp/run1.out" || skip_rest "$(linux_no_boot_reason)"
	not_ok "the guest booted but did not count to 5: $(linux_console 3)"
	skip_rest "the guest's loop did not run"
fi

balloon_mib() {	# balloon_mib SOCK FIELD: target_mib or actual_mib
	api "$1" GET /balloon/statistics >/dev/null
	grep -o "\"$2\": *[0-9]*" "$tmp/api.out" | grep -o '[0-9]*$'
}
wait_balloon() {	# wait_balloon SOCK MIB: until actual_mib is MIB
	for ((i = 0; i < 300; i++)); do
		[ "$(balloon_mib "$1" actual_mib)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
net_before=0; ping_guest || net_before=1
vsock_before=0
vsock_hold_pid=
if [ ${#VSOCK[@]} -gt 0 ]; then
	vsock_try || vsock_before=1
	vsock_echo hold >"$tmp/hold.out" &
	vsock_hold_pid=$!
	for ((i = 0; i < 50; i++)); do grep -q held "$tmp/hold.out" && break; sleep 0.1; done
fi
api "$SOCK" PUT /balloon '{"amount_mib": 8}' >/dev/null
wait_balloon "$SOCK" 8
status=$(api "$SOCK" PUT /snapshot/create "{\"snapshot_path\": \"$tmp/first.snap\"}")
c0=$(last_count "$tmp/run1.out")
sleep 1.5
c1=$(last_count "$tmp/run1.out")
state=$(api "$SOCK" GET /vm >/dev/null; grep -o '"state": *"[A-Za-z]*"' "$tmp/api.out")
check $([ "$status" = 204 ] && [ -s "$tmp/first.snap" ] && [ "$c0" = "$c1" ] &&
	[[ $state == *Paused* ]]; echo $?) \
	"HTTP $status, count $c0 then $c1 1.5 s later, $state, $(cat "$tmp/api.out")"

status=$(api "$SOCK" PATCH /vm '{"state": "Resumed"}')
wait_count "$tmp/run1.out" $((c1 + 5)) 60
c2=$(last_count "$tmp/run1.out")
ctl_out=$("$KILN" ctl --sock "$SOCK" snapshot-diff "$tmp/diff.snap" 2>&1)
ctl_rc=$?
A=$(last_count "$tmp/run1.out")
check $([ "$status" = 204 ] && [ "${c2:-0}" -ge $((c1 + 5)) ] && [ $ctl_rc -eq 0 ] &&
	[ -s "$tmp/diff.snap" ]; echo $?) \
	"resume: HTTP $status, count $c1 -> $c2; kiln ctl snapshot-diff: exit $ctl_rc: $ctl_out"

size=$(stat -c %s "$tmp/first.snap")
dsize=$(stat -c %s "$tmp/diff.snap" 2>/dev/null || echo 0)
echo "# snapshot: $((size / 1024)) KiB for $RAM_MIB MiB of guest RAM" \
	"($((size * 100 / (RAM_MIB * 1024 * 1024)))%; zero pages are not stored);" \
	"the diff $((c2 - c1)) counts later: $((dsize / 1024)) KiB"
check $([ "$size" -lt $((RAM_MIB * 1024 * 1024)) ] && [ "$dsize" -gt 0 ] &&
	[ "$dsize" -lt "$size" ]; echo $?) "full $size bytes, diff $dsize bytes"

# SIGKILL while paused: whatever the disk has is what the snapshot saw.
kill -9 "$linux_pid"
wait "$linux_pid" 2>/dev/null
linux_pid=
D1=$(disk_count)
# The line being printed when the VM paused may be cut: allow one more.
check $([ -n "$D1" ] && [ "$D1" -ge "${A:-0}" ] && [ "$D1" -le $((${A:-0} + 2)) ]; echo $?) \
	"disk says ${D1:-nothing}, the console's last count was ${A:-none}"

# --- 5, 6: restore ---
SOCK2=$tmp/api2.sock
: >"$tmp/run2.out"
"$KILN" run --restore "$tmp/first.snap" --restore "$tmp/diff.snap" --disk "$DISK" --rng --balloon \
	--net "$NET" "${VSOCK[@]}" "${HVC[@]}" --api-sock "$SOCK2" \
	</dev/null >"$tmp/run2.out" 2>"$tmp/run2.err" &
linux_pid=$!
linux_name=run2
wait_count "$tmp/run2.out" $((A + 10)) 120
R1=$(first_count "$tmp/run2.out")
echo "# counted to $A before the snapshot; the restored guest printed $R1 first," \
	"then up to $(last_count "$tmp/run2.out")"
consecutive=$(sed 's/\r$//' "$tmp/run2.out" | grep -o '^count=[0-9]*$' | cut -d= -f2 |
	awk 'NR > 1 && $1 != prev + 1 { bad = 1 } { prev = $1 } END { print bad ? "no" : "yes" }')
check $([ -n "$R1" ] && [ "$R1" -gt "$A" ] && [ "$R1" -le $((A + 2)) ] &&
	[ "$(last_count "$tmp/run2.out")" -ge $((A + 10)) ] && [ "$consecutive" = yes ]; echo $?) \
	"first count ${R1:-none} after $A, consecutive: $consecutive" \
	"stderr: $(tail -n 3 "$tmp/run2.err")" "console: $(tail -n 3 "$tmp/run2.out")"

net_after=0; ping_guest || net_after=1
for ((i = 0; i < 100; i++)); do grep -q ok2 "$tmp/hvc.seen" 2>/dev/null && break; sleep 0.2; done
[ -n "$vsock_hold_pid" ] && kill "$vsock_hold_pid" 2>/dev/null
vsock_after=0
[ ${#VSOCK[@]} -gt 0 ] && { vsock_try || vsock_after=1; }
b_target=$(balloon_mib "$SOCK2" target_mib)
b_actual=$(balloon_mib "$SOCK2" actual_mib)
api "$SOCK2" PUT /balloon '{"amount_mib": 16}' >/dev/null
wait_balloon "$SOCK2" 16
b_after=$(balloon_mib "$SOCK2" actual_mib)

api "$SOCK2" PATCH /vm '{"state": "Paused"}' >/dev/null
B=$(last_count "$tmp/run2.out")
kill -9 "$linux_pid"
wait "$linux_pid" 2>/dev/null
linux_pid=
D2=$(disk_count)
check $([ -n "$D2" ] && [ -n "$B" ] && [ "$D2" -ge "$B" ] && [ "$D2" -le $((B + 2)) ] &&
	[ "$D2" -gt "$A" ]; echo $?) "disk says ${D2:-nothing}, the console's last count was ${B:-none}"

check $([ "$b_target" = 8 ] && [ "$b_actual" = 8 ] && [ "$b_after" = 16 ]; echo $?) \
	"after the restore: target ${b_target:-?} MiB, actual ${b_actual:-?} MiB;" \
	"after PUT /balloon 16: actual ${b_after:-?} MiB"

check $((net_before | net_after)) "pong before the snapshot: $([ $net_before = 0 ] && echo yes || echo no)," \
	"after the restore: $([ $net_after = 0 ] && echo yes || echo no)"
hvc_seen=$(tr '\n' ' ' <"$tmp/hvc.seen" 2>/dev/null)
if [ ${#VSOCK[@]} -eq 0 ]; then
	echo "ok - snapshot: ${TESTS[$done_tests]} # SKIP $vsock_why"
	done_tests=$((done_tests + 1))
else
	check $((vsock_before | vsock_after)) "echo before the snapshot: $vsock_before," \
		"after the restore: $vsock_after (0 is an answer); held: $(cat "$tmp/hold.out")"
fi
check $([[ $hvc_seen == "ok1 ok2 " ]]; echo $?) "echoed: ${hvc_seen:-nothing} (ok1: run 1, ok2: restored)"

# --- refusals through the CLI, before anything runs ---
refused() {	# refused FILE PATTERN [FLAGS...]: exit 2 and the message
	local file=$1 pattern=$2 rc
	shift 2
	timeout 30 "$KILN" run --restore "$file" "$@" </dev/null >"$tmp/ref.out" 2>"$tmp/ref.err"
	rc=$?
	refusal="exit $rc: $(head -n 2 "$tmp/ref.err")"
	echo "# $refusal"
	[ $rc -eq 2 ] && grep -q -- "$pattern" "$tmp/ref.err"
}
cp "$tmp/first.snap" "$tmp/bad.snap"
# One byte in the middle of guest memory, inverted.
byte=$(od -An -tu1 -j $((size / 2)) -N 1 "$tmp/first.snap" | tr -d ' ')
printf "\\x$(printf %02x $((255 - byte)))" |
	dd of="$tmp/bad.snap" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
cmp -s "$tmp/first.snap" "$tmp/bad.snap" && echo "# the corruption did not change the file"
refused "$tmp/bad.snap" "is corrupted (CRC mismatch)" --disk "$DISK" --rng --balloon --net user "${VSOCK[@]}" "${HVC[@]}"
check $? "$refusal"

head -c $((size / 3)) "$tmp/first.snap" >"$tmp/short.snap"
r1=0; refused "$tmp/short.snap" "the file is truncated" --disk "$DISK" --rng --balloon --net user "${VSOCK[@]}" "${HVC[@]}" || r1=1
d1=$refusal
r2=0; refused "$tmp/first.snap" "no device of this VM takes" --rng --balloon --net user "${VSOCK[@]}" "${HVC[@]}" || r2=1
d2=$refusal
check $((r1 | 0)) "$d1"

r3=0; refused "$tmp/first.snap" "the snapshot has 256 MiB of RAM, --mem says 512 MiB" \
	--mem 512M --disk "$DISK" --rng --balloon --net user "${VSOCK[@]}" "${HVC[@]}" || r3=1
check $((r2 | r3)) "without --disk: $d2" "--mem 512M: $refusal"

DEV=(--disk "$DISK" --rng --balloon --net user "${VSOCK[@]}" "${HVC[@]}")
r1=0; refused "$tmp/diff.snap" "it is a diff snapshot: restore the full snapshot it follows first" \
	"${DEV[@]}" || r1=1
d1=$refusal
r2=0; refused "$tmp/first.snap" "it is a full snapshot, where a diff was expected" \
	--restore "$tmp/first.snap" "${DEV[@]}" || r2=1
d2=$refusal
cp "$tmp/diff.snap" "$tmp/diff2.snap"
r3=0; refused "$tmp/first.snap" "this diff does not follow the snapshot before it" \
	--restore "$tmp/diff.snap" --restore "$tmp/diff2.snap" "${DEV[@]}" || r3=1
d3=$refusal
r4=0; refused "$tmp/first.snap" "it takes no --kernel or --initrd" \
	--kernel "$LINUX_GUEST/vmlinuz" "${DEV[@]}" || r4=1
check $((r1 | r2 | r3 | r4)) "diff alone: $d1" "full twice: $d2" "diff twice: $d3" "--kernel: $refusal"
