#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Boots the Debian cloud kernel with the project's busybox initramfs
# (tools/mkguest) on the soft engine, with 1, 2 and 4 vCPUs: the guest runs
# uname, counts its processors and prints /proc/interrupts, then powers off
# through ACPI. Checks the vCPU count, that the local timer ticks on every
# CPU, and that Kiln exits 0. Prints TAP.
#
# Environment: BUILD (default build), KILN (default $BUILD/kiln),
# LINUX_BOOT_ACCEL (default soft), LINUX_BOOT_LIMIT seconds per boot (300),
# LINUX_BOOT_CPUS the vCPU counts to boot with (default "1 2 4").
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
KILN=${KILN:-$BUILD/kiln}
ACCEL=${LINUX_BOOT_ACCEL:-soft}
LIMIT=${LINUX_BOOT_LIMIT:-300}
GUEST=$BUILD/guest
read -r -a CPU_COUNTS <<<"${LINUX_BOOT_CPUS:-1 2 4}"

tmp=$(mktemp -d)
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$tmp"' EXIT

skip_all() {
	for n in "${CPU_COUNTS[@]}"; do
		echo "ok - linux-boot: $n vCPU(s) # SKIP $1"
	done
	exit 0
}

[ -x "$KILN" ] || skip_all "no Kiln binary at $KILN"
if [ ! -s "$GUEST/vmlinuz" ] || [ ! -s "$GUEST/initramfs.cpio.gz" ]; then
	tools/mkguest "$GUEST" >"$tmp/mkguest.log" 2>&1 ||
		skip_all "tools/mkguest failed: $(tail -n 1 "$tmp/mkguest.log")"
fi

# The guest prints markers around each part so the checks read only the
# command's output, not the kernel log interleaved on the same console.
GUEST_CMD='echo @UNAME; uname -a; echo @NCPU; grep -c ^processor /proc/cpuinfo; echo @IRQ; cat /proc/interrupts; echo @END'

# section NAME FILE: the lines between @NAME and the next @ marker.
section() {
	awk -v want="@$1" '$0 == want { on = 1; next } /^@/ { on = 0 } on' "$2"
}

for n in "${CPU_COUNTS[@]}"; do
	out=$tmp/boot-$n.out
	start=$(date +%s%N)
	timeout --foreground -k 5 "$LIMIT" "$KILN" run --accel "$ACCEL" \
		--kernel "$GUEST/vmlinuz" --initrd "$GUEST/initramfs.cpio.gz" \
		--mem 256M --cpus "$n" \
		--cmdline "console=ttyS0 quiet -- sh -c \"$GUEST_CMD\"" \
		</dev/null >"$out" 2>"$tmp/boot-$n.err"
	rc=$?
	ms=$((($(date +%s%N) - start) / 1000000))
	sed -i 's/\r$//' "$out"
	echo "# $n vCPU(s): Kiln exited $rc after $((ms / 1000)).$(printf %03d $((ms % 1000)))s"

	problems=()
	[ "$rc" -eq 0 ] || problems+=("Kiln exited $rc, not 0 (124: timed out after ${LIMIT}s)")
	section UNAME "$out" | grep -q '^Linux .* x86_64' ||
		problems+=("no uname line")
	ncpu=$(section NCPU "$out" | head -n 1)
	[ "$ncpu" = "$n" ] || problems+=("the guest counts '$ncpu' processors, not $n")
	# The LOC row holds one local-timer count per CPU; each must be non-zero.
	loc=$(section IRQ "$out" | awk '$1 == "LOC:"')
	if [ -z "$loc" ]; then
		problems+=("no LOC row in /proc/interrupts")
	else
		echo "# $n vCPU(s): $loc"
		read -r -a counts <<<"${loc#LOC:}"
		for ((c = 0; c < n; c++)); do
			[[ "${counts[$c]:-0}" =~ ^[1-9][0-9]*$ ]] ||
				problems+=("CPU$c's local timer did not tick: $loc")
		done
	fi
	grep -q 'reboot: Power down' "$out" || problems+=("no ACPI power-down line")

	if [ ${#problems[@]} -eq 0 ]; then
		echo "ok - linux-boot: $n vCPU(s)"
	else
		echo "not ok - linux-boot: $n vCPU(s)"
		printf '#   %s\n' "${problems[@]}"
		tail -n 15 "$out" | sed 's/^/#   console: /'
		tail -n 5 "$tmp/boot-$n.err" | sed 's/^/#   stderr: /'
	fi
done
