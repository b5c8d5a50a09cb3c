/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_UNIT_SNAP_SECTION_IO_H
#define KILN_TESTS_UNIT_SNAP_SECTION_IO_H

/*
 * One registered snapshot section's save and load, without a file: what a
 * device's callbacks write, and what they make of bytes a test changed
 * (the file's own checks are test_snapshot_file.c's). Include after
 * cmocka.h.
 */
#include <stdio.h>

#include "machine/vm.h"
#include "snapshot/snap_registry.h"

#define SECTION_WHY_MAX 256

static inline const struct snap_section *section_of(struct vm *vm, const char *name)
{
	const struct snap_section *s = snap_find(vm->snap, name);

	if (!s)
		fail_msg("no snapshot section '%s'", name);
	return s;
}

/* The section's state now, into w (snap_writer_free() it). */
static inline void section_save(struct vm *vm, const char *name, struct snap_writer *w)
{
	const struct snap_section *s = section_of(vm, name);

	snap_writer_init(w);
	s->ops->save(s->opaque, w);
	assert_false(w->failed);
}

/*
 * Loads len bytes into the section as a restore does (the callback, then
 * no bytes may be left over): 0, or -1 with the refusal in why.
 */
static inline int section_load(struct vm *vm, const char *name, const void *buf, size_t len,
			       char why[SECTION_WHY_MAX])
{
	const struct snap_section *s = section_of(vm, name);
	struct snap_reader r;
	int ret;

	snap_reader_init(&r, buf, len);
	ret = s->ops->load(s->opaque, &r) || snap_reader_finish(&r) ? -1 : 0;
	snprintf(why, SECTION_WHY_MAX, "%s", r.err);
	return ret;
}

/* Expects the load of buf to be refused with a message containing want. */
static inline void section_refuses(struct vm *vm, const char *name, const void *buf, size_t len,
				   const char *want)
{
	char why[SECTION_WHY_MAX];

	if (section_load(vm, name, buf, len, why) == 0)
		fail_msg("section '%s' took a state it should refuse (%s)", name, want);
	if (!strstr(why, want))
		fail_msg("section '%s' refused with \"%s\", not \"%s\"", name, why, want);
}

#endif
