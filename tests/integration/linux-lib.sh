# SPDX-License-Identifier: Apache-2.0
#
# Sourced by the suites that boot the Linux test guest (tools/mkguest):
# linux-virtio.sh and api.sh. Not a suite itself (it is not executable).
#
# The including script sets BUILD and KILN, and linux_tmp (a directory it
# removes), and kills $linux_pid on exit. Environment: LINUX_VIRTIO_ACCEL
# (default soft), LINUX_BOOT_LIMIT (seconds to the ready marker, default 240).

LINUX_ACCEL=${LINUX_VIRTIO_ACCEL:-soft}
LINUX_LIMIT=${LINUX_BOOT_LIMIT:-240}
LINUX_GUEST=$BUILD/guest
LINUX_MARKER=KILN-GUEST-READY
linux_pid=
linux_name=
linux_rc=0

# Why the guest image is not there, or nothing.
linux_image_missing() {
	[ -s "$LINUX_GUEST/vmlinuz" ] && [ -s "$LINUX_GUEST/initramfs.cpio.gz" ] && return
	echo "no guest image in $LINUX_GUEST (tools/mkguest $LINUX_GUEST)"
}

# linux_boot NAME INITRD GUEST-COMMAND [KILN FLAGS...]: starts Kiln in the
# background, console in $linux_tmp/NAME.out. The command runs under sh -c
# on the guest; the kernel strips double quotes, so it must hold none.
linux_boot() {
	local name=$1 initrd=$2 cmd=$3
	shift 3
	: >"$linux_tmp/$name.out"
	"$KILN" run --accel "$LINUX_ACCEL" --kernel "$LINUX_GUEST/vmlinuz" --initrd "$initrd" \
		--mem 256M --cmdline "console=ttyS0 quiet -- sh -c \"$cmd\"" "$@" \
		</dev/null >"$linux_tmp/$name.out" 2>"$linux_tmp/$name.err" &
	linux_pid=$!
	linux_name=$name
}

# linux_wait PATTERN SECONDS: until the console shows PATTERN; 1 when Kiln
# exits first or time runs out.
linux_wait() {
	local i out=$linux_tmp/$linux_name.out
	for ((i = 0; i < $2 * 10; i++)); do
		grep -q -- "$1" "$out" && return 0
		kill -0 "$linux_pid" 2>/dev/null || { grep -q -- "$1" "$out"; return; }
		sleep 0.1
	done
	return 1
}

# linux_finish SECONDS: waits for the guest to power off, else stops Kiln
# with SIGTERM, which it handles; sets linux_rc, Kiln's exit code (0 either
# way, unless something went wrong: a sanitizer report exits 1).
linux_finish() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		kill -0 "$linux_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill "$linux_pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$linux_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$linux_pid" 2>/dev/null	# SIGTERM ignored for 10 s: not a clean exit
	wait "$linux_pid"
	linux_rc=$?
	linux_pid=
	sed -i 's/\r$//' "$linux_tmp/$linux_name.out"	# the serial console's CRLF
}

# linux_vsock_initrd DIR: builds DIR/vsock-initrd.gz, the guest's initramfs
# plus the vsock modules from the guest's kernel package (in /lib/vsock) and
# the static helper tests/integration/linux-virtio-vsock.c (kiln-vsock).
# Prints why and returns 1 when it cannot.
linux_vsock_initrd() {
	local dir=$1 kdir=$1/kernel ov=$1/overlay deb f m
	deb=$(ls "$LINUX_GUEST"/debs/linux-image-*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || { echo "no kernel package in $LINUX_GUEST/debs"; return 1; }
	mkdir -p "$kdir" "$ov/bin" "$ov/lib/vsock"
	dpkg-deb -x "$deb" "$kdir" || return 1
	for m in vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport; do
		f=$(find "$kdir/lib/modules" -name "$m.ko*" | head -n 1)
		[ -n "$f" ] || { echo "the kernel package has no $m module"; return 1; }
		case $f in
		*.ko) cp "$f" "$ov/lib/vsock/$m.ko" ;;
		*.ko.xz) xz -dc "$f" >"$ov/lib/vsock/$m.ko" ;;
		*.ko.zst) zstd -qdc "$f" >"$ov/lib/vsock/$m.ko" ;;
		*) echo "unknown module compression: $f"; return 1 ;;
		esac
	done
	${CC:-gcc} -static -O2 -o "$ov/bin/kiln-vsock" tests/integration/linux-virtio-vsock.c ||
		{ echo "cannot build the static vsock helper"; return 1; }
	# The kernel unpacks concatenated archives in turn.
	(cd "$ov" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) | gzip -n >"$dir/overlay.cpio.gz"
	cat "$LINUX_GUEST/initramfs.cpio.gz" "$dir/overlay.cpio.gz" >"$dir/vsock-initrd.gz"
}

# The guest command that loads the vsock modules of linux_vsock_initrd.
LINUX_VSOCK_INSMOD='for m in vsock vmw_vsock_virtio_transport_common vmw_vsock_virtio_transport; do insmod /lib/vsock/$m.ko; done; '

# How the last run ended, for diagnostics: exit code and its last messages.
linux_exit() { echo "Kiln exited $linux_rc; stderr: $(grep -v '^$' "$linux_tmp/$linux_name.err" | tail -n 3)"; }

# The last N lines the guest printed, kernel messages left out.
linux_console() { grep -v '^\[' "$linux_tmp/$linux_name.out" | tail -n "${1:-8}"; }

# Why the last boot did not reach the marker: its exit and first error.
linux_no_boot_reason() {
	local why
	why=$(grep -h -m 1 -i 'error\|fault\|panic' "$linux_tmp/$linux_name.err" \
		"$linux_tmp/$linux_name.out" | cut -c1-160)
	echo "Kiln cannot boot Linux on $LINUX_ACCEL yet: no $LINUX_MARKER within" \
		"$LINUX_LIMIT s (exit $linux_rc${why:+: $why})"
}

linux_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$linux_pid/status"; }

# linux_balloon SOCK: boots the guest with a balloon and the API on SOCK,
# has it touch 150 MiB and free it, inflates the balloon by 64 MiB through
# PUT /balloon and measures Kiln's RSS. Sets linux_balloon_diag and
# linux_balloon_stats (GET /balloon/statistics at the end). Returns 0 when
# actual_mib reached 64 and RSS fell by 48 MiB or more, 2 when the guest did
# not boot (the reason in linux_balloon_diag), 1 otherwise.
linux_balloon() {
	local sock=$1 rss0 rss1 actual=0 drop
	linux_balloon_stats=
	linux_boot balloon "$LINUX_GUEST/initramfs.cpio.gz" \
		"dd if=/dev/zero of=/tmp/fill bs=1M count=150 2>/dev/null; rm /tmp/fill; echo filled; sleep 300" \
		--balloon --api-sock "$sock"
	if ! linux_wait "^filled" "$LINUX_LIMIT"; then
		linux_finish 0
		linux_balloon_diag=$(linux_no_boot_reason)
		grep -q "$LINUX_MARKER" "$linux_tmp/balloon.out" || return 2
		linux_balloon_diag="the guest did not finish filling its memory: $(linux_console 3)"
		return 1
	fi
	rss0=$(linux_rss_kib)
	curl -s --max-time 10 --unix-socket "$sock" -X PUT -d '{"amount_mib": 64}' \
		http://localhost/balloon >/dev/null
	for _ in $(seq 120); do
		linux_balloon_stats=$(curl -s --max-time 10 --unix-socket "$sock" \
			http://localhost/balloon/statistics)
		actual=$(grep -o '"actual_mib": [0-9]*' <<<"$linux_balloon_stats" | grep -o '[0-9]*$')
		[ "${actual:-0}" -ge 64 ] && break
		sleep 0.5
	done
	rss1=$(linux_rss_kib)
	linux_finish 0		# the guest's init sleeps; nothing there handles the power button
	drop=$(((${rss0:-0} - ${rss1:-0}) / 1024))
	linux_balloon_diag="actual ${actual:-?} MiB, RSS ${rss0:-?} -> ${rss1:-?} KiB (${drop} MiB less); $(linux_exit)"
	[ "${actual:-0}" -ge 64 ] && [ "$drop" -ge 48 ] && [ "$linux_rc" -eq 0 ]
}

# linux_ctrl_alt_del SOCK: boots the guest with the API on SOCK, presses
# Ctrl-Alt-Del through PUT /actions and waits: Linux reboots on it, and
# Kiln exits 4. Sets linux_cad_diag. Returns 0 on exit 4, 2 when the guest
# did not boot, 1 otherwise.
linux_ctrl_alt_del() {
	local sock=$1 status
	linux_boot cad "$LINUX_GUEST/initramfs.cpio.gz" "sleep 300" --api-sock "$sock"
	if ! linux_wait "$LINUX_MARKER" "$LINUX_LIMIT"; then
		linux_finish 0
		linux_cad_diag=$(linux_no_boot_reason)
		return 2
	fi
	status=$(curl -s --max-time 10 --unix-socket "$sock" -X PUT -o /dev/null -w '%{http_code}' \
		-d '{"action_type": "SendCtrlAltDel"}' http://localhost/actions)
	linux_finish 60
	linux_cad_diag="HTTP $status; $(linux_exit)"
	[ "$status" = 204 ] && [ "$linux_rc" -eq 4 ]
}
