# SPDX-License-Identifier: Apache-2.0
#
# Benchmark 7, the kvm engine's exit cost; sourced by bench/run. Kiln
# --accel kvm runs tests/guests/exit_loop.c, exits_n port writes between two
# lines on COM1 that bench/probe stamps; the reference is bench/kvm-raw.c,
# a bare KVM_RUN loop running the same three instructions, which times
# itself. Both give nanoseconds per exit: the time of one port-I/O round
# trip, guest to VMM and back, on this host.

na_group exits "benchmark 7 (kvm exit cost)" "the raw KVM_RUN loop (bench/kvm-raw)"
host_tool kvm-raw
exit_loop=$(cd "$BUILD" && pwd)/guests/exit_loop.elf
EXITS_TIMEOUT=120

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	not_available exits kiln "/dev/kvm is not usable"
	not_available exits qemu "/dev/kvm is not usable"
elif ! make -s -C tests/guests BUILD="${exit_loop%/*}" "$exit_loop" \
		>"$work/exit_loop.log" 2>&1; then
	not_available exits kiln "cannot build tests/guests/exit_loop.c: $(grep -m1 error "$work/exit_loop.log" || tail -1 "$work/exit_loop.log")"
fi
[ -x "$kiln" ] || not_available exits kiln "no Kiln binary at $kiln"

bench_exits() {	# SIDE I
	local side=$1 tag=exits-$1-$2 t
	[ -z "${na[exits.$side]:-}" ] || return 0
	if [ "$side" = kiln ]; then
		cmd=("$kiln" run --accel kvm --kernel "$exit_loop" --mem 64M --cmdline "exits.n=$exits_n")
		record_cmd exits.kiln
		run_probe "$tag" $EXITS_TIMEOUT --marker "start=exit_loop: start" \
			--marker "done=exit_loop: done"
		t=$(interval start done)
		if [ "${res[status]}" != "exit 1" ] || [ "$t" = none ]; then
			not_available exits kiln "exit_loop did not pass on --accel kvm: $(failure "$tag")"
			return 0
		fi
	else
		cmd=("$tools_dir/kvm-raw" "$exits_n")
		record_cmd exits.raw
		run_probe "$tag" $EXITS_TIMEOUT
		t=$(sed -n 's/^exits=[0-9]* seconds=\([0-9.]*\) .*/\1/p' "$work/$tag.log")
		if [ "${res[status]}" != "exit 0" ] || [ -z "$t" ]; then
			not_available exits qemu "kvm-raw failed: $(failure "$tag")"
			return 0
		fi
	fi
	add exits.ns "$side" "$(awk -v t="$t" -v n="$exits_n" 'BEGIN { printf "%.1f\n", t / n * 1e9 }')"
}

exits_rows() {
	row "7. kvm exit cost: one port-I/O exit, Kiln --accel kvm vs a raw KVM_RUN loop, $exits_n exits (ns)" exits.ns exits 1 %.0f
}

exits_how() {
	echo
	echo "Benchmark 7: Kiln \`--accel kvm\` runs tests/guests/exit_loop.c, whose loop is"
	echo "\`out %al, \$0x80; dec %rcx; jnz\` $exits_n times (port 0x80, which no Kiln device"
	echo "claims: the bus lookup and the exit accounting are all Kiln does); the time"
	echo "between its \"exit_loop: start\" and \"exit_loop: done\" lines over $exits_n. The"
	echo "reference, bench/kvm-raw.c, creates a VM with one 2 MiB memslot and one vCPU in"
	echo "64-bit mode, runs the same three instructions and counts the KVM_EXIT_IO exits"
	echo "to the HLT after them, timing the loop itself: the floor on this host."
}
