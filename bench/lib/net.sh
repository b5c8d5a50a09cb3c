# SPDX-License-Identifier: Apache-2.0
#
# Benchmark 6, virtio-net; sourced by bench/run, whose helpers it uses. The
# guest connects out to bench/netpeer on the host, with busybox nc: it sends
# net_mib MiB (guest → host), then receives as much (host → guest).
# netpeer times both on the host's clock. Over user networking (libslirp on
# both sides: the host is 10.0.2.2) and, when we are root, over a tap in a
# network namespace of our own, as a second NIC in the same boot. In that
# case the VMM and both netpeers run in the namespace (slirp's host side is
# the namespace's loopback), which leaves the host's own network alone.

na_group net "benchmark 6 (virtio-net over slirp)"
na_group tap "benchmark 6 (virtio-net over a tap)"
host_tool netpeer
net_bytes=$((net_mib << 20))
TAP_NAME=kbtap0
TAP_HOST=192.168.76.1
TAP_GUEST=192.168.76.2

tap_ns=
tap_setup() {
	local ns=kiln-bench-$$ why=
	if [ "$(id -u)" -ne 0 ]; then
		why="needs root, for a network namespace and a tap (uid $(id -u))"
	elif ! command -v ip >/dev/null; then
		why="no ip command (iproute2)"
	elif [ ! -c /dev/net/tun ]; then
		why="no /dev/net/tun"
	elif ! { ip netns add "$ns" &&
		 ip -n "$ns" link set lo up &&
		 ip -n "$ns" tuntap add "$TAP_NAME" mode tap &&
		 ip -n "$ns" addr add "$TAP_HOST/24" dev "$TAP_NAME" &&
		 ip -n "$ns" link set "$TAP_NAME" up; } 2>"$work/netns.log"; then
		why="cannot set up a network namespace with a tap: $(grep -m1 . "$work/netns.log")"
		ip netns del "$ns" 2>/dev/null || true
	fi
	if [ -n "$why" ]; then
		not_available tap kiln "$why"
		not_available tap qemu "$why"
		return
	fi
	tap_ns=$ns
	on_exit+=("ip netns del $ns")
}
tap_setup

devices_net() {	# SIDE
	local tap=
	[ -n "$tap_ns" ] && [ -z "${na[tap.$1]:-}" ] && tap=yes
	if [ "$1" = kiln ]; then
		cmd+=(--net user)
		[ -z "$tap" ] || cmd+=(--net "tap=$TAP_NAME")
	else
		cmd+=(-netdev user,id=n0 -device virtio-net-pci,netdev=n0)
		[ -z "$tap" ] || cmd+=(-netdev "tap,id=n1,ifname=$TAP_NAME,script=no,downscript=no"
				      -device virtio-net-pci,netdev=n1)
	fi
}

# One netpeer per network, in the background: peer_pid[NET], and its ports.
# Its output goes to $work/netpeer-NET-SIDE-I.{out,err}.
declare -A peer_pid=() peer_sink=() peer_source=()
start_netpeer() {	# NET ADDR SIDE I
	local out=$work/netpeer-$1-$3-$4.out line= k
	$net_prefix "$tools_dir/netpeer" --addr "$2" --timeout "$timeout" \
		"$net_bytes" "$net_bytes" >"$out" 2>"${out%.out}.err" &
	peer_pid[$1]=$!
	for ((k = 0; k < 100; k++)); do
		line=$(head -1 "$out" 2>/dev/null)
		[ -z "$line" ] || break
		sleep 0.05
	done
	[[ $line =~ ^sink_port=([0-9]+)\ source_port=([0-9]+)$ ]] || return 1
	peer_sink[$1]=${BASH_REMATCH[1]}
	peer_source[$1]=${BASH_REMATCH[2]}
}

# The guest's part for one network: configure the NIC, send, receive.
net_steps() {	# NET IFACE GUEST-IP HOST-IP
	echo -n " ip link set $2 up; ip addr add $3/24 dev $2;"
	echo -n " dd if=/dev/zero bs=64k count=$((net_bytes >> 16)) 2>/dev/null | nc $4 ${peer_sink[$1]};"
	echo -n " nc $4 ${peer_source[$1]} | wc -c | sed 's/^/net-rx-$1: /';"
}

# Checks one network's transfer after the run and adds its samples.
net_result() {	# NET SIDE I
	local net=$1 side=$2 out=$work/netpeer-$1-$2-$3.out got line kv group=net
	local -A r=()
	[ "$net" = user ] || group=$net
	while read -r line; do
		for kv in $line; do r[${kv%%=*}]=${kv#*=}; done
	done <"$out"
	got=$(tr -d '\r' <"$work/net-$side-$3.log" | sed -n "s/^net-rx-$net: \([0-9]*\)$/\1/p" | tail -1)
	if [ "${r[rx_bytes]:-0}" != "$net_bytes" ] || [ "${r[tx_bytes]:-0}" != "$net_bytes" ] ||
	   [ "$got" != "$net_bytes" ]; then
		run_failed "$group" "$side" "over $net, $net_bytes bytes each way: the host got ${r[rx_bytes]:-none}, sent ${r[tx_bytes]:-none}, the guest got ${got:-none}; $(grep -m1 . "${out%.out}.err" || failure "net-$side-$3")"
		return
	fi
	run_ok "$group" "$side"
	add "net.$net.g2h" "$side" "$(mb_per_s "$net_bytes" "${r[rx_s]}")"
	add "net.$net.h2g" "$side" "$(mb_per_s "$net_bytes" "${r[tx_s]}")"
}

bench_net() {	# SIDE I
	local side=$1 nets=() net steps booted
	skipped net "$side" && return 0
	net_prefix=${tap_ns:+ip netns exec $tap_ns}
	start_netpeer user 127.0.0.1 "$side" "$2" || { run_failed net "$side" "netpeer did not start"; return 0; }
	nets=(user)
	steps=$(net_steps user eth0 10.0.2.15 10.0.2.2)
	if [ -n "$tap_ns" ] && [ -z "${na[tap.$side]:-}" ]; then
		if start_netpeer tap "$TAP_HOST" "$side" "$2"; then
			nets+=(tap)
			steps+=$(net_steps tap eth1 "$TAP_GUEST" "$TAP_HOST")
		else
			run_failed tap "$side" "netpeer did not start in $tap_ns"
		fi
	fi
	cmdline[net]="$CMDLINE_BASE -- sh -c \"$steps\""
	cmd_prefix=$net_prefix
	booted=yes
	if ! boot_linux net net "$side" "$2"; then
		booted=
		[ ${#nets[@]} -eq 1 ] || run_failed tap "$side" "${failed_runs[-1]#*: }"
	fi
	cmd_prefix=
	for net in "${nets[@]}"; do
		# Done by now, unless the guest never finished with it.
		kill "${peer_pid[$net]}" 2>/dev/null || true
		wait "${peer_pid[$net]}" 2>/dev/null || true
		[ -z "$booted" ] || net_result "$net" "$side" "$2"
	done
}

net_rows() {
	local net what group
	for net in user tap; do
		what=slirp group=net
		[ $net = user ] || what=tap group=tap
		row "6. virtio-net, $what: guest → host TCP, $net_mib MiB (MB/s, higher is better)" "net.$net.g2h" $group 1 %.2f
		row "6. virtio-net, $what: host → guest TCP, $net_mib MiB (MB/s, higher is better)" "net.$net.h2g" $group 1 %.2f
	done
}

net_how() {
	echo
	echo "Benchmark 6: the guest (eth0 on user networking, eth1 on the tap) pipes"
	echo "\`dd if=/dev/zero bs=64k\` into busybox \`nc\` to bench/netpeer on the host, which"
	echo "times the $net_mib MiB from its first byte to its last; then the guest runs \`nc\`"
	echo "to netpeer's second port, which sends $net_mib MiB, shuts its side down and times"
	echo "from the connection to the guest's close; the guest's \`wc -c\` checks the count."
	echo "Slirp is libslirp on both sides (Kiln \`--net user\`, QEMU \`-netdev user\`); the"
	echo "tap is in a network namespace made for the run (the VMM and netpeer run in it,"
	echo "via \`ip netns exec\`), host $TAP_HOST, guest $TAP_GUEST; both VMMs open the tap"
	echo "with a vnet header and offer the guest checksum and TCP segmentation offloads"
	echo "both ways. The ports in the commands below were that run's: each run starts"
	echo "netpeer afresh."
}
