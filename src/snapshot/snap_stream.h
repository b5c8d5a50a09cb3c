/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_SNAPSHOT_SNAP_STREAM_H
#define KILN_SNAPSHOT_SNAP_STREAM_H

#include <stddef.h>

#include "lib/types.h"

/*
 * The bytes of one snapshot section: a writer that appends little-endian
 * fields to a growing buffer, and a reader over a section read back from a
 * file. The file is untrusted input: every get is bounds-checked, and the
 * first problem (a short section, a value out of range) latches an error
 * naming the field, so a load callback can read straight through and check
 * snap_reader_failed() or the result of its last call once.
 */

struct snap_writer {
	u8 *buf;
	size_t len, cap;
	bool failed;		/* out of memory: the save fails as a whole */
};

void snap_writer_init(struct snap_writer *w);
void snap_writer_free(struct snap_writer *w);

void snap_put_bytes(struct snap_writer *w, const void *p, size_t n);
void snap_put_u8(struct snap_writer *w, u8 v);
void snap_put_u16(struct snap_writer *w, u16 v);
void snap_put_u32(struct snap_writer *w, u32 v);
void snap_put_u64(struct snap_writer *w, u64 v);
void snap_put_bool(struct snap_writer *w, bool v);

struct snap_reader {
	const u8 *buf;
	size_t len, pos;
	bool failed;
	char err[256];
};

void snap_reader_init(struct snap_reader *r, const void *buf, size_t len);

/* Records why the section is bad (the first reason wins); returns -1. */
int snap_fail(struct snap_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline bool snap_reader_failed(const struct snap_reader *r)
{
	return r->failed;
}

/* Each returns 0 (and fails the reader) when the section is too short. */
void snap_get_bytes(struct snap_reader *r, void *p, size_t n, const char *what);
u8 snap_get_u8(struct snap_reader *r, const char *what);
u16 snap_get_u16(struct snap_reader *r, const char *what);
u32 snap_get_u32(struct snap_reader *r, const char *what);
u64 snap_get_u64(struct snap_reader *r, const char *what);
/* Only 0 or 1 are booleans; anything else fails the reader. */
bool snap_get_bool(struct snap_reader *r, const char *what);
/* A value that must be at most max; a larger one fails the reader (0 back). */
u64 snap_get_max(struct snap_reader *r, unsigned int size, u64 max, const char *what);

/*
 * The end of a load callback: -1 if anything failed, or when bytes are left
 * over (the section does not have the layout this Kiln writes).
 */
int snap_reader_finish(struct snap_reader *r);

#endif
