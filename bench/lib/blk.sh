# SPDX-License-Identifier: Apache-2.0
#
# Benchmark 5, virtio-blk; sourced by bench/run, whose helpers it uses
# (boot_linux, interval, add, row, not_available). In the Linux guest:
# busybox dd writes the whole disk with O_DIRECT and a final flush
# (conv=fsync), reads it back with O_DIRECT, then bench/guests/randread.c
# reads 4 KiB blocks at random offsets, one at a time (queue depth 1), for
# randread_s seconds. Both VMMs get the same raw file, and the same cache
# mode: the host's page cache, flushed to the disk on the guest's FLUSH
# (Kiln opens the file without O_DIRECT and answers FLUSH with fdatasync;
# QEMU's cache=writeback does the same). Each step's time is the host's:
# bench/probe stamps the guest's markers around it.

na_group blk "benchmark 5 (virtio-blk)"
disk_image=$work/disk.img
# The markers' prefix; the guest assembles it (m=...; echo $m-W0).
BLK_MARK=KILN-BLK

# The initramfs with /bin/randread (static) added: the kernel unpacks
# concatenated archives in turn. Built at run time, never committed.
bench_initrd=$work/bench-initrd.cpio.gz
make_bench_initrd() {
	local ov=$work/overlay
	mkdir -p "$ov/bin"
	${CC:-gcc} -static -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror \
		-o "$ov/bin/randread" bench/guests/randread.c >"$work/randread.log" 2>&1 ||
		return 1
	(cd "$ov" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) |
		gzip -n >"$work/overlay.cpio.gz"
	cat "$guest/initramfs.cpio.gz" "$work/overlay.cpio.gz" >"$bench_initrd"
}
if make_bench_initrd; then
	initrd[blk]=$bench_initrd
else
	why="cannot build bench/guests/randread.c with gcc -static: $(grep -m1 . "$work/randread.log")"
	not_available blk kiln "$why"
	not_available blk qemu "$why"
fi
# Written out, not sparse: reads of a hole would cost the host nothing.
head -c $((blk_mib << 20)) /dev/zero >"$disk_image"

cmdline[blk]="$CMDLINE_BASE -- sh -c \"m=$BLK_MARK; echo \$m-W0;\
 dd if=/dev/zero of=/dev/vda bs=1M count=$blk_mib oflag=direct conv=fsync && echo \$m-W1;\
 echo \$m-R0; dd if=/dev/vda of=/dev/null bs=1M count=$blk_mib iflag=direct && echo \$m-R1;\
 echo \$m-Q0; randread /dev/vda $randread_s && echo \$m-Q1\""

devices_blk() {	# SIDE
	if [ "$1" = kiln ]; then
		cmd+=(--disk "$disk_image")
	else
		cmd+=(-drive "file=$disk_image,if=none,id=d0,format=raw,cache=writeback"
		      -device virtio-blk-pci,drive=d0)
	fi
}

bench_blk() {	# SIDE I
	local side=$1 log=$work/blk-$1-$2.log w r q ops step
	skipped blk "$side" && return 0
	boot_linux blk blk "$side" "$2" \
		--marker "w0=$BLK_MARK-W0" --marker "w1=$BLK_MARK-W1" \
		--marker "r0=$BLK_MARK-R0" --marker "r1=$BLK_MARK-R1" \
		--marker "q0=$BLK_MARK-Q0" --marker "q1=$BLK_MARK-Q1" || return 0
	w=$(interval w0 w1) r=$(interval r0 r1) q=$(interval q0 q1)
	ops=$(tr -d '\r' <"$log" | sed -n 's/^randread: \([0-9]*\) reads of 4096 bytes in .*/\1/p' | tail -1)
	for step in "write:$w" "read:$r" "random reads:$q"; do
		if [ "${step#*:}" = none ]; then
			run_failed blk "$side" "the guest's ${step%:*} did not finish: $(failure "blk-$side-$2")"
			return 0
		fi
	done
	if [ -z "$ops" ]; then
		run_failed blk "$side" "randread printed no count (log: $log)"
		return 0
	fi
	add blk.write "$side" "$(mb_per_s $((blk_mib << 20)) "$w")"
	add blk.read "$side" "$(mb_per_s $((blk_mib << 20)) "$r")"
	add blk.randread "$side" "$(awk -v n="$ops" -v s="$q" 'BEGIN { printf "%.1f\n", n / s }')"
}

blk_rows() {
	row "5. virtio-blk: sequential write, $blk_mib MiB, 1 MiB O_DIRECT + flush (MB/s, higher is better)" blk.write blk 1 %.1f
	row "5. virtio-blk: sequential read, $blk_mib MiB, 1 MiB O_DIRECT (MB/s, higher is better)" blk.read blk 1 %.1f
	row "5. virtio-blk: 4 KiB random reads, O_DIRECT, queue depth 1, ${randread_s} s (IOPS, higher is better)" blk.randread blk 1 %.0f
}

blk_how() {
	echo
	echo "Benchmark 5 writes a $blk_mib MiB raw file through the guest's /dev/vda with busybox"
	echo "\`dd bs=1M oflag=direct conv=fsync\`, reads it back with \`iflag=direct\`, then runs"
	echo "bench/guests/randread.c (static, in a cpio appended to the initramfs): 4 KiB"
	echo "O_DIRECT reads at random offsets, one at a time, for $randread_s s. MB/s is 10^6"
	echo "bytes over the host's time between the guest's markers around each step;"
	echo "IOPS is randread's count over the same. Both sides use the host's page cache"
	echo "and flush it on the guest's FLUSH: Kiln's \`--disk\` (no O_DIRECT; io_uring,"
	echo "its default) and QEMU's \`cache=writeback\` (aio=threads, its default)."
}
