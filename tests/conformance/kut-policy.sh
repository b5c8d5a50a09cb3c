# SPDX-License-Identifier: Apache-2.0
#
# What each unittests.cfg entry means for a target: the command to run, or
# why it is skipped. Sourced by the conformance runner.
#
# kut_plan TARGET NAME FILE SMP PARAMS ARGS ARCH GROUPS ACCEL CHECK
#   TARGET: soft or kvm (Kiln's engines), or tcg (QEMU with TCG).
# Sets PLAN_SKIP (the reason, or empty), PLAN_MEM (guest RAM), PLAN_NOTE
# (what was mapped or ignored, for the table), PLAN_KILN_ARGS (Kiln flags
# for the cfg's devices) and PLAN_QEMU_PARAMS (the cfg's own QEMU options,
# for tcg). QEMU's -cpu has no Kiln equivalent: a
# Kiln guest always sees its engine's CPUID, and tests probe it themselves.

KUT_DEFAULT_MEM=128M	# QEMU's default, which the suite's x86/run relies on

kut_has_word() {
	local w

	for w in $2; do
		[ "$w" = "$1" ] && return 0
	done
	return 1
}

# The suite's "check = /path=value ..." host conditions.
kut_check_host() {
	local c path want

	for c in $1; do
		path=${c%%=*}
		want=${c#*=}
		if [ ! -r "$path" ] || [ "$(cat "$path")" != "$want" ]; then
			PLAN_SKIP="host check: $path is not $want"
			return 1
		fi
	done
}

# -cpu MODEL[,+feat,-feat,key=val]: only what Kiln cannot be asked for matters.
kut_map_cpu() {
	local v=$1

	case ",$v," in
	*,+vmx,*|*,+svm,*) kut_lacks "nested virtualization (VMX/SVM)" ;;
	*,hv_*) kut_lacks "Hyper-V enlightenments" ;;
	*,phys-bits=*) kut_lacks "a CPU model with a chosen MAXPHYADDR ($v)" ;;
	*) PLAN_NOTE+="-cpu $v: Kiln's CPUID; " ;;
	esac
}

kut_map_machine() {
	local opt

	for opt in ${1//,/ }; do
		case $opt in
		# Only intel_iommu asks for q35, for its VT-d unit: it uses port 0xcf8
		# configuration and the registers at q35's address, which Kiln has.
		q35) PLAN_NOTE+="q35: Kiln's machine (no MMCONFIG, no DMAR table); " ;;
		vmport=on) kut_lacks "the VMware backdoor port" ;;
		pit=off) PLAN_NOTE+="pit=off: PIT kept, unprogrammed; " ;;
		kernel-irqchip=*|accel=*) ;;
		*) kut_lacks "machine option $opt" ;;
		esac
	done
}

kut_map_device() {
	local target=$1 dev=${2%%,*} opts=""

	[ "$dev" != "$2" ] && opts=${2#*,}
	case $dev in
	pc-testdev|pci-testdev|isa-debug-exit) ;;	# --testdev and the debug-exit port
	edu) PLAN_KILN_ARGS+=" --device edu" ;;
	intel-iommu)
		# kvm's in-kernel IOAPIC cannot hand remappable entries to Kiln's VT-d.
		if [ "$target" = kvm ] && [[ ",$opts," == *,intremap=on,* ]]; then
			kut_lacks "interrupt remapping on kvm (in-kernel IOAPIC)"
		fi
		PLAN_KILN_ARGS+=" --iommu intel${opts:+,$opts}" ;;
	hyperv-testdev) kut_lacks "Hyper-V enlightenments" ;;
	*) kut_lacks "-device $dev" ;;
	esac
}

# Adds to the list of what Kiln does not model; any entry skips the test.
kut_lacks() {
	case ", ${PLAN_SKIP#not modelled: }," in *", $1,"*) return ;; esac
	if [ -z "$PLAN_SKIP" ]; then
		PLAN_SKIP="not modelled: $1"
	else
		PLAN_SKIP+=", $1"
	fi
}

# Maps the cfg's QEMU options onto Kiln; sets PLAN_SKIP for what it cannot.
kut_map_params() {
	local target=$1 params=$2 opt
	local -a p

	read -ra p <<<"$params"
	set -- "${p[@]}"
	while [ $# -gt 0 ]; do
		opt=$1
		shift
		case $opt in
		-cpu) kut_map_cpu "$1"; shift ;;
		-m) PLAN_MEM=${1^^}; shift ;;
		-M|-machine) kut_map_machine "$1"; shift ;;
		-device) kut_map_device "$target" "$1"; shift ;;
		-enable-kvm) [ "$target" != kvm ] && kut_lacks "-enable-kvm on the soft engine" ;;
		-overcommit|-global) PLAN_NOTE+="$opt $1 ignored; "; shift ;;
		*) kut_lacks "QEMU option $opt" ;;
		esac
	done
	[ -z "$PLAN_SKIP" ]
}

kut_plan() {
	local target=$1 name=$2 file=$3 smp=$4 params=$5 args=$6 arch=$7 groups=$8
	local accel=$9 check=${10}

	PLAN_SKIP="" PLAN_NOTE="" PLAN_MEM=$KUT_DEFAULT_MEM PLAN_QEMU_PARAMS="" PLAN_KILN_ARGS=""
	[ "$params" = - ] && params=""
	if [ "$arch" = i386 ]; then
		PLAN_SKIP="i386 only (the suite is built for x86_64)"
	elif kut_has_word nodefault "$groups"; then
		PLAN_SKIP="group nodefault: the suite runs it only on request"
	elif [ "$accel" = kvm ] && [ "$target" != kvm ]; then
		PLAN_SKIP="accel = kvm only"
	elif [ ! -f "$KUT_DIR/x86/$file" ]; then
		PLAN_SKIP="x86/$file was not built"
	fi
	[ -n "$PLAN_SKIP" ] && return
	if [ "$target" = tcg ]; then
		# QEMU gets the cfg's options verbatim, as the suite's x86/run does.
		PLAN_QEMU_PARAMS=$params
		# The cfg's -enable-kvm overrides accel=tcg: QEMU then runs on KVM.
		kut_has_word -enable-kvm "$params" && PLAN_NOTE="-enable-kvm in the cfg: QEMU ran it on KVM"
		[ "$check" != - ] && kut_check_host "$check"
		return
	fi
	if kut_has_word pmu "$groups"; then
		PLAN_SKIP="not modelled: the PMU"
		return
	fi
	# A skipped test needs only its reason.
	kut_map_params "$target" "$params" || { PLAN_NOTE=""; return; }
	# The cfg's host checks are KVM module parameters: they matter on kvm only.
	[ "$target" = kvm ] && [ "$check" != - ] && kut_check_host "$check"
	PLAN_NOTE=${PLAN_NOTE%; }
}
