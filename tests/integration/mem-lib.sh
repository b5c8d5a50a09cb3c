# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the memory suites (tests/integration/mem-*.sh), not a suite
# itself (it is not executable, so tests/run passes it by). Runs
# tests/guests/mem_touch.c guests in the background and reads their memory
# figures from /proc and from Kiln's own --stats.
#
# The including suite sets SUITE (the TAP name prefix), may set
# GUEST_ACCEL (default kvm), and calls mem_setup first.

BUILD=${BUILD:-build}
KILN=${KILN:-$BUILD/kiln}
GUEST_ACCEL=${GUEST_ACCEL:-kvm}
MEM_TOUCH=$BUILD/guests/mem_touch.elf
TOUCH_TIMEOUT=${TOUCH_TIMEOUT:-60}

declare -A guest_pid=()
mem_tmp=
# Extra clean-up the suite adds (restoring sysctls): run on every exit.
mem_on_exit=()

mem_cleanup() {
	local name
	for name in "${!guest_pid[@]}"; do
		kill "${guest_pid[$name]}" 2>/dev/null
		wait "${guest_pid[$name]}" 2>/dev/null
	done
	for cmd in "${mem_on_exit[@]}"; do eval "$cmd"; done
	[ -n "$mem_tmp" ] && rm -rf "$mem_tmp"
}

mem_setup() {
	mem_tmp=$(mktemp -d)
	trap mem_cleanup EXIT
	trap 'exit 130' INT TERM HUP
}

ok() { echo "ok - $SUITE: $1"; }
not_ok() {
	echo "not ok - $SUITE: $1"
	shift
	local l
	for l in "$@"; do sed 's/^/#   /' <<<"$l"; done
}
skip() { echo "ok - $SUITE: $1 # SKIP $2"; }
note() { echo "#   $*"; }

# Why guests cannot run here, or nothing when they can.
guest_unavailable() {
	[ -x "$KILN" ] || { echo "$KILN is not built"; return; }
	[ -r "$MEM_TOUCH" ] || { echo "$MEM_TOUCH is not built (make guests)"; return; }
	"$KILN" run --accel "$GUEST_ACCEL" --kernel "$MEM_TOUCH" --mem 64M \
		--cmdline "touch.mib=0 touch.exit=1" </dev/null >"$mem_tmp/probe.out" \
		2>"$mem_tmp/probe.err"
	[ $? -eq 1 ] && return
	head -n 1 "$mem_tmp/probe.err"
}

# start_guest NAME KILN-RUN-ARGS...: a mem_touch guest in the background.
start_guest() {
	local name=$1
	shift
	"$KILN" run --accel "$GUEST_ACCEL" --kernel "$MEM_TOUCH" "$@" </dev/null \
		>"$mem_tmp/$name.out" 2>"$mem_tmp/$name.err" &
	guest_pid[$name]=$!
}

# wait_touched NAME: until the guest says it is done; 1 when it died or timed out.
wait_touched() {
	local name=$1 i
	for ((i = 0; i < TOUCH_TIMEOUT * 10; i++)); do
		grep -q "mem_touch: touched" "$mem_tmp/$name.out" 2>/dev/null && return 0
		kill -0 "${guest_pid[$name]}" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# stop_guest NAME: SIGTERM (Kiln prints --stats and exits 0); sets stop_rc.
# Not in a $(...): wait needs this shell, the guest's parent.
stop_guest() {
	local name=$1
	kill -TERM "${guest_pid[$name]}" 2>/dev/null
	wait "${guest_pid[$name]}" 2>/dev/null
	stop_rc=$?
	unset "guest_pid[$name]"
}

# What went wrong with a guest, for a not_ok.
guest_diag() {
	local name=$1
	echo "stdout: $(tail -n 3 "$mem_tmp/$name.out" 2>/dev/null)"
	echo "stderr: $(tail -n 5 "$mem_tmp/$name.err" 2>/dev/null)"
}

# Memory figures of a running guest, in KiB.
proc_kib() {	# PID FILE KEY
	awk -v k="$3:" '$1 == k { print $2; exit }' "/proc/$1/$2" 2>/dev/null
}
rss_kib() { proc_kib "${guest_pid[$1]}" status VmRSS; }
pss_kib() { proc_kib "${guest_pid[$1]}" smaps_rollup Pss; }
thp_kib() { proc_kib "${guest_pid[$1]}" smaps_rollup AnonHugePages; }
meminfo_kib() { awk -v k="$1:" '$1 == k { print $2; exit }' /proc/meminfo; }

# kstat NAME FIELD: a "memory" figure from the --stats Kiln printed at exit.
kstat() {
	sed -n "s/^memory:.* $2=\([0-9]*\).*/\1/p" "$mem_tmp/$1.err" | head -n 1
}

mib() { echo $(( $1 / 1024 )); }
