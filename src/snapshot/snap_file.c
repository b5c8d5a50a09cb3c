// SPDX-License-Identifier: Apache-2.0
#include "snapshot/snap_file.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "snapshot/snap_crc.h"
#include "snapshot/snap_stream.h"

#define SNAP_HEADER_FIXED 16	/* magic, version, header length */

/* ---- writing ---- */

void snap_out_bytes(struct snap_out *o, const void *p, size_t n)
{
	if (o->error)
		return;
	if (n && fwrite(p, 1, n, o->f) != n) {
		o->error = errno ? errno : EIO;
		return;
	}
	o->crc = snap_crc32c(o->crc, p, n);
	o->pos += n;
}

static void out_le(struct snap_out *o, u64 v, unsigned int size)
{
	u8 b[8];

	for (unsigned int i = 0; i < size; i++)
		b[i] = v >> (8 * i);
	snap_out_bytes(o, b, size);
}

static void put_name(struct snap_writer *w, const char *s, size_t field)
{
	char buf[SNAP_NAME_MAX] = { 0 };

	memcpy(buf, s, strnlen(s, field - 1));
	snap_put_bytes(w, buf, field);
}

void snap_write_header(struct snap_out *o, const struct snap_header *h)
{
	struct snap_writer w;

	snap_writer_init(&w);
	snap_put_bytes(&w, SNAP_MAGIC, 8);
	snap_put_u32(&w, h->version);
	snap_put_u32(&w, 0);		/* header length, patched below */
	snap_put_u32(&w, h->kind);
	put_name(&w, h->engine, SNAP_ENGINE_MAX);
	put_name(&w, h->arch, SNAP_ENGINE_MAX);
	snap_put_u64(&w, h->mem_size);
	snap_put_u32(&w, h->nr_cpus);
	snap_put_u32(&w, h->nr_regions);
	for (unsigned int i = 0; i < GUEST_MEM_MAX_REGIONS; i++) {
		snap_put_u64(&w, h->regions[i].gpa);
		snap_put_u64(&w, h->regions[i].size);
	}
	snap_put_u64(&w, h->created_ns);
	snap_put_u64(&w, h->id);
	snap_put_u64(&w, h->parent);
	if (w.failed) {
		o->error = ENOMEM;
		snap_writer_free(&w);
		return;
	}
	{
		u32 total = w.len + 4;
		u32 crc;

		for (int i = 0; i < 4; i++)
			w.buf[12 + i] = total >> (8 * i);
		crc = snap_crc32c(0, w.buf, w.len);
		snap_out_bytes(o, w.buf, w.len);
		out_le(o, crc, 4);
	}
	snap_writer_free(&w);
}

void snap_section_begin(struct snap_out *o, const char *name, u64 len)
{
	char buf[SNAP_NAME_MAX] = { 0 };

	memcpy(buf, name, strnlen(name, SNAP_NAME_MAX - 1));
	o->crc = 0;
	snap_out_bytes(o, buf, SNAP_NAME_MAX);
	out_le(o, len, 8);
}

void snap_section_end(struct snap_out *o)
{
	out_le(o, o->crc, 4);
}

void snap_write_section(struct snap_out *o, const char *name, const void *p, size_t n)
{
	snap_section_begin(o, name, n);
	snap_out_bytes(o, p, n);
	snap_section_end(o);
}

/* ---- reading ---- */

int snap_in_fail(struct snap_in *in, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(in->err, in->err_len, fmt, ap);
	va_end(ap);
	return -1;
}

int snap_in_open(struct snap_in *in, const char *path, char *err, size_t err_len)
{
	struct stat st;

	memset(in, 0, sizeof(*in));
	in->path = path;
	in->err = err;
	in->err_len = err_len;
	in->f = fopen(path, "rb");
	if (!in->f)
		return snap_in_fail(in, "cannot open it: %s", strerror(errno));
	if (fstat(fileno(in->f), &st) || !S_ISREG(st.st_mode)) {
		snap_in_close(in);
		return snap_in_fail(in, "not a regular file");
	}
	in->size = st.st_size;
	return 0;
}

void snap_in_close(struct snap_in *in)
{
	if (in->f)
		fclose(in->f);
	in->f = NULL;
}

int snap_in_bytes(struct snap_in *in, void *p, size_t n, const char *what)
{
	if (n > in->size - in->pos)
		return snap_in_fail(in, "the file is truncated: %s needs %zu bytes at offset %llu, "
				    "but the file ends at %llu", what, n,
				    (unsigned long long)in->pos, (unsigned long long)in->size);
	if (n && fread(p, 1, n, in->f) != n)
		return snap_in_fail(in, "cannot read %s at offset %llu: %s", what,
				    (unsigned long long)in->pos,
				    ferror(in->f) ? strerror(errno) : "unexpected end of file");
	in->crc = snap_crc32c(in->crc, p, n);
	in->pos += n;
	return 0;
}

static u64 le(const u8 *b, unsigned int size)
{
	u64 v = 0;

	for (unsigned int i = 0; i < size; i++)
		v |= (u64)b[i] << (8 * i);
	return v;
}

static void get_name(struct snap_reader *r, char *out, size_t field, const char *what)
{
	snap_get_bytes(r, out, field, what);
	out[field - 1] = '\0';
}

int snap_read_header(struct snap_in *in, struct snap_header *h)
{
	u8 fixed[SNAP_HEADER_FIXED], body[512];
	struct snap_reader r;
	u32 hlen, crc;

	memset(h, 0, sizeof(*h));
	if (in->size < SNAP_HEADER_FIXED)
		return snap_in_fail(in, "not a Kiln snapshot: %llu bytes is too short for a header",
				    (unsigned long long)in->size);
	if (snap_in_bytes(in, fixed, sizeof(fixed), "the header"))
		return -1;
	if (memcmp(fixed, SNAP_MAGIC, 8))
		return snap_in_fail(in, "not a Kiln snapshot (no KILNSNAP magic)");
	h->version = le(fixed + 8, 4);
	if (h->version != SNAP_VERSION)
		return snap_in_fail(in, "snapshot format version %u; this Kiln reads version %u%s",
				    h->version, SNAP_VERSION, h->version < SNAP_VERSION ?
				    " (an older Kiln wrote it: restore it with that one)" : "");
	hlen = le(fixed + 12, 4);
	if (hlen < SNAP_HEADER_FIXED + 4 || hlen - SNAP_HEADER_FIXED > sizeof(body))
		return snap_in_fail(in, "the header is corrupted: its length %u is impossible", hlen);
	if (snap_in_bytes(in, body, hlen - SNAP_HEADER_FIXED, "the header"))
		return -1;
	crc = snap_crc32c(snap_crc32c(0, fixed, sizeof(fixed)), body, hlen - SNAP_HEADER_FIXED - 4);
	if (crc != le(body + hlen - SNAP_HEADER_FIXED - 4, 4))
		return snap_in_fail(in, "the header is corrupted (CRC mismatch)");

	snap_reader_init(&r, body, hlen - SNAP_HEADER_FIXED - 4);
	h->kind = snap_get_u32(&r, "kind");
	get_name(&r, h->engine, SNAP_ENGINE_MAX, "engine");
	get_name(&r, h->arch, SNAP_ENGINE_MAX, "architecture");
	h->mem_size = snap_get_u64(&r, "RAM size");
	h->nr_cpus = snap_get_u32(&r, "vCPU count");
	h->nr_regions = snap_get_u32(&r, "region count");
	for (unsigned int i = 0; i < GUEST_MEM_MAX_REGIONS; i++) {
		h->regions[i].gpa = snap_get_u64(&r, "region address");
		h->regions[i].size = snap_get_u64(&r, "region size");
	}
	h->created_ns = snap_get_u64(&r, "creation time");
	h->id = snap_get_u64(&r, "the snapshot's id");
	h->parent = snap_get_u64(&r, "the parent's id");
	if (snap_reader_finish(&r))
		return snap_in_fail(in, "the header is malformed: %s", r.err);
	if (h->kind != SNAP_KIND_FULL && h->kind != SNAP_KIND_DIFF)
		return snap_in_fail(in, "unknown snapshot kind %u", h->kind);
	if (!h->id || (h->kind == SNAP_KIND_DIFF) != (h->parent != 0))
		return snap_in_fail(in, "the header's snapshot ids are inconsistent");
	if (strcmp(h->arch, SNAP_ARCH))
		return snap_in_fail(in, "the snapshot is of a '%s' guest; this Kiln runs %s",
				    h->arch, SNAP_ARCH);
	if (h->nr_cpus < 1 || h->nr_cpus > 255)
		return snap_in_fail(in, "the header says %u vCPUs", h->nr_cpus);
	if (h->nr_regions < 1 || h->nr_regions > GUEST_MEM_MAX_REGIONS)
		return snap_in_fail(in, "the header says %u RAM regions", h->nr_regions);
	if (!h->mem_size || h->mem_size % 4096)
		return snap_in_fail(in, "the header says %llu bytes of RAM",
				    (unsigned long long)h->mem_size);
	return 0;
}

int snap_section_next(struct snap_in *in, char name[SNAP_NAME_MAX], u64 *len)
{
	u8 b[8];

	in->section_start = in->pos;
	in->crc = 0;
	if (in->pos == in->size)
		return snap_in_fail(in, "the file is truncated: it ends at %llu without the end marker",
				    (unsigned long long)in->size);
	if (snap_in_bytes(in, name, SNAP_NAME_MAX, "a section header") ||
	    snap_in_bytes(in, b, 8, "a section header"))
		return -1;
	if (name[SNAP_NAME_MAX - 1] || !name[0])
		return snap_in_fail(in, "corrupted section header at offset %llu (bad name)",
				    (unsigned long long)in->section_start);
	*len = le(b, 8);
	if (*len > in->size - in->pos || in->size - in->pos - *len < 4)
		return snap_in_fail(in, "the file is truncated: section '%s' at offset %llu "
				    "says %llu bytes, but the file ends at %llu", name,
				    (unsigned long long)in->section_start,
				    (unsigned long long)*len, (unsigned long long)in->size);
	return 0;
}

int snap_section_check(struct snap_in *in, const char *name)
{
	u32 crc = in->crc;
	u8 b[4];

	if (snap_in_bytes(in, b, 4, "a section's CRC"))
		return -1;
	if (le(b, 4) != crc)
		return snap_in_fail(in, "section '%s' at offset %llu is corrupted (CRC mismatch)",
				    name, (unsigned long long)in->section_start);
	return 0;
}

int snap_peek_header(const char *path, struct snap_header *h, char *err, size_t err_len)
{
	struct snap_in in;
	int ret;

	if (snap_in_open(&in, path, err, err_len))
		return -1;
	ret = snap_read_header(&in, h);
	snap_in_close(&in);
	return ret;
}
