#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# virtio-net over a tap with a vnet header (segmentation and checksum
# offloads), with the real Linux guest (tools/mkguest) and its own driver,
# on the soft engine (tests/integration/linux-lib.sh). Prints TAP.
#
# A network namespace made for the test holds the tap, Kiln and a host
# program (python3): the host sends NET_TAP_MIB MiB of random bytes to the
# guest, which hashes them and sends them back; the host hashes what came
# back. Kiln's --stats must show TCP segments of more than one MTU both ways
# (tx_gso: the guest's, cut by the host's kernel; rx_gso: the host's, whole
# in merged receive buffers), so the offloads were used and not bypassed.
#
# Skipped, with the reason, unless root with iproute2, python3 and
# /dev/net/tun, or when Linux does not boot within LINUX_BOOT_LIMIT.
#
# Environment: BUILD (default build), KILN (default $BUILD/kiln),
# LINUX_VIRTIO_ACCEL (default soft), LINUX_BOOT_LIMIT (default 240),
# NET_TAP_MIB (default 4).
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
KILN=${KILN:-$BUILD/kiln}
. tests/integration/linux-lib.sh
MIB=${NET_TAP_MIB:-4}
INITRD=$LINUX_GUEST/initramfs.cpio.gz
NAME="linux-net-tap: $MIB MiB host -> guest -> host over a tap with a vnet header arrive intact (sha256 both ways), in GSO segments both ways"
TAP=ktap0
HOST_IP=192.168.77.1
GUEST_IP=192.168.77.2

tmp=$(mktemp -d)
linux_tmp=$tmp
ns=
helper=
cleanup() {
	[ -n "$linux_pid" ] && kill "$linux_pid" 2>/dev/null && wait "$linux_pid" 2>/dev/null
	[ -n "$helper" ] && kill "$helper" 2>/dev/null
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

echo "1..1"
skip() { echo "ok - $NAME # SKIP $1"; exit 0; }

why=$(linux_image_missing)
[ -z "$why" ] || skip "$why"
[ "$(id -u)" -eq 0 ] || skip "needs root, for a network namespace and a tap (uid $(id -u))"
command -v ip >/dev/null || skip "no ip command (iproute2)"
command -v python3 >/dev/null || skip "no python3"
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
ns=kiln-nettap-$$
if ! { ip netns add "$ns" && ip -n "$ns" link set lo up &&
       ip -n "$ns" tuntap add "$TAP" mode tap &&
       ip -n "$ns" addr add "$HOST_IP/24" dev "$TAP" &&
       ip -n "$ns" link set "$TAP" up; } 2>"$tmp/netns.log"; then
	skip "cannot set up a network namespace with a tap: $(grep -m1 . "$tmp/netns.log")"
fi

# Kiln runs in the namespace: ip netns exec execs it, so the pid is Kiln's.
cat >"$tmp/kiln" <<EOF
#!/bin/sh
exec ip netns exec $ns $(realpath "$KILN") "\$@"
EOF
chmod +x "$tmp/kiln"

ip netns exec "$ns" python3 tests/integration/net-bulk.py "$HOST_IP" 5001 5002 "$MIB" \
	"$tmp/bulk.result" &
helper=$!
sleep 0.3

KILN=$tmp/kiln linux_boot tap "$INITRD" "ip link set eth0 up; ip addr add $GUEST_IP/24 dev eth0; nc $HOST_IP 5001 > /tmp/got; sha256sum /tmp/got | sed 's/^/guest-sha: /'; nc $HOST_IP 5002 < /tmp/got; echo bulk-done" \
	--net "tap=$TAP" --stats
if ! linux_wait "$LINUX_MARKER" "$LINUX_LIMIT"; then
	linux_finish 1
	skip "$(linux_no_boot_reason)"
fi
linux_wait "^bulk-done" 900
linux_finish 60
for _ in $(seq 50); do [ -s "$tmp/bulk.result" ] && break; sleep 0.1; done
sent=$(sed -n 's/^sent //p' "$tmp/bulk.result" 2>/dev/null)
back=$(sed -n 's/^back //p' "$tmp/bulk.result" 2>/dev/null)
gsha=$(tr -d '\r' <"$tmp/tap.out" | sed -n 's/^guest-sha: \([0-9a-f]*\) .*/\1/p')
# --stats prints "virtio-net0: name=value name=value ...".
stat() { grep '^virtio-net0: ' "$tmp/tap.err" | grep -o " $1=[0-9]*" | cut -d= -f2 | tail -n 1; }
tx_gso=$(stat tx_gso)
rx_gso=$(stat rx_gso)
grep '^virtio-net0: ' "$tmp/tap.err" | sed 's/^/# /'
echo "# host -> guest -> host: $(sed -n 's/^took //p' "$tmp/bulk.result" 2>/dev/null)"
if [ -n "$sent" ] && [ "$gsha" = "$sent" ] && [ "$back" = "$sent $((MIB << 20))" ] &&
   [ "${tx_gso:-0}" -gt 0 ] && [ "${rx_gso:-0}" -gt 0 ] && [ "$linux_rc" -eq 0 ]; then
	echo "ok - $NAME"
else
	echo "not ok - $NAME"
	echo "#   host sent $sent; the guest got $gsha; the host got back $back; Kiln exited $linux_rc"
	tail -n 8 "$tmp/tap.out" "$tmp/tap.err" | sed 's/^/#   /'
fi
