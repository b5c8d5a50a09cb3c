// SPDX-License-Identifier: Apache-2.0
#include "machine/acpi/aml.h"

#include <stdlib.h>
#include <string.h>

#define AML_NAME_SEG	4
#define PKGLEN_MAX	(1U << 28)

void aml_init(struct aml *a)
{
	memset(a, 0, sizeof(*a));
}

void aml_free(struct aml *a)
{
	free(a->buf);
	aml_init(a);
}

static bool aml_reserve(struct aml *a, size_t n)
{
	size_t cap;
	u8 *p;

	if (a->failed)
		return false;
	if (a->len + n <= a->cap)
		return true;
	cap = MAX(a->cap * 2, a->len + n + 256);
	p = realloc(a->buf, cap);
	if (!p) {
		a->failed = true;
		return false;
	}
	a->buf = p;
	a->cap = cap;
	return true;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
	if (!aml_reserve(a, n))
		return;
	memcpy(a->buf + a->len, p, n);
	a->len += n;
}

void aml_byte(struct aml *a, u8 b)
{
	aml_bytes(a, &b, 1);
}

static void aml_le(struct aml *a, u64 v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		aml_byte(a, (u8)(v >> (8 * i)));
}

static bool name_char_ok(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* One NameSeg from s (up to '.' or the end), padded with '_'; -1 if bad. */
static int name_seg(const char *s, char seg[AML_NAME_SEG])
{
	int n = 0;

	while (s[n] && s[n] != '.') {
		if (n == AML_NAME_SEG || !name_char_ok(s[n]))
			return -1;
		seg[n] = s[n];
		n++;
	}
	/* A NameSeg's first character is a lead character: not a digit. */
	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return -1;
	for (int i = n; i < AML_NAME_SEG; i++)
		seg[i] = '_';
	return n;
}

void aml_name_string(struct aml *a, const char *path)
{
	char segs[255][AML_NAME_SEG];
	unsigned int nsegs = 0;
	const char *p;

	for (; *path == '\\' || *path == '^'; path++)
		aml_byte(a, *path == '\\' ? AML_ROOT_CHAR : AML_PARENT_CHAR);
	for (p = path; *p; ) {
		int n;

		if (nsegs == ARRAY_SIZE(segs) || (n = name_seg(p, segs[nsegs])) < 0) {
			a->failed = true;
			return;
		}
		nsegs++;
		p += n;
		if (*p == '.' && *++p == '\0') {
			a->failed = true;
			return;
		}
	}
	if (nsegs == 0) {
		aml_byte(a, AML_ZERO);	/* NullName */
		return;
	}
	if (nsegs == 2)
		aml_byte(a, AML_DUAL_NAME_PREFIX);
	else if (nsegs > 2) {
		aml_byte(a, AML_MULTI_NAME_PREFIX);
		aml_byte(a, (u8)nsegs);
	}
	aml_bytes(a, segs, (size_t)nsegs * AML_NAME_SEG);
}

void aml_integer(struct aml *a, u64 v)
{
	if (v == 0) {
		aml_byte(a, AML_ZERO);
	} else if (v == 1) {
		aml_byte(a, AML_ONE);
	} else if (v <= 0xff) {
		aml_byte(a, AML_BYTE_PREFIX);
		aml_le(a, v, 1);
	} else if (v <= 0xffff) {
		aml_byte(a, AML_WORD_PREFIX);
		aml_le(a, v, 2);
	} else if (v <= 0xffffffff) {
		aml_byte(a, AML_DWORD_PREFIX);
		aml_le(a, v, 4);
	} else {
		aml_byte(a, AML_QWORD_PREFIX);
		aml_le(a, v, 8);
	}
}

void aml_string(struct aml *a, const char *s)
{
	aml_byte(a, AML_STRING_PREFIX);
	aml_bytes(a, s, strlen(s) + 1);
}

/*
 * EISA IDs pack three letters in 5 bits each ('A' = 1) and four hex
 * digits into 32 bits, stored big-endian.
 */
void aml_eisaid(struct aml *a, const char *id)
{
	u32 v = 0;

	if (strlen(id) != 7) {
		a->failed = true;
		return;
	}
	for (int i = 0; i < 3; i++) {
		if (id[i] < 'A' || id[i] > 'Z') {
			a->failed = true;
			return;
		}
		v = (v << 5) | (u32)(id[i] - '@');
	}
	for (int i = 3; i < 7; i++) {
		char c = id[i];
		u32 d;

		if (c >= '0' && c <= '9')
			d = (u32)(c - '0');
		else if (c >= 'A' && c <= 'F')
			d = (u32)(c - 'A' + 10);
		else {
			a->failed = true;
			return;
		}
		v = (v << 4) | d;
	}
	aml_byte(a, AML_DWORD_PREFIX);
	aml_le(a, __builtin_bswap32(v), 4);
}

void aml_name(struct aml *a, const char *name)
{
	aml_byte(a, AML_NAME);
	aml_name_string(a, name);
}

void aml_return(struct aml *a)
{
	aml_byte(a, AML_RETURN);
}

size_t aml_scope_open(struct aml *a, const char *name)
{
	size_t mark;

	aml_byte(a, AML_SCOPE);
	mark = a->len;
	aml_name_string(a, name);
	return mark;
}

size_t aml_device_open(struct aml *a, const char *name)
{
	size_t mark;

	aml_byte(a, AML_EXT_PREFIX);
	aml_byte(a, AML_EXT_DEVICE);
	mark = a->len;
	aml_name_string(a, name);
	return mark;
}

size_t aml_method_open(struct aml *a, const char *name, unsigned int nargs)
{
	size_t mark;

	aml_byte(a, AML_METHOD);
	mark = a->len;
	aml_name_string(a, name);
	if (nargs > 7)
		a->failed = true;
	aml_byte(a, (u8)(nargs & 7));	/* not serialized, sync level 0 */
	return mark;
}

size_t aml_package_open(struct aml *a, unsigned int nelems)
{
	size_t mark;

	aml_byte(a, AML_PACKAGE);
	mark = a->len;
	if (nelems > 0xff)
		a->failed = true;
	aml_byte(a, (u8)nelems);
	return mark;
}

/*
 * PkgLength counts itself: one byte holds up to 63; longer lengths take
 * 2-4 bytes, the first giving the count in bits 7-6 and the low nibble.
 */
void aml_close(struct aml *a, size_t mark)
{
	size_t body, total, n;
	u8 enc[4];

	if (a->failed || mark > a->len)
		return;
	body = a->len - mark;
	for (n = 1; n <= 4; n++) {
		total = body + n;
		if ((n == 1 && total < 0x40) || (n > 1 && total < (1UL << (4 + 8 * (n - 1)))))
			break;
	}
	if (n > 4 || total >= PKGLEN_MAX) {
		a->failed = true;
		return;
	}
	if (n == 1) {
		enc[0] = (u8)total;
	} else {
		enc[0] = (u8)(((n - 1) << 6) | (total & 0xf));
		for (size_t i = 1; i < n; i++)
			enc[i] = (u8)(total >> (4 + 8 * (i - 1)));
	}
	if (!aml_reserve(a, n))
		return;
	memmove(a->buf + mark + n, a->buf + mark, body);
	memcpy(a->buf + mark, enc, n);
	a->len += n;
}

void aml_buffer(struct aml *a, const void *data, size_t n)
{
	size_t mark;

	aml_byte(a, AML_BUFFER);
	mark = a->len;
	aml_integer(a, n);
	aml_bytes(a, data, n);
	aml_close(a, mark);
}
