/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SNAPSHOT_SNAP_FILE_H
#define KILN_SNAPSHOT_SNAP_FILE_H

#include <stdio.h>

#include "mem/guest_mem.h"
#include "snapshot/snap_section.h"

/*
 * The snapshot file (docs/SNAPSHOT.md), little-endian throughout:
 *
 *   header    magic "KILNSNAP", version, its own length, kind (full or
 *             diff), engine, host architecture, guest RAM size and
 *             regions, vCPU count, creation time, its id and (diff) the
 *             id of the snapshot it follows, CRC-32C of all that
 *   sections  name (32 bytes, NUL-padded), payload length (u64), payload,
 *             CRC-32C of name, length and payload; one per vCPU, chip
 *             and device, then "ram" (sparse guest memory)
 *   end       a section named "end" with no payload
 *
 * Reading checks everything before it is believed: the magic, version and
 * header CRC, every length against what is left of the file (a truncated
 * file says where it ends), every section's CRC, and the end marker.
 */

#define SNAP_MAGIC		"KILNSNAP"
/* 2: fw_cfg's selector and offset ("fw-cfg"), the soft LAPIC's queued NMIs. */
#define SNAP_VERSION		2
#define SNAP_KIND_FULL		0
#define SNAP_KIND_DIFF		1	/* only pages dirtied since the base */
#define SNAP_ENGINE_MAX		16
#define SNAP_ARCH		"x86_64"
#define SNAP_SECTION_MAX	(64 * MiB)	/* for everything but "ram" */
#define SNAP_RAM_SECTION	"ram"
#define SNAP_END_SECTION	"end"

struct snap_header {
	u32 version;
	u32 kind;
	char engine[SNAP_ENGINE_MAX];
	char arch[SNAP_ENGINE_MAX];
	u64 mem_size;
	u32 nr_cpus;
	u32 nr_regions;
	struct {
		u64 gpa, size;
	} regions[GUEST_MEM_MAX_REGIONS];
	u64 created_ns;		/* CLOCK_REALTIME */
	u64 id;			/* random, never 0: names this snapshot */
	u64 parent;		/* diff: the id of the snapshot it follows; full: 0 */
};

/* Writing: the first error latches; sections are CRC'd as they go. */
struct snap_out {
	FILE *f;
	u64 pos;
	u32 crc;
	int error;		/* errno of the first failed write, or 0 */
};

void snap_out_bytes(struct snap_out *o, const void *p, size_t n);
void snap_write_header(struct snap_out *o, const struct snap_header *h);
void snap_section_begin(struct snap_out *o, const char *name, u64 len);
void snap_section_end(struct snap_out *o);
void snap_write_section(struct snap_out *o, const char *name, const void *p, size_t n);

/* Reading: every failure fills err (one clear sentence) and returns -1. */
struct snap_in {
	FILE *f;
	const char *path;
	u64 size;		/* of the file */
	u64 pos;
	u32 crc;
	u64 section_start;	/* offset of the current section */
	char *err;
	size_t err_len;
};

int snap_in_open(struct snap_in *in, const char *path, char *err, size_t err_len);
void snap_in_close(struct snap_in *in);
int snap_in_fail(struct snap_in *in, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

int snap_read_header(struct snap_in *in, struct snap_header *h);
/* The next section's name and payload length; the payload follows. */
int snap_section_next(struct snap_in *in, char name[SNAP_NAME_MAX], u64 *len);
int snap_in_bytes(struct snap_in *in, void *p, size_t n, const char *what);
/* After the payload: the stored CRC must match what was read. */
int snap_section_check(struct snap_in *in, const char *name);

/* Only the header, checked: what `kiln run --restore` needs to size the VM. */
int snap_peek_header(const char *path, struct snap_header *h, char *err, size_t err_len);

#endif
