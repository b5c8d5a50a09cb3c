# SPDX-License-Identifier: Apache-2.0
#
# Benchmark 7, the kvm engine's exit cost; sourced by bench/run. Kiln
# --accel kvm runs tests/guests/exit_loop.c, exits_n port writes between two
# lines on COM1 that bench/probe stamps; the reference is bench/kvm-raw.c,
# a bare KVM_RUN loop running the same three instructions, which times
# itself. Both give nanoseconds per exit: the time of one port-I/O round
# trip, guest to VMM and back, on this host. kvm-raw --irqchip is the same
# loop in a VM with what Kiln's VMs have and the bare loop lacks, an
# in-kernel irqchip and PIT: between the two floors, KVM's own share of
# the difference; between it and Kiln, Kiln's.

na_group exits "benchmark 7 (kvm exit cost)" "the raw KVM_RUN loop (bench/kvm-raw)"
na_group exits_irqchip "benchmark 7 (kvm exit cost, with an irqchip)" \
	"the raw KVM_RUN loop with an irqchip (bench/kvm-raw --irqchip)"
# Kiln's runs serve both rows: why they failed goes to both.
exits_not_available() {	# SIDE REASON
	not_available exits "$1" "$2"
	not_available exits_irqchip "$1" "$2"
}
exits_run_failed() {	# SIDE REASON
	run_failed exits "$1" "$2"
	run_failed exits_irqchip "$1" "$2"
}
host_tool kvm-raw
exit_loop=$(cd "$BUILD" && pwd)/guests/exit_loop.elf
EXITS_TIMEOUT=120

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	exits_not_available kiln "/dev/kvm is not usable"
	exits_not_available qemu "/dev/kvm is not usable"
elif ! make -s -C tests/guests BUILD="${exit_loop%/*}" "$exit_loop" \
		>"$work/exit_loop.log" 2>&1; then
	exits_not_available kiln "cannot build tests/guests/exit_loop.c: $(grep -m1 error "$work/exit_loop.log" || tail -1 "$work/exit_loop.log")"
fi
[ -x "$kiln" ] || exits_not_available kiln "no Kiln binary at $kiln"

bench_exits() {	# SIDE I
	local side=$1 tag=exits-$1-$2 t
	if [ "$side" = kiln ]; then
		[ -z "${na[exits.kiln]:-}" ] || return 0
		cmd=("$kiln" run --accel kvm --kernel "$exit_loop" --mem 64M --cmdline "exits.n=$exits_n")
		record_cmd exits.kiln
		run_probe "$tag" $EXITS_TIMEOUT --marker "start=exit_loop: start" \
			--marker "done=exit_loop: done"
		t=$(interval start done)
		if [ "${res[status]}" != "exit 1" ] || [ "$t" = none ]; then
			exits_run_failed kiln "exit_loop did not pass on --accel kvm: $(failure "$tag")"
			return 0
		fi
		run_ok exits kiln
		run_ok exits_irqchip kiln
		add exits.ns kiln "$(ns_per_exit "$t")"
		add exits_irqchip.ns kiln "$(ns_per_exit "$t")"
	else
		[ -n "${na[exits.qemu]:-}" ] || ! raw_loop exits "$tag" ||
			add exits.ns qemu "$(ns_per_exit "$t")"
		[ -n "${na[exits_irqchip.qemu]:-}" ] || ! raw_loop exits_irqchip "$tag-irqchip" --irqchip ||
			add exits_irqchip.ns qemu "$(ns_per_exit "$t")"
	fi
}
ns_per_exit() { awk -v t="$1" -v n="$exits_n" 'BEGIN { printf "%.1f\n", t / n * 1e9 }'; }

# Runs kvm-raw; t is the loop's seconds, by its own clock.
raw_loop() {	# GROUP TAG [--irqchip]
	local group=$1 tag=$2
	shift 2
	cmd=("$tools_dir/kvm-raw" "$@" "$exits_n")
	record_cmd "$group.raw"
	run_probe "$tag" $EXITS_TIMEOUT
	t=$(sed -n 's/^exits=[0-9]* seconds=\([0-9.]*\) .*/\1/p' "$work/$tag.log")
	if [ "${res[status]}" != "exit 0" ] || [ -z "$t" ]; then
		run_failed "$group" qemu "kvm-raw $* failed: $(failure "$tag")"
		return 1
	fi
	run_ok "$group" qemu
}

exits_rows() {
	row "7. kvm exit cost: one port-I/O exit, Kiln --accel kvm vs a raw KVM_RUN loop, $exits_n exits (ns)" exits.ns exits 1 %.0f
	row "7. kvm exit cost: the same, the raw loop's VM with an in-kernel irqchip and PIT as Kiln's has (ns)" exits_irqchip.ns exits_irqchip 1 %.0f
}

exits_how() {
	echo
	echo "Benchmark 7: Kiln \`--accel kvm\` runs tests/guests/exit_loop.c, whose loop is"
	echo "\`out %al, \$0x80; dec %rcx; jnz\` $exits_n times (port 0x80, which no Kiln device"
	echo "claims: the bus lookup and the exit accounting are all Kiln does); the time"
	echo "between its \"exit_loop: start\" and \"exit_loop: done\" lines over $exits_n. The"
	echo "reference, bench/kvm-raw.c, creates a VM with one 2 MiB memslot and one vCPU in"
	echo "64-bit mode, runs the same three instructions and counts the KVM_EXIT_IO exits"
	echo "to an \`out\` to port 0x81 after them, timing the loop itself: the floor on"
	echo "this host. The second row's floor, \`kvm-raw --irqchip\`, first creates what"
	echo "Kiln's kvm engine gives every VM, an in-kernel irqchip (KVM_CREATE_IRQCHIP) and"
	echo "PIT (KVM_CREATE_PIT2); the Kiln column is the same runs as in the first row."
}
