# SPDX-License-Identifier: Apache-2.0
#
# Benchmark 8, scale; sourced by bench/run. The Linux guest booted as in
# benchmark 1 (command `true`) with more guest RAM or more vCPUs: the time
# to the ready marker, and the VMM's RSS at that moment. The 256M, 1-vCPU
# figures are benchmark 1's own runs, which bench/run interleaves with
# these. bench/mem-scale does the same across RAM sizes for the kvm engine
# (with a freestanding guest), and measures KSM.

# RAM-vCPUs; RAM as Kiln's --mem takes it.
scale_configs=(2G-1 16G-1 256M-2 256M-4)
scale_label() {	# CONFIG
	local cpus=${1#*-}
	echo "${1%-*} RAM, $cpus vCPU$([ "$cpus" -eq 1 ] || echo s)"
}
for config in "${scale_configs[@]}"; do
	na_group "scale-$config" "benchmark 8 ($(scale_label "$config"))"
	cmdline[scale-$config]=${cmdline[boot]}
done

mib_of() {	# SIZE: 256M, 16G
	case $1 in
	*G) echo $((${1%G} << 10)) ;;
	*M) echo "${1%M}" ;;
	esac
}

bench_scale() {	# CONFIG SIDE I
	local config=$1 side=$2
	skipped "scale-$config" "$side" && return 0
	vm_mib=$(mib_of "${config%-*}") vm_cpus=${config#*-}
	if boot_linux "scale-$config" "scale-$config" "$side" "$3" --sample-on "$marker" \
		--ram $((vm_mib << 20)); then
		add_scale_sample "$config" "$side"
	fi
	vm_mib=$GUEST_MIB vm_cpus=1
}

# The last run's time to the marker, and its RSS there with and without
# the guest RAM touched: what the guest costs and what the VMM does.
add_scale_sample() {	# CONFIG SIDE
	local rss=${res[rss_kib]} ram=${res[ram_rss_kib]}
	add "scale.$1.ready" "$2" "${res[t_ready]}"
	[ "$rss" != none ] || return 0
	add "scale.$1.rss" "$2" "$rss"
	[ "$ram" = none ] || add "scale.$1.overhead" "$2" $((rss - ram))
}

scale_rows() {
	local config group
	for config in "${GUEST_MIB}M-1" "${scale_configs[@]}"; do
		group=scale-$config
		[ "$config" != "${GUEST_MIB}M-1" ] || group=linux
		row "8. scale, $(scale_label "$config"): start → \`$marker\` (s)" "scale.$config.ready" "$group" 1 %.2f
		row "8. scale, $(scale_label "$config"): RSS at \`$marker\` (MiB)" "scale.$config.rss" "$group" "$MiB" %.1f
		row "8. scale, $(scale_label "$config"): RSS − guest RAM touched, at \`$marker\` (MiB)" "scale.$config.overhead" "$group" "$MiB" %.1f
	done
}

scale_how() {
	echo
	echo "Benchmark 8 boots the guest as benchmark 1 does (\`-- true\`), with 256M, 2G or"
	echo "16G of RAM and 1, 2 or 4 vCPUs (Kiln \`--mem\`, \`--cpus\`; QEMU \`-m\`, \`-smp\`,"
	echo "multi-threaded TCG), and samples the VMM's VmRSS when the ready marker appears,"
	echo "with and without the resident part of its guest RAM mapping: a guest with more"
	echo "RAM touches more of it (Linux initialises a struct page per 4 KiB page)."
	echo "The ${GUEST_MIB}M, 1-vCPU rows are benchmark 1's runs: each pair runs every"
	echo "configuration in turn, so that the host's load weighs on all alike. With 4"
	echo "vCPUs on a 2-core host, vCPUs share cores."
}
