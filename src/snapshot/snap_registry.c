// SPDX-License-Identifier: Apache-2.0
#include "snapshot/snap_registry.h"

#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "machine/vm.h"

struct snap_section *snap_find(struct snap_registry *reg, const char *name)
{
	if (!reg)
		return NULL;
	for (unsigned int i = 0; i < reg->nr; i++)
		if (!strcmp(reg->sections[i].name, name))
			return &reg->sections[i];
	return NULL;
}

int snap_register(struct vm *vm, const char *name, const struct snap_section_ops *ops,
		  void *opaque)
{
	struct snap_registry *reg = vm->snap;
	struct snap_section *s;

	if (strlen(name) >= SNAP_NAME_MAX || !ops->save || !ops->load) {
		pr_err("snapshot: bad section '%s'", name);
		return -1;
	}
	if (!reg) {
		reg = calloc(1, sizeof(*reg));
		if (!reg)
			return -1;
		vm->snap = reg;
	}
	if (snap_find(reg, name)) {
		pr_err("snapshot: two sections are named '%s'", name);
		return -1;
	}
	if (reg->nr == reg->cap) {
		unsigned int cap = reg->cap ? reg->cap * 2 : 16;
		struct snap_section *ns = realloc(reg->sections, cap * sizeof(*ns));

		if (!ns)
			return -1;
		reg->sections = ns;
		reg->cap = cap;
	}
	s = &reg->sections[reg->nr++];
	memset(s, 0, sizeof(*s));
	strcpy(s->name, name);
	s->ops = ops;
	s->opaque = opaque;
	return 0;
}

void snap_registry_free(struct snap_registry *reg)
{
	if (!reg)
		return;
	free(reg->sections);
	free(reg);
}
