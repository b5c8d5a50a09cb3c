// SPDX-License-Identifier: Apache-2.0
#include "snapshot/snap_stream.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void snap_writer_init(struct snap_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void snap_writer_free(struct snap_writer *w)
{
	free(w->buf);
	memset(w, 0, sizeof(*w));
}

void snap_put_bytes(struct snap_writer *w, const void *p, size_t n)
{
	if (w->failed || !n)
		return;
	if (n > w->cap - w->len) {
		size_t cap = w->cap ? w->cap : 256;
		u8 *nb;

		while (cap - w->len < n)
			cap *= 2;
		nb = realloc(w->buf, cap);
		if (!nb) {
			w->failed = true;
			return;
		}
		w->buf = nb;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

static void put_le(struct snap_writer *w, u64 v, unsigned int size)
{
	u8 b[8];

	for (unsigned int i = 0; i < size; i++)
		b[i] = v >> (8 * i);
	snap_put_bytes(w, b, size);
}

void snap_put_u8(struct snap_writer *w, u8 v) { put_le(w, v, 1); }
void snap_put_u16(struct snap_writer *w, u16 v) { put_le(w, v, 2); }
void snap_put_u32(struct snap_writer *w, u32 v) { put_le(w, v, 4); }
void snap_put_u64(struct snap_writer *w, u64 v) { put_le(w, v, 8); }
void snap_put_bool(struct snap_writer *w, bool v) { put_le(w, v, 1); }

void snap_reader_init(struct snap_reader *r, const void *buf, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->len = len;
}

int snap_fail(struct snap_reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->failed)
		return -1;
	r->failed = true;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	return -1;
}

void snap_get_bytes(struct snap_reader *r, void *p, size_t n, const char *what)
{
	if (!n)
		return;
	if (r->failed || n > r->len - r->pos) {
		snap_fail(r, "the section ends inside %s (byte %zu of %zu)", what, r->pos, r->len);
		memset(p, 0, n);
		return;
	}
	memcpy(p, r->buf + r->pos, n);
	r->pos += n;
}

static u64 get_le(struct snap_reader *r, unsigned int size, const char *what)
{
	u8 b[8];
	u64 v = 0;

	snap_get_bytes(r, b, size, what);
	for (unsigned int i = 0; i < size; i++)
		v |= (u64)b[i] << (8 * i);
	return r->failed ? 0 : v;
}

u8 snap_get_u8(struct snap_reader *r, const char *what) { return get_le(r, 1, what); }
u16 snap_get_u16(struct snap_reader *r, const char *what) { return get_le(r, 2, what); }
u32 snap_get_u32(struct snap_reader *r, const char *what) { return get_le(r, 4, what); }
u64 snap_get_u64(struct snap_reader *r, const char *what) { return get_le(r, 8, what); }

u64 snap_get_max(struct snap_reader *r, unsigned int size, u64 max, const char *what)
{
	u64 v = get_le(r, size, what);

	if (v > max) {
		snap_fail(r, "%s is %llu, more than %llu", what, (unsigned long long)v,
			  (unsigned long long)max);
		return 0;
	}
	return v;
}

bool snap_get_bool(struct snap_reader *r, const char *what)
{
	return snap_get_max(r, 1, 1, what);
}

int snap_reader_finish(struct snap_reader *r)
{
	if (r->failed)
		return -1;
	if (r->pos != r->len)
		return snap_fail(r, "%zu unexpected bytes after the last field", r->len - r->pos);
	return 0;
}
