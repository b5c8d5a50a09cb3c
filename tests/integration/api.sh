#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The control API against a running guest, with curl as the client
# (docs/API.md). The guest is tests/guests/api_counter.c: it prints
# "tick N" every 100 ms and powers off when the ACPI power button is
# pressed. Prints TAP.
#
# Environment: BUILD (default build), KILN (default $BUILD/kiln),
# API_ACCEL (default kvm); the balloon case boots the Linux guest on
# LINUX_VIRTIO_ACCEL (default soft, see linux-lib.sh).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
KILN=${KILN:-$BUILD/kiln}
ACCEL=${API_ACCEL:-kvm}
GUEST=$BUILD/guests/api_counter.elf

tmp=$(mktemp -d)
kiln_pid=
linux_tmp=$tmp
. tests/integration/linux-lib.sh	# the balloon case boots the Linux guest
cleanup() {
	[ -n "$kiln_pid" ] && kill "$kiln_pid" 2>/dev/null && wait "$kiln_pid" 2>/dev/null
	[ -n "$linux_pid" ] && kill "$linux_pid" 2>/dev/null && wait "$linux_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
# A runtime directory of our own, so that kiln list sees only this VM.
export XDG_RUNTIME_DIR=$tmp/run
mkdir -m 700 "$XDG_RUNTIME_DIR"
sock=$tmp/api.sock out=$tmp/stdout err=$tmp/stderr

TESTS=(
	"socket is private and registered"
	"GET /vm: Running, with the config"
	"kiln list shows the VM"
	"pause: the guest's counter stands still for 2 s"
	"resume: the counter moves again"
	"GET /stats: the exit counters move"
	"GET /metrics: valid exposition format"
	"kiln ctl: human and --json output, server errors"
	"404 for an unknown path"
	"405 with Allow for a bad method"
	"400 for malformed JSON"
	"400 naming the field: wrong value, wrong type, out of range"
	"413 for a body over 64 KiB"
	"a silent client does not stop another from being served"
	"balloon: RSS follows the balloon"
	"SendCtrlAltDel: the Linux guest reboots, Kiln exits 4"
	"Reset: Kiln exits 4 and removes its socket"
	"Shutdown: the guest powers off, Kiln exits 0"
)
done_tests=0
ok() { echo "ok - api: $1"; done_tests=$((done_tests + 1)); }
not_ok() {
	echo "not ok - api: $1"
	shift
	for l in "$@"; do sed 's/^/#   /' <<<"$l"; done
	done_tests=$((done_tests + 1))
}
skip() { echo "ok - api: $1 # SKIP $2"; done_tests=$((done_tests + 1)); }
skip_rest() {
	for ((i = done_tests; i < ${#TESTS[@]}; i++)); do
		echo "ok - api: ${TESTS[$i]} # SKIP $1"
	done
	exit 0
}
check() {	# check NAME CONDITION-STATUS DIAGNOSTICS...
	local name=$1 status=$2
	shift 2
	if [ "$status" -eq 0 ]; then ok "$name"; else not_ok "$name" "$@"; fi
}

command -v curl >/dev/null || skip_rest "curl is not installed (tools/install-deps)"
[ -x "$KILN" ] || skip_rest "no Kiln binary at $KILN"
[ -f "$GUEST" ] || skip_rest "no guest at $GUEST (make guests)"

# api METHOD PATH [BODY]: the response's status on the first line, then the body.
api() {
	local args=(-s --max-time 10 --unix-socket "$sock" -X "$1" -w '\n%{http_code}')
	[ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data-binary "$3")
	curl "${args[@]}" "http://localhost$2" >"$tmp/resp" 2>"$tmp/curl.err"
	status=$(tail -n 1 "$tmp/resp")
	body=$(sed '$d' "$tmp/resp")
}

ticks() { grep -c '^tick ' "$out"; }
json_num() { grep -o "\"$1\": [0-9]*" <<<"$2" | head -n 1 | grep -o '[0-9]*$'; }

# start_kiln: boots the guest with the API on $sock; skips everything when it cannot.
start_kiln() {
	rm -f "$sock"
	"$KILN" run --accel "$ACCEL" --kernel "$GUEST" --api-sock "$sock" \
		</dev/null >"$out" 2>"$err" &
	kiln_pid=$!
	for _ in $(seq 100); do
		[ -S "$sock" ] && grep -q '^tick ' "$out" && return 0
		if ! kill -0 "$kiln_pid" 2>/dev/null; then
			wait "$kiln_pid"
			kiln_pid=
			skip_rest "kiln run --accel $ACCEL cannot run here: $(head -c 200 "$err" | tr '\n' ' ')"
		fi
		sleep 0.1
	done
	skip_rest "the guest printed no tick within 10 s on $ACCEL"
}

# wait_exit: waits up to 15 s for Kiln to exit; sets rc (124 on time-out).
wait_exit() {
	for _ in $(seq 150); do
		kill -0 "$kiln_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$kiln_pid" 2>/dev/null; then
		kill "$kiln_pid"
		wait "$kiln_pid"
		rc=124
	else
		wait "$kiln_pid"
		rc=$?
	fi
	kiln_pid=
}

start_kiln
entry=$XDG_RUNTIME_DIR/kiln/$kiln_pid.sock

# 1: 0600, and <runtime dir>/<pid>.sock leads to it.
mode=$(stat -c %a "$sock")
[ "$mode" = 600 ] && [ "$(readlink "$entry")" = "$(realpath "$sock")" ]
check "${TESTS[0]}" $? "mode $mode, $entry -> $(readlink "$entry")"

# 2
api GET /vm
[ "$status" = 200 ] && grep -q '"state": "Running"' <<<"$body" &&
	grep -q '"vcpus": 1' <<<"$body" && grep -q '"mem_mib": 512' <<<"$body"
check "${TESTS[1]}" $? "HTTP $status" "$body"

# 3
list=$("$KILN" list 2>&1)
grep -Eq "^$kiln_pid +$ACCEL +1 +512 MiB +Running +$(realpath "$sock")\$" <<<"$list"
check "${TESTS[2]}" $? "$list"

# 4: the first sample a moment after the answer, for output already on its way.
api PATCH /vm '{"state": "Paused"}'
pause_status=$status
sleep 0.2
before=$(ticks)
sleep 2
after=$(ticks)
api GET /vm
[ "$pause_status" = 204 ] && [ "$before" -eq "$after" ] && grep -q '"state": "Paused"' <<<"$body"
check "${TESTS[3]}" $? "PATCH: HTTP $pause_status; ticks $before -> $after; $body"

# 5
api PATCH /vm '{"state": "Resumed"}'
resume_status=$status
sleep 1
resumed=$(ticks)
api GET /vm
[ "$resume_status" = 204 ] && [ "$resumed" -gt "$after" ] &&
	grep -q '"state": "Running"' <<<"$body"
check "${TESTS[4]}" $? "PATCH: HTTP $resume_status; ticks $after -> $resumed"

# 6: the guest polls the PM timer, so port-I/O exits keep coming.
api GET /stats
io1=$(json_num exits_io "$body")
rss=$(json_num rss_bytes "$body")
sleep 0.5
api GET /stats
io2=$(json_num exits_io "$body")
[ "$status" = 200 ] && [ -n "$io1" ] && [ -n "$io2" ] && [ "$io2" -gt "$io1" ] &&
	[ -n "$rss" ] && [ "$rss" -gt 0 ] && grep -q '"ram_bytes": 536870912' <<<"$body"
check "${TESTS[5]}" $? "exits_io $io1 -> $io2, rss_bytes $rss"

# 7: each family once, in one block; every sample "name{labels} integer".
curl -s --max-time 10 --unix-socket "$sock" -D "$tmp/metrics.head" \
	http://localhost/metrics >"$tmp/metrics"
bad=$(awk '
	/^# TYPE / {
		if ($3 in seen) { print "family twice: " $3; next }
		seen[$3] = 1; family = $3
		if ($4 !~ /^(counter|gauge|untyped)$/) print "bad type: " $0
		next
	}
	/^#/ { next }
	{
		if ($0 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? [0-9]+$/)
			print "bad line: " $0
		name = $0; sub(/[{ ].*/, "", name)
		if (name != family) print "outside its family: " $0
	}' "$tmp/metrics")
[ -s "$tmp/metrics" ] && [ -z "$bad" ] &&
	grep -Eq '^kiln_vcpu_exits_total\{vcpu="0",reason="io"\} [1-9]' "$tmp/metrics" &&
	grep -q '^kiln_host_mem_rss_bytes ' "$tmp/metrics" &&
	grep -qi '^Content-Type: text/plain; version=0.0.4' "$tmp/metrics.head"
check "${TESTS[6]}" $? "$bad" "$(head -n 5 "$tmp/metrics")"

# 8
info=$("$KILN" ctl --sock "$sock" info)
json=$("$KILN" ctl --sock "$sock" --json info)
version=$("$KILN" ctl --sock "$sock" version)
"$KILN" ctl --sock "$sock" balloon 999999 >/dev/null 2>"$tmp/ctl.err"
ctl_rc=$?
"$KILN" ctl --sock "$tmp/nonexistent.sock" info >/dev/null 2>&1
gone_rc=$?
grep -q '^state: *Running' <<<"$info" && grep -q '^memory: *512 MiB' <<<"$info" &&
	grep -q '"state": "Running"' <<<"$json" && [ "$version" = "$("$KILN" version)" ] &&
	[ "$ctl_rc" -eq 1 ] && grep -q 'amount_mib.*out of range.*(HTTP 400)' "$tmp/ctl.err" &&
	[ "$gone_rc" -eq 1 ]
check "${TESTS[7]}" $? "$info" "version: $version" "balloon 999999: rc $ctl_rc $(cat "$tmp/ctl.err")" \
	"unreachable socket: rc $gone_rc"

# 9
api GET /nope
[ "$status" = 404 ] && grep -q '"error"' <<<"$body"
check "${TESTS[8]}" $? "HTTP $status $body"

# 10
curl -s --max-time 10 --unix-socket "$sock" -X DELETE -D "$tmp/head" -o /dev/null http://localhost/vm
grep -q '^HTTP/1.1 405' "$tmp/head" && grep -qi '^Allow: GET, PATCH' "$tmp/head"
check "${TESTS[9]}" $? "$(cat "$tmp/head")"

# 11
api PATCH /vm '{"state": "Paused"'
s1=$status b1=$body
api PUT /actions '["Reset"]'
[ "$s1" = 400 ] && grep -q 'malformed JSON' <<<"$b1" && [ "$status" = 400 ]
check "${TESTS[10]}" $? "HTTP $s1 $b1" "HTTP $status $body"

# 12
api PATCH /vm '{"state": "Frozen"}'
s1=$status b1=$body
api PUT /actions '{"action_type": 3}'
s2=$status b2=$body
api PUT /balloon '{"amount_mib": -1}'
[ "$s1" = 400 ] && grep -q '"field": "state"' <<<"$b1" &&
	[ "$s2" = 400 ] && grep -q '"field": "action_type"' <<<"$b2" &&
	[ "$status" = 400 ] && grep -q '"field": "amount_mib"' <<<"$body"
check "${TESTS[11]}" $? "$b1" "$b2" "$body"

# 13
head -c 70000 /dev/zero | tr '\0' ' ' >"$tmp/big"
code=$(curl -s --max-time 10 --unix-socket "$sock" -X PUT -H 'Content-Type: application/json' \
	--data-binary @"$tmp/big" -o "$tmp/big.resp" -w '%{http_code}' http://localhost/balloon)
[ "$code" = 413 ] && grep -q '"error"' "$tmp/big.resp"
check "${TESTS[12]}" $? "HTTP $code $(cat "$tmp/big.resp")"

# 14: curl's telnet:// connects and sends only its stdin, here nothing.
(sleep 8 | curl -s --max-time 10 --unix-socket "$sock" telnet://localhost >"$tmp/silent" 2>&1) &
silent=$!
sleep 0.5
t0=$(date +%s%N)
api GET /version
t1=$(date +%s%N)
wait "$silent"
ms=$(( (t1 - t0) / 1000000 ))
[ "$status" = 200 ] && [ "$ms" -lt 1000 ] && grep -q '^HTTP/1.1 408' "$tmp/silent"
check "${TESTS[13]}" $? "served in ${ms} ms: HTTP $status" "silent client got: $(head -n 1 "$tmp/silent")"

# 15: api_counter has no balloon; the Linux guest has a driver (linux-lib.sh).
api PUT /balloon '{"amount_mib": 64}'
no_balloon="HTTP $status $body"
why=$(linux_image_missing)
if [ -n "$why" ]; then
	skip "${TESTS[14]}" "$why"
else
	linux_balloon "$tmp/balloon.sock"
	rc=$?
	if [ $rc -eq 2 ]; then
		skip "${TESTS[14]}" "$linux_balloon_diag"
	else
		[ $rc -eq 0 ] && [ "$status" = 400 ] && grep -q 'no balloon device' <<<"$body"
		check "${TESTS[14]}" $? "$linux_balloon_diag" "$(linux_console 4)" \
			"without a balloon: $no_balloon"
	fi
fi

# 16: api_counter does not read the keyboard; Linux reboots on Ctrl-Alt-Del.
if [ -n "$(linux_image_missing)" ]; then
	skip "${TESTS[15]}" "$(linux_image_missing)"
else
	linux_ctrl_alt_del "$tmp/cad.sock"
	rc=$?
	if [ $rc -eq 2 ]; then
		skip "${TESTS[15]}" "$linux_cad_diag"
	else
		check "${TESTS[15]}" $rc "$linux_cad_diag" "$(linux_console 4)"
	fi
fi

# 17
api PUT /actions '{"action_type": "Reset"}'
reset_status=$status
wait_exit
[ "$reset_status" = 204 ] && [ "$rc" -eq 4 ] && [ ! -e "$sock" ] && [ ! -L "$entry" ]
check "${TESTS[16]}" $? "HTTP $reset_status, exit $rc" "$(tail -n 3 "$err")"

# 18
start_kiln
api PUT /actions '{"action_type": "Shutdown"}'
if [ "$status" = 400 ] && grep -q 'not supported' <<<"$body"; then
	skip "${TESTS[17]}" "$(grep -o '"error": "[^"]*"' <<<"$body")"
	kill "$kiln_pid"
	wait "$kiln_pid"
	kiln_pid=
	exit 0
fi
shutdown_status=$status
wait_exit
[ "$shutdown_status" = 204 ] && [ "$rc" -eq 0 ] && grep -q 'power button: powering off' "$out"
check "${TESTS[17]}" $? "HTTP $shutdown_status, exit $rc" "$(tail -n 2 "$out")" "$(tail -n 3 "$err")"
