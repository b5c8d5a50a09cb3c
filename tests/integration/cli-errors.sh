#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# Bad input on the command line: each case must exit 2 with a message that
# names the problem, and never crash (a sanitizer build turns a crash or a
# leak into a different exit code and a report on stderr). Prints TAP.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
KILN=${KILN:-$BUILD/kiln}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -x "$KILN" ]; then
	echo "ok - cli-errors # SKIP no Kiln binary at $KILN"
	exit 0
fi

# A good kernel for the cases that are about other flags: a test guest when
# built, else any readable file (those cases fail before loading it).
KERNEL=$BUILD/guests/hello.elf
[ -s "$KERNEL" ] || KERNEL=/bin/sh

head -c 4096 /dev/urandom >"$tmp/garbage"
printf 'HdrS' >"$tmp/tiny"
# A bzImage cut short: the real header of a test guest's fake kernel, or a
# header-only file whose setup_sects promise more than it has.
if [ -s "$BUILD/guests/fake_kernel.bzImage" ]; then
	head -c 1024 "$BUILD/guests/fake_kernel.bzImage" >"$tmp/truncated"
else
	python3 - "$tmp/truncated" <<'PY'
import struct, sys
img = bytearray(1024)
img[0x1f1] = 4                      # setup_sects
img[0x1fe:0x200] = b"\x55\xaa"
img[0x202:0x206] = b"HdrS"
struct.pack_into("<H", img, 0x206, 0x020f)
open(sys.argv[1], "wb").write(img)
PY
fi

truncate -s 32M "$tmp/big.initrd"

# case NAME PATTERN ARGS...: kiln run ARGS must exit 2 and say PATTERN.
case_() {
	local name=$1 pattern=$2 out rc
	shift 2
	out=$("$KILN" run "$@" </dev/null 2>&1 >/dev/null)
	rc=$?
	if [ "$rc" -eq 2 ] && grep -qiE -- "$pattern" <<<"$out"; then
		echo "ok - cli-errors: $name"
	else
		echo "not ok - cli-errors: $name"
		echo "#   exit $rc (want 2), message must match /$pattern/:"
		sed 's/^/#   /' <<<"$out" | head -n 20
	fi
}

case_ "missing kernel" "no such file" --kernel "$tmp/none"
case_ "no --kernel at all" "--kernel is required"
case_ "kernel is a directory" "not a regular file" --kernel "$tmp"
case_ "garbage kernel" "kernel|format|magic|not a" --kernel "$tmp/garbage" --accel soft
case_ "four-byte kernel" "kernel|short|truncat|format" --kernel "$tmp/tiny" --accel soft
case_ "truncated bzImage" "truncat|short|beyond|past|end of" --kernel "$tmp/truncated" --accel soft
case_ "--mem 0" "mem" --kernel "$KERNEL" --mem 0
case_ "--mem 99T" "maximum|mem" --kernel "$KERNEL" --mem 99T
case_ "--mem garbage" "not a size" --kernel "$KERNEL" --mem lots
case_ "--cpus 0" "vCPU count" --kernel "$KERNEL" --cpus 0
case_ "--cpus 10000" "vCPU count" --kernel "$KERNEL" --cpus 10000
case_ "unknown flag" "unknown flag" --kernel "$KERNEL" --frobnicate
case_ "bad affinity string" "cpu-affinity" --kernel "$KERNEL" --cpus 2 --cpu-affinity 0:1
case_ "affinity for a vCPU that does not exist" "cpu-affinity" --kernel "$KERNEL" --cpu-affinity 3=0
case_ "unknown accelerator" "kvm, soft or auto" --kernel "$KERNEL" --accel xen
case_ "initrd bigger than RAM" "initrd|RAM|fit" --kernel "$KERNEL" --mem 16M --accel soft \
	--initrd "$tmp/big.initrd"
case_ "flag without its value" "needs a value" --kernel
