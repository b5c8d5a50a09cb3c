#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# virtio-net (slirp), virtio-blk, virtio-balloon, virtio-vsock, virtio-rng and hvc0
# with the real Linux guest (tools/mkguest) and its own drivers, on the
# soft engine (tests/integration/linux-lib.sh). Prints TAP.
#
# The first boot is also the probe: when Linux does not reach the guest's
# ready marker within LINUX_BOOT_LIMIT seconds, every case is skipped with
# that reason, so the suite runs as soon as the engine can boot Linux.
#
# Environment: BUILD (default build), KILN (default $BUILD/kiln),
# LINUX_VIRTIO_ACCEL (default soft), LINUX_BOOT_LIMIT (default 240).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
KILN=${KILN:-$BUILD/kiln}
. tests/integration/linux-lib.sh

TESTS=(
	"rng: /dev/hwrng yields random bytes"
	"console: hvc0 echoes through a unix socket"
	"net: the guest gets 10.0.2.15 from slirp's DHCP"
	"net: the guest fetches a page from a server on the host's loopback (10.0.2.2)"
	"net: the host reaches a guest listener through hostfwd"
	"net: 4 MiB host -> guest -> host through slirp arrive intact (sha256 both ways; checksum offloads, TSO, MTU 16384)"
	"blk: the guest reads an 8 MiB image intact (1 MiB and 4 KiB O_DIRECT) and writes it back (copy + flush)"
	"balloon: inflating by 64 MiB lowers Kiln's RSS by at least 48 MiB"
	"balloon: the guest's statistics reach GET /balloon/statistics"
	"vsock: the guest connects to CID 2 and gets an answer (PATH_P)"
	"vsock: a host program connects to the guest (CONNECT P) and gets an answer"
)

tmp=$(mktemp -d)
linux_tmp=$tmp
helpers=()
cleanup() {
	[ -n "$linux_pid" ] && kill "$linux_pid" 2>/dev/null && wait "$linux_pid" 2>/dev/null
	for p in "${helpers[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT

done_tests=0
ok() { echo "ok - linux-virtio: $1"; done_tests=$((done_tests + 1)); }
not_ok() {
	echo "not ok - linux-virtio: $1"
	shift
	for l in "$@"; do sed 's/^/#   /' <<<"$l"; done
	done_tests=$((done_tests + 1))
}
skip() { echo "ok - linux-virtio: $1 # SKIP $2"; done_tests=$((done_tests + 1)); }
skip_rest() {
	for ((i = done_tests; i < ${#TESTS[@]}; i++)); do
		echo "ok - linux-virtio: ${TESTS[$i]} # SKIP $1"
	done
	exit 0
}
check() {	# check INDEX CONDITION-STATUS DIAGNOSTICS...
	local name=${TESTS[$1]} status=$2
	shift 2
	if [ "$status" -eq 0 ]; then ok "$name"; else not_ok "$name" "$@"; fi
}

[ -x "$KILN" ] || skip_rest "no Kiln binary at $KILN"
command -v python3 >/dev/null || skip_rest "python3 is not installed (the host-side helpers)"
if [ -n "$(linux_image_missing)" ]; then
	tools/mkguest "$LINUX_GUEST" >"$tmp/mkguest.log" 2>&1 ||
		skip_rest "$(linux_image_missing), and tools/mkguest failed: $(tail -n 1 "$tmp/mkguest.log")"
fi

# A run in the background on the host; killed at exit.
bg_helper() { "$@" & helpers+=($!); }

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

INITRD=$LINUX_GUEST/initramfs.cpio.gz

# --- 1, 2: rng and hvc0; the first boot is the probe ---

# hvc0's host side: Kiln connects to this socket; we answer the guest's line.
cat >"$tmp/hvc.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1); s.settimeout(600)
c, _ = s.accept()
data = b""
while b"ping-hvc" not in data:
    d = c.recv(256)
    if not d:
        sys.exit(1)
    data += d
c.sendall(b"pong-hvc\n")
open(sys.argv[2], "wb").write(data)
while c.recv(256):
    pass
EOF
bg_helper python3 "$tmp/hvc.py" "$tmp/hvc.sock" "$tmp/hvc.seen"
for _ in $(seq 50); do [ -S "$tmp/hvc.sock" ] && break; sleep 0.1; done
start=$(date +%s)
linux_boot probe "$INITRD" "head -c 64 /dev/hwrng | od -An -v -tx1 | tr -d ' ' | sed 's/^/rng: /'; cat /sys/class/misc/hw_random/rng_current; exec 3<>/dev/hvc0; stty raw -echo <&3; echo ping-hvc >&3; read -t 30 line <&3; echo hvc-got:\$line" \
	--rng --virtio-console "socket=$tmp/hvc.sock"
if ! linux_wait "$LINUX_MARKER" "$LINUX_LIMIT"; then
	linux_finish 1
	skip_rest "$(linux_no_boot_reason)"
fi
echo "# Linux reached $LINUX_MARKER on $LINUX_ACCEL in $(($(date +%s) - start)) s"
linux_wait "hvc-got:" 60
linux_finish 60
rng_lines=$(grep -c '^rng: [0-9a-f]\{32\}$' "$tmp/probe.out")
distinct=$(grep '^rng: ' "$tmp/probe.out" | sort -u | wc -l)
[ "$rng_lines" -eq 4 ] && [ "$distinct" -eq 4 ] && grep -q '^virtio_rng' "$tmp/probe.out" &&
	! grep -q '^rng: 0\{32\}$' "$tmp/probe.out" && [ "$linux_rc" -eq 0 ]
check 0 $? "$(linux_console 10)" "$(linux_exit)"
grep -q '^hvc-got:pong-hvc' "$tmp/probe.out" && grep -q 'ping-hvc' "$tmp/hvc.seen" 2>/dev/null
check 1 $? "$(linux_console 4)" "host saw: $(cat "$tmp/hvc.seen" 2>/dev/null)"

# --- 3, 4, 5: virtio-net over slirp ---

page="kiln-page-$RANDOM$RANDOM"
web_port=$(free_port)
fwd_port=$(free_port)
cat >"$tmp/web.py" <<'EOF'
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(4); s.settimeout(600)
while True:
    c, _ = s.accept()
    c.settimeout(30)
    try:
        c.recv(1024)
        body = sys.argv[2].encode() + b"\n"
        c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    except OSError:
        pass
    c.close()
EOF
bg_helper python3 "$tmp/web.py" "$web_port" "$page"
gmark="kiln-guest-$RANDOM$RANDOM"
linux_boot net "$INITRD" "ip link set eth0 up; udhcpc -i eth0 -n -q -t 10 -s /bin/true 2>&1 | sed 's/^/dhcp: /'; ip addr add 10.0.2.15/24 dev eth0; ip route add default via 10.0.2.2; echo GET / | nc -w 20 10.0.2.2 $web_port | sed 's/^/fetched: /'; echo listening; echo $gmark | nc -l -p 8080 > /dev/null; echo served" \
	--net "user,hostfwd=tcp:127.0.0.1:$fwd_port-:8080"
linux_wait "^listening" "$LINUX_LIMIT"
got=
for _ in $(seq 100); do
	got=$(python3 - "$fwd_port" <<'EOF' 2>/dev/null
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
print(c.makefile().readline().strip())
EOF
)
	[ -n "$got" ] && break
	sleep 0.2
done
linux_finish 60
grep -q '^dhcp: .*lease of 10.0.2.15 obtained' "$tmp/net.out" && [ "$linux_rc" -eq 0 ]
check 2 $? "$(linux_console 6)" "$(linux_exit)"
grep -q "^fetched: $page" "$tmp/net.out"
check 3 $? "$(linux_console 6)"
[ "$got" = "$gmark" ]
check 4 $? "host read '$got', expected '$gmark'" "$(linux_console 4)"

# --- 6: a bulk transfer each way, checked end to end ---
# The host serves random bytes; the guest hashes what it got and sends it
# back; the host hashes what came back. This runs the checksum offloads
# (NEEDS_CSUM filled in on the host, DATA_VALID on receive), 16 KiB frames
# and the guest's TSO segments of up to 64 KiB, passed to slirp whole (Kiln's
# --stats must count some: tx_gso), where a wrong sum or a lost segment
# would show.
src_port=$(free_port)
snk_port=$(free_port)
bg_helper python3 tests/integration/net-bulk.py 127.0.0.1 "$src_port" "$snk_port" 4 \
	"$tmp/bulk.result"
sleep 0.3
linux_boot bulk "$INITRD" "ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0; cat /sys/class/net/eth0/mtu | sed 's/^/mtu: /'; nc 10.0.2.2 $src_port > /tmp/got; sha256sum /tmp/got | sed 's/^/guest-sha: /'; nc 10.0.2.2 $snk_port < /tmp/got; echo bulk-done" \
	--net user --stats
linux_wait "^bulk-done" "$LINUX_LIMIT"
linux_finish 60
for _ in $(seq 50); do [ -s "$tmp/bulk.result" ] && break; sleep 0.1; done
sent=$(sed -n 's/^sent //p' "$tmp/bulk.result" 2>/dev/null)
back=$(sed -n 's/^back //p' "$tmp/bulk.result" 2>/dev/null)
gsha=$(tr -d '\r' <"$tmp/bulk.out" | sed -n 's/^guest-sha: \([0-9a-f]*\) .*/\1/p')
tx_gso=$(grep '^virtio-net0: ' "$tmp/bulk.err" | grep -o ' tx_gso=[0-9]*' | cut -d= -f2)
echo "# slirp bulk: tx_gso=${tx_gso:-?}"
[ -n "$sent" ] && [ "$gsha" = "$sent" ] && [ "$back" = "$sent $((4 << 20))" ] &&
	grep -q '^mtu: 16384' "$tmp/bulk.out" && [ "${tx_gso:-0}" -gt 0 ] && [ "$linux_rc" -eq 0 ]
check 5 $? "host sent $sent; the guest got $gsha; the host got back $back; tx_gso ${tx_gso:-none}" "$(linux_console 6)"

# --- 7: virtio-blk, read and written through the guest's own driver ---
# An 8 MiB image of random bytes: the guest hashes it whole in 1 MiB and in
# 4 KiB O_DIRECT reads (2048 requests one at a time), then copies its first
# half over its second with O_DIRECT writes and a flush. The host checks
# both hashes and the image afterwards.
head -c $((8 << 20)) /dev/urandom >"$tmp/disk.img"
img_sha=$(sha256sum "$tmp/disk.img" | cut -d' ' -f1)
half_sha=$(head -c $((4 << 20)) "$tmp/disk.img" | sha256sum | cut -d' ' -f1)
linux_boot blk "$INITRD" "dd if=/dev/vda bs=1M iflag=direct 2>/dev/null | sha256sum | sed 's/^/big-sha: /'; dd if=/dev/vda bs=4k iflag=direct 2>/dev/null | sha256sum | sed 's/^/small-sha: /'; dd if=/dev/vda of=/dev/vda bs=1M count=4 seek=4 iflag=direct oflag=direct conv=fsync 2>/dev/null && echo copied" \
	--disk "$tmp/disk.img"
linux_wait "^copied" "$LINUX_LIMIT"
linux_finish 60
big=$(sed -n 's/^big-sha: \([0-9a-f]*\) .*/\1/p' "$tmp/blk.out")
small=$(sed -n 's/^small-sha: \([0-9a-f]*\) .*/\1/p' "$tmp/blk.out")
second=$(tail -c $((4 << 20)) "$tmp/disk.img" | sha256sum | cut -d' ' -f1)
[ "$big" = "$img_sha" ] && [ "$small" = "$img_sha" ] && [ "$second" = "$half_sha" ] &&
	grep -q '^copied' "$tmp/blk.out" && [ "$linux_rc" -eq 0 ]
check 6 $? "image $img_sha; the guest read $big (1 MiB) and $small (4 KiB); second half $second, first $half_sha" "$(linux_console 6)"

# --- 8, 9: the balloon through the control API ---

if ! command -v curl >/dev/null; then
	skip "${TESTS[7]}" "curl is not installed"
	skip "${TESTS[8]}" "curl is not installed"
else
	linux_balloon "$tmp/api.sock"
	check 7 $? "$linux_balloon_diag" "$(linux_console 4)"
	echo "# balloon: $linux_balloon_diag"
	total=$(grep -o '"total_memory": [0-9]*' <<<"$linux_balloon_stats" | grep -o '[0-9]*$')
	[ "${total:-0}" -gt $((100 * 1024 * 1024)) ] && grep -q '"free_memory"' <<<"$linux_balloon_stats"
	check 8 $? "$linux_balloon_stats"
fi

# --- 10, 11: vsock, with a static helper and the vsock modules added to the initramfs ---

if ! why=$(linux_vsock_initrd "$tmp" 2>&1); then
	skip "${TESTS[9]}" "$why"
	skip "${TESTS[10]}" "$why"
	exit 0
fi
uds=$tmp/v.sock
cat >"$tmp/vsock-host.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1); s.settimeout(600)
c, _ = s.accept()
data = b""
while not data.endswith(b"\n"):
    d = c.recv(256)
    if not d:
        break
    data += d
c.sendall(b"host-answers:" + data)
c.close()
EOF
bg_helper python3 "$tmp/vsock-host.py" "${uds}_5000"
vmsg="hello-$RANDOM"
linux_boot vsock "$tmp/vsock-initrd.gz" "${LINUX_VSOCK_INSMOD}kiln-vsock connect 2 5000 $vmsg; kiln-vsock echo 6000" \
	--vsock "cid=3,uds=$uds"
linux_wait "^vsock-listening" "$LINUX_LIMIT"
reply=
for _ in $(seq 50); do
	reply=$(python3 - "$uds" <<'EOF' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(b"CONNECT 6000\n")
f = s.makefile("rb")
ok = f.readline()
if not ok.startswith(b"OK "):
    sys.exit(1)
s.sendall(b"from-the-host\n")
s.shutdown(socket.SHUT_WR)
print(ok.decode().strip(), f.readline().decode().strip())
EOF
)
	[ -n "$reply" ] && break
	sleep 0.2
done
linux_finish 60
grep -q "^vsock-reply: host-answers:$vmsg" "$tmp/vsock.out" && [ "$linux_rc" -eq 0 ]
check 9 $? "$(linux_console 6)" "$(linux_exit)"
[[ "$reply" =~ ^OK\ [0-9]+\ FROM-THE-HOST$ ]] && grep -q '^vsock-echo-done' "$tmp/vsock.out"
check 10 $? "host got: '$reply'" "$(linux_console 6)"
