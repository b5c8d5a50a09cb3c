// SPDX-License-Identifier: Apache-2.0
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/stats_format.h"
#include "lib/memstream.h"

#define PROM_NAME_MAX 128
#define PROM_LABELS_MAX 160

struct prom_sample {
	char family[PROM_NAME_MAX];
	char labels[PROM_LABELS_MAX];	/* 'k="v",k="v"' or empty */
	u64 value;
	size_t seq;			/* emission order, to keep the sort stable */
};

/*
 * Figures whose name carries a label value: "exits_io" is one sample of
 * the exits_total family, labelled reason="io".
 */
static const struct {
	const char *prefix;
	const char *family;
	const char *label;
} labelled_names[] = {
	{ "exits_", "exits_total", "reason" },
};

void prom_writer_init(struct prom_writer *w)
{
	memset(w, 0, sizeof(*w));
}

void prom_writer_free(struct prom_writer *w)
{
	free(w->samples);
	prom_writer_init(w);
}

/* Appends s to dst as a metric or label name: [a-zA-Z0-9_], '_' for the rest. */
static void append_name(char *dst, size_t size, const char *s, size_t n)
{
	size_t used = strlen(dst);

	for (size_t i = 0; i < n && used + 1 < size; i++) {
		char c = s[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_';

		dst[used++] = ok ? c : '_';
	}
	dst[used] = '\0';
}

/* Appends k="v", escaping the value as the exposition format requires. */
static void append_label(char *dst, size_t size, const char *key, size_t key_len,
			 const char *val)
{
	size_t used;

	used = strlen(dst);
	if (used && used + 1 < size) {
		dst[used++] = ',';
		dst[used] = '\0';
	}
	append_name(dst, size, key, key_len);
	used = strlen(dst);
	if (used + 2 < size) {
		dst[used++] = '=';
		dst[used++] = '"';
	}
	for (; *val && used + 3 < size; val++) {
		if (*val == '\\' || *val == '"' || *val == '\n') {
			dst[used++] = '\\';
			dst[used++] = *val == '\n' ? 'n' : *val;
		} else {
			dst[used++] = *val;
		}
	}
	if (used + 1 < size)
		dst[used++] = '"';
	dst[used] = '\0';
}

static struct prom_sample *new_sample(struct prom_writer *w)
{
	if (w->nr == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		struct prom_sample *s = realloc(w->samples, cap * sizeof(*s));

		if (!s) {
			w->out_of_memory = true;
			return NULL;
		}
		w->samples = s;
		w->cap = cap;
	}
	memset(&w->samples[w->nr], 0, sizeof(w->samples[0]));
	w->samples[w->nr].seq = w->nr;
	return &w->samples[w->nr++];
}

void prom_emit(void *ctx, const char *group, const char *name, u64 value)
{
	struct prom_writer *w = ctx;
	struct prom_sample *s = new_sample(w);
	size_t glen = strlen(group), base_len = glen;

	if (!s)
		return;
	s->value = value;
	/* "vcpu12" -> base "vcpu", label vcpu="12". */
	while (base_len && group[base_len - 1] >= '0' && group[base_len - 1] <= '9')
		base_len--;
	if (base_len == 0)
		base_len = glen;
	snprintf(s->family, sizeof(s->family), "kiln_");
	append_name(s->family, sizeof(s->family), group, base_len);
	append_name(s->family, sizeof(s->family), "_", 1);
	if (base_len < glen)
		append_label(s->labels, sizeof(s->labels), group, base_len, group + base_len);

	for (size_t i = 0; i < ARRAY_SIZE(labelled_names); i++) {
		size_t plen = strlen(labelled_names[i].prefix);

		if (!strncmp(name, labelled_names[i].prefix, plen) && name[plen]) {
			append_name(s->family, sizeof(s->family), labelled_names[i].family,
				    strlen(labelled_names[i].family));
			append_label(s->labels, sizeof(s->labels), labelled_names[i].label,
				     strlen(labelled_names[i].label), name + plen);
			return;
		}
	}
	append_name(s->family, sizeof(s->family), name, strlen(name));
}

static int sample_cmp(const void *a, const void *b)
{
	const struct prom_sample *x = a, *y = b;
	int c = strcmp(x->family, y->family);

	if (c)
		return c;
	c = strcmp(x->labels, y->labels);
	if (c)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

int prom_format(struct prom_writer *w, char **out, size_t *out_len)
{
	FILE *f;

	if (w->out_of_memory)
		return -1;
	f = open_memstream(out, out_len);
	if (!f)
		return -1;
	/* The format wants each family in one block: group samples by family. */
	if (w->nr)
		qsort(w->samples, w->nr, sizeof(w->samples[0]), sample_cmp);
	for (size_t i = 0; i < w->nr; i++) {
		const struct prom_sample *s = &w->samples[i];
		const struct prom_sample *prev = i ? &w->samples[i - 1] : NULL;
		bool new_family = !prev || strcmp(prev->family, s->family);

		/* A repeated series would make the exposition invalid: keep the first. */
		if (!new_family && !strcmp(prev->labels, s->labels))
			continue;
		if (new_family)
			fprintf(f, "# TYPE %s %s\n", s->family,
				ends_with(s->family, "_total") ? "counter" : "untyped");
		if (s->labels[0])
			fprintf(f, "%s{%s} %" PRIu64 "\n", s->family, s->labels, s->value);
		else
			fprintf(f, "%s %" PRIu64 "\n", s->family, s->value);
	}
	return memstream_finish(f, out);
}
