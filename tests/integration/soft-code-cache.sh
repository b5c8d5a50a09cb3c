#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
#
# The soft engine's translated-code caches (docs/soft-engine.md, "How much
# memory the caches take") with the Linux test guest (tools/mkguest
# $BUILD/guest; skipped without it):
#
# 1. A 1 MiB limit (KILN_SOFT_CODE_CACHE_KB=1024), 2 vCPUs: the boot and a
#    SHA-256 of 1 MiB of zeros in the guest flush the caches hundreds of
#    times; the guest's digest must match the host's, the decoded blocks
#    and the compiled code must stay within 1 MiB, and Kiln must exit 0.
# 2. The default limit, 1 vCPU, an idle guest: Kiln's memory beyond guest
#    RAM at exit (--stats: rss_bytes - touched_bytes) must stay under
#    SOFT_CACHE_MAX_OVERHEAD_MIB (default 40; it was 69 MiB when the caches
#    were unbounded and compiled code was mapped twice). Skipped on a
#    sanitizer build.
#
# Environment: BUILD (default build), KILN (default $BUILD/kiln),
# LINUX_BOOT_LIMIT seconds per boot (default 300). Prints TAP.
set -u
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
KILN=${KILN:-$BUILD/kiln}
LIMIT=${LINUX_BOOT_LIMIT:-300}
MAX_OVERHEAD_MIB=${SOFT_CACHE_MAX_OVERHEAD_MIB:-40}
. tests/integration/linux-lib.sh
GUEST=$LINUX_GUEST

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

names=("soft-code-cache: Linux with a 1 MiB cache, 2 vCPUs" "soft-code-cache: idle Linux's memory beyond guest RAM")
why=$(linux_image_missing)
[ -x "$KILN" ] || why="no Kiln binary at $KILN"
if [ -n "$why" ]; then
	for n in "${names[@]}"; do
		echo "ok - $n # SKIP $why"
	done
	exit 0
fi

# boot NAME GUEST-COMMAND [KILN FLAGS...]: console and --stats in $tmp/NAME.out.
boot() {
	local name=$1 cmd=$2
	shift 2
	timeout --foreground -k 5 "$LIMIT" "$KILN" run --accel soft \
		--kernel "$GUEST/vmlinuz" --initrd "$GUEST/initramfs.cpio.gz" --mem 256M \
		--cmdline "console=ttyS0 quiet -- sh -c \"$cmd\"" --stats "$@" \
		</dev/null >"$tmp/$name.out" 2>&1
	rc=$?
	sed -i 's/\r$//' "$tmp/$name.out"
}
stat_of() {	# NAME KEY: the first KEY=value of the stats
	grep -o "\b$2=[0-9]*" "$tmp/$1.out" | head -n 1 | cut -d= -f2
}
report() {	# NAME TEXT PROBLEM...
	local name=$1 text=$2
	shift 2
	if [ $# -eq 0 ]; then
		echo "ok - $text"
	else
		echo "not ok - $text"
		printf '#   %s\n' "$@"
		tail -n 12 "$tmp/$name.out" | sed 's/^/#   output: /'
	fi
}

# 1. Many flushes, same answer.
want=$(head -c 1048576 /dev/zero | sha256sum | cut -d' ' -f1)
KILN_SOFT_CODE_CACHE_KB=1024 boot small 'head -c 1048576 /dev/zero | sha256sum' --cpus 2
problems=()
[ "$rc" -eq 0 ] || problems+=("Kiln exited $rc, not 0 (124: timed out after ${LIMIT}s)")
grep -q "^$want " "$tmp/small.out" || problems+=("the guest's SHA-256 is not the host's $want")
flushes=$(stat_of small full_flushes)
used=$(stat_of small bytes_used)
code=$(stat_of small code_bytes)
echo "# 1 MiB cache: full_flushes=${flushes:-?} bytes_used=${used:-?} code_bytes=${code:-?}"
[ "${flushes:-0}" -ge 100 ] || problems+=("only ${flushes:-no} full flushes, not 100 or more")
[ -n "$used" ] && [ "$used" -le 1048576 ] || problems+=("decoded blocks: ${used:-?} bytes, more than 1 MiB")
[ -n "$code" ] && [ "$code" -le 1048576 ] || problems+=("compiled code: ${code:-?} bytes, more than 1 MiB")
report small "${names[0]}" "${problems[@]}"

# 2. Memory at rest, with the default limit.
if grep -q -a __asan_init "$KILN"; then
	echo "ok - ${names[1]} # SKIP a sanitizer build: ASan's shadow memory and quarantine are in the RSS"
	exit 0
fi
boot idle 'sleep 2'
problems=()
[ "$rc" -eq 0 ] || problems+=("Kiln exited $rc, not 0 (124: timed out after ${LIMIT}s)")
rss=$(stat_of idle rss_bytes)
touched=$(stat_of idle touched_bytes)
if [ -z "$rss" ] || [ -z "$touched" ]; then
	problems+=("no rss_bytes or touched_bytes in --stats")
else
	over=$(((rss - touched) >> 20))
	echo "# idle: rss_bytes=$rss touched_bytes=$touched: $over MiB beyond guest RAM; $(grep -o 'full_flushes=[0-9]*' "$tmp/idle.out")"
	[ "$over" -le "$MAX_OVERHEAD_MIB" ] || problems+=("$over MiB beyond guest RAM, more than $MAX_OVERHEAD_MIB")
fi
report idle "${names[1]}" "${problems[@]}"
