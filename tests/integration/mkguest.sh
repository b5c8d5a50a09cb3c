#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# tools/mkguest: builds (or reuses) the guest in $BUILD/guest, checks what is
# in the initramfs and the module order /init uses, checks the sort on
# made-up modules, and boots the image once under QEMU TCG.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
guest=$BUILD/guest
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { echo "ok - $*"; }
not_ok() { echo "not ok - $*"; }
check() {	# NAME COMMAND...: ok when the command succeeds
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name"; fi
}

# The drivers the guest must carry (the task's list, in kernel module names).
WANTED="virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci
	failover net_failover virtio_blk virtio_net virtio_console virtio_balloon
	virtio_rng"

if ! tools/mkguest "$guest" >"$tmp/build.log" 2>&1; then
	sed 's/^/# /' "$tmp/build.log"
	not_ok "mkguest builds the guest"
	exit 1
fi
ok "mkguest builds the guest"
tools/mkguest "$guest" >"$tmp/again.log" 2>&1
check "a second run is cached" grep -q 'up to date.*nothing to do' "$tmp/again.log"
for f in vmlinuz initramfs.cpio.gz System.map info; do
	check "mkguest outputs $f" test -s "$guest/$f"
done
check "System.map holds the kernel's symbols" grep -q ' T start_kernel$' "$guest/System.map"
marker=$(sed -n 's/^marker=//p' "$guest/info")
check "info names the ready marker" test -n "$marker"

# The archive's first part is the tree; a second holds only dev/console.
mkdir "$tmp/root"
(cd "$tmp/root" && gzip -dc "$OLDPWD/$guest/initramfs.cpio.gz" |
	cpio -idm --quiet --no-absolute-filenames 2>/dev/null)
check "initramfs has an executable /init" test -x "$tmp/root/init"
check "initramfs has a static busybox" \
	bash -c "readelf -l '$tmp/root/bin/busybox' >'$tmp/phdr' && ! grep -q INTERP '$tmp/phdr'"
check "initramfs has /bin/sh -> busybox" test "$(readlink "$tmp/root/bin/sh")" = /bin/busybox
check "initramfs has the poweroff and insmod applets" \
	test -L "$tmp/root/sbin/poweroff" -a -L "$tmp/root/sbin/insmod"

# The module list from /init, as load order.
sed -n '/^modules="$/,/^"$/p' "$tmp/root/init" | grep '\.ko$' >"$tmp/order"
declare -A pos=() name_of=()
i=0
while read -r path; do
	name=$(modinfo -F name "$tmp/root$path" 2>/dev/null)
	name_of[$path]=$name
	pos[$name]=$i
	i=$((i + 1))
done <"$tmp/order"
for m in $WANTED; do
	check "initramfs has module $m, loaded by /init" test -n "${pos[$m]+x}"
done
bad=
while read -r path; do
	name=${name_of[$path]}
	for dep in $(modinfo -F depends "$tmp/root$path" | tr , ' '); do
		dep=${dep//-/_}
		if [ -z "${pos[$dep]+x}" ] || [ "${pos[$dep]}" -ge "${pos[$name]}" ]; then
			bad="$bad $name needs $dep first;"
		fi
	done
done <"$tmp/order"
[ -n "$bad" ] && echo "#$bad"
check "/init loads every module after its dependencies" test -z "$bad" -a -s "$tmp/order"

# The sort itself, on made-up modules: ELF objects with a .modinfo section.
fake_module() {	# NAME DEPENDS
	mkdir -p "$tmp/fake/kernel"
	printf 'const char modinfo[] __attribute__((section(".modinfo"))) = "name=%s\\0depends=%s";\n' \
		"$1" "$2" >"$tmp/fake/$1.c"
	gcc -c "$tmp/fake/$1.c" -o "$tmp/fake/kernel/$1.ko"
}
if command -v gcc >/dev/null; then
	fake_module top mid,base
	fake_module mid base
	fake_module base ""
	fake_module side ""
	fake_module loop_a loop_b
	fake_module loop_b loop_a
	order=$(tools/mkguest-lib/modorder "$tmp/fake" top side 2>&1 | cut -d' ' -f1 | tr '\n' ' ')
	# side needs nothing, so it goes first; top waits for base, then mid.
	check "modorder puts dependencies first and ties in list order" \
		test "$order" = "side base mid top "
	check "modorder refuses a dependency cycle" \
		bash -c "! tools/mkguest-lib/modorder '$tmp/fake' loop_a 2>'$tmp/cycle' &&
			 grep -q cycle '$tmp/cycle'"
	check "modorder refuses a missing module" \
		bash -c "! tools/mkguest-lib/modorder '$tmp/fake' nosuch 2>/dev/null"
else
	ok "modorder sorts made-up modules # SKIP gcc not installed"
fi

# One boot under QEMU TCG with every virtio device the modules drive.
if ! command -v qemu-system-x86_64 >/dev/null; then
	ok "guest boots under QEMU TCG # SKIP qemu-system-x86_64 not installed"
	exit 0
fi
truncate -s 8M "$tmp/disk.raw"
start=$(date +%s.%N)
timeout 60 qemu-system-x86_64 -accel tcg -cpu qemu64 -m 256 -nographic -no-reboot \
	-kernel "$guest/vmlinuz" -initrd "$guest/initramfs.cpio.gz" \
	-drive file="$tmp/disk.raw",format=raw,if=none,id=d0 -device virtio-blk-pci,drive=d0 \
	-netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
	-device virtio-rng-pci -device virtio-balloon-pci -device virtio-serial-pci \
	-append 'console=ttyS0 quiet -- sh -c "cat /proc/modules; ls /sys/bus/virtio/devices/*/driver -l"' \
	</dev/null >"$tmp/boot.log" 2>&1
rc=$?
end=$(date +%s.%N)
tr -d '\r' <"$tmp/boot.log" >"$tmp/boot.txt"
echo "# QEMU TCG boot and power-off: $(awk "BEGIN { printf \"%.2f\", $end - $start }") s, exit $rc"
# The firmware's escape sequences may precede the marker on its line.
check "guest prints $marker under QEMU TCG" grep -q "$marker\$" "$tmp/boot.txt"
check "guest had a console from the start" \
	bash -c "! grep -q 'unable to open an initial console' '$tmp/boot.txt'"
missing=
for m in $WANTED; do
	grep -q "^$m " "$tmp/boot.txt" || missing="$missing $m"
done
[ -n "$missing" ] && echo "# not loaded:$missing"
check "every module is loaded in the guest" test -z "$missing"
for d in virtio_blk virtio_net virtio_rng virtio_balloon virtio_console; do
	check "$d drives its QEMU device" grep -q "driver -> .*/drivers/$d\$" "$tmp/boot.txt"
done
check "the guest command ran and init powered off (QEMU exit 0)" \
	bash -c "[ $rc -eq 0 ] && grep -q 'exited with status 0' '$tmp/boot.txt'"
[ $rc -eq 0 ] || tail -20 "$tmp/boot.txt" | sed 's/^/# /'
