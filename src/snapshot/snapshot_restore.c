// SPDX-License-Identifier: Apache-2.0
/*
 * `kiln run --restore FULL [--restore DIFF ...]`: the VM vm_create built
 * from the same command line takes guest RAM and every section from the
 * files instead of booting. Each file is read and checked whole (CRCs,
 * lengths, the sections this VM has) before anything of it is loaded into
 * a device: RAM from the full snapshot and then each diff's pages, device
 * and vCPU state from the last file.
 */
#include "snapshot/snapshot.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lib/log.h"
#include "machine/vm.h"
#include "snapshot/snap_file.h"
#include "snapshot/snap_ram.h"
#include "snapshot/snap_registry.h"

static int check_header(struct vm *vm, struct snap_in *in, const struct snap_header *h,
			bool want_diff, u64 parent)
{
	if (strcmp(h->engine, vm->engine->name))
		return snap_in_fail(in, "it was taken on the %s engine; this VM runs on %s",
				    h->engine, vm->engine->name);
	if (!want_diff && h->kind != SNAP_KIND_FULL)
		return snap_in_fail(in, "it is a diff snapshot: restore the full snapshot it "
				    "follows first (--restore FULL --restore DIFF ...)");
	if (want_diff && h->kind != SNAP_KIND_DIFF)
		return snap_in_fail(in, "it is a full snapshot, where a diff was expected");
	if (want_diff && h->parent != parent)
		return snap_in_fail(in, "this diff does not follow the snapshot before it on "
				    "the command line");
	if (h->nr_cpus != vm->nr_vcpus)
		return snap_in_fail(in, "it has %u vCPUs; this VM has %u", h->nr_cpus,
				    vm->nr_vcpus);
	if (h->mem_size != vm->mem.ram_size || h->nr_regions != vm->mem.nr_regions)
		return snap_in_fail(in, "it has %" PRIu64 " MiB of RAM; this VM has %" PRIu64 " MiB",
				    h->mem_size / (u64)MiB, vm->mem.ram_size / (u64)MiB);
	for (unsigned int i = 0; i < h->nr_regions; i++)
		if (h->regions[i].gpa != vm->mem.regions[i].gpa ||
		    h->regions[i].size != vm->mem.regions[i].size)
			return snap_in_fail(in, "its RAM layout differs from this VM's (region %u)", i);
	return 0;
}

/* Every section's payload, by registry index, checked but not yet loaded. */
struct loaded {
	u8 **payload;
	u64 *len;
	bool *seen;		/* in the file being read */
	bool ram_seen;
	bool diff;
};

static int read_one(struct vm *vm, struct snap_in *in, struct loaded *ld, const char *name,
		    u64 len)
{
	struct snap_registry *reg = vm->snap;
	struct snap_section *s;
	unsigned int idx;

	if (!strcmp(name, SNAP_RAM_SECTION)) {
		if (ld->ram_seen)
			return snap_in_fail(in, "it has two 'ram' sections");
		ld->ram_seen = true;
		return snap_ram_read(in, len, &vm->mem, ld->diff) || snap_section_check(in, name);
	}
	s = snap_find(reg, name);
	if (!s)
		return snap_in_fail(in, "it has a section '%s' that no device of this VM takes "
				    "(is the command line the snapshotted VM's?)", name);
	idx = s - reg->sections;
	if (ld->seen[idx])
		return snap_in_fail(in, "section '%s' appears twice", name);
	if (len > SNAP_SECTION_MAX)
		return snap_in_fail(in, "section '%s' is %" PRIu64 " bytes, more than any device "
				    "state", name, len);
	/* A later file's state replaces an earlier one's. */
	free(ld->payload[idx]);
	ld->payload[idx] = malloc(len ? len : 1);
	if (!ld->payload[idx])
		return snap_in_fail(in, "out of memory");
	ld->len[idx] = len;
	ld->seen[idx] = true;
	if (snap_in_bytes(in, ld->payload[idx], len, name))
		return -1;
	return snap_section_check(in, name);
}

static int read_all(struct vm *vm, struct snap_in *in, struct loaded *ld)
{
	struct snap_registry *reg = vm->snap;
	char name[SNAP_NAME_MAX];
	u64 len;

	ld->ram_seen = false;
	memset(ld->seen, 0, (reg ? reg->nr : 0) * sizeof(*ld->seen));
	for (;;) {
		if (snap_section_next(in, name, &len))
			return -1;
		if (!strcmp(name, SNAP_END_SECTION)) {
			if (len || snap_section_check(in, name))
				return len ? snap_in_fail(in, "the end marker is corrupted") : -1;
			break;
		}
		if (read_one(vm, in, ld, name, len))
			return -1;
	}
	if (in->pos != in->size)
		return snap_in_fail(in, "%" PRIu64 " bytes of junk after the end marker",
				    in->size - in->pos);
	if (!ld->ram_seen)
		return snap_in_fail(in, "it has no 'ram' section");
	for (unsigned int i = 0; reg && i < reg->nr; i++)
		if (!ld->seen[i])
			return snap_in_fail(in, "it has no section '%s', which this VM has (is the "
					    "command line the snapshotted VM's?)",
					    reg->sections[i].name);
	return 0;
}

static int load_all(struct vm *vm, struct snap_in *in, struct loaded *ld)
{
	struct snap_registry *reg = vm->snap;

	for (unsigned int i = 0; reg && i < reg->nr; i++) {
		struct snap_section *s = &reg->sections[i];
		struct snap_reader r;

		snap_reader_init(&r, ld->payload[i], ld->len[i]);
		if (s->ops->load(s->opaque, &r) || snap_reader_finish(&r))
			return snap_in_fail(in, "section '%s': %s", s->name,
					    r.err[0] ? r.err : "cannot load it");
	}
	for (unsigned int i = 0; reg && i < reg->nr; i++)
		if (reg->sections[i].ops->post_load)
			reg->sections[i].ops->post_load(reg->sections[i].opaque);
	return 0;
}

/* The files of the chain: the full snapshot, then its diffs. */
static const char *chain_file(const struct vm_config *cfg, unsigned int i)
{
	return i == 0 ? cfg->restore_path : cfg->restore_diffs[i - 1];
}

/* Reads file i of the chain into ld (RAM straight into guest memory). */
static int read_file(struct vm *vm, unsigned int i, struct loaded *ld, u64 *id, bool last,
		     char *err, size_t err_len)
{
	struct snap_header h;
	struct snap_in in;
	int ret = -1;

	if (snap_in_open(&in, chain_file(vm->cfg, i), err, err_len))
		return -1;
	ld->diff = i > 0;
	if (!snap_read_header(&in, &h) && !check_header(vm, &in, &h, i > 0, *id) &&
	    !read_all(vm, &in, ld) && (!last || !load_all(vm, &in, ld)))
		ret = 0;
	*id = h.id;
	snap_in_close(&in);
	return ret;
}

int snapshot_restore(struct vm *vm)
{
	const struct vm_config *cfg = vm->cfg;
	unsigned int n = vm->snap ? vm->snap->nr : 0, files = 1 + cfg->nr_restore_diffs;
	struct loaded ld = {
		.payload = calloc(n + 1, sizeof(*ld.payload)),
		.len = calloc(n + 1, sizeof(*ld.len)),
		.seen = calloc(n + 1, sizeof(*ld.seen)),
	};
	char err[512];
	u64 id = 0;
	int ret = -1;

	if (!vm->engine->snapshot_register || !vm->snap) {
		pr_err("--restore %s: the %s engine cannot restore snapshots yet",
		       cfg->restore_path, vm->engine->name);
		goto out;
	}
	if (snapshot_unsaved_device(cfg)) {
		pr_err("--restore %s: %s cannot be restored (snapshots do not save it)",
		       cfg->restore_path, snapshot_unsaved_device(cfg));
		goto out;
	}
	if (!ld.payload || !ld.len || !ld.seen) {
		pr_err("--restore %s: out of memory", cfg->restore_path);
		goto out;
	}
	for (unsigned int i = 0; i < files; i++) {
		if (read_file(vm, i, &ld, &id, i + 1 == files, err, sizeof(err))) {
			pr_err("--restore %s: %s", chain_file(cfg, i), err);
			goto out;
		}
	}
	/* A diff needs the pages logged since a snapshot this run wrote. */
	vm->snap->last_id = 0;
	pr_info("restored %s and %u diffs: %u sections", cfg->restore_path,
		cfg->nr_restore_diffs, n);
	ret = 0;
out:
	for (unsigned int i = 0; ld.payload && i < n; i++)
		free(ld.payload[i]);
	free(ld.payload);
	free(ld.len);
	free(ld.seen);
	return ret;
}

static int peek(const char *path, struct snap_header *h)
{
	char err[512];

	if (snap_peek_header(path, h, err, sizeof(err))) {
		pr_err("--restore %s: %s", path, err);
		return -1;
	}
	return 0;
}

int snapshot_config(struct vm_config *cfg, bool mem_given, bool cpus_given, bool accel_given)
{
	struct snap_header h, d;

	if (peek(cfg->restore_path, &h))
		return -1;
	/* The diffs must describe the same machine (their chain is checked on load). */
	for (unsigned int i = 0; i < cfg->nr_restore_diffs; i++) {
		if (peek(cfg->restore_diffs[i], &d))
			return -1;
		if (d.mem_size != h.mem_size || d.nr_cpus != h.nr_cpus || strcmp(d.engine, h.engine)) {
			pr_err("--restore %s: not a snapshot of the same VM as %s",
			       cfg->restore_diffs[i], cfg->restore_path);
			return -1;
		}
	}
	if (mem_given && cfg->mem_size != h.mem_size) {
		pr_err("--restore %s: the snapshot has %" PRIu64 " MiB of RAM, --mem says %" PRIu64
		       " MiB", cfg->restore_path, h.mem_size / (u64)MiB, cfg->mem_size / (u64)MiB);
		return -1;
	}
	if (cpus_given && cfg->nr_cpus != h.nr_cpus) {
		pr_err("--restore %s: the snapshot has %u vCPUs, --cpus says %u", cfg->restore_path,
		       h.nr_cpus, cfg->nr_cpus);
		return -1;
	}
	if (accel_given && strcmp(cfg->accel, "auto") && strcmp(cfg->accel, h.engine) &&
	    !(strcmp(cfg->accel, "tcg") == 0 && strcmp(h.engine, "soft") == 0)) {
		pr_err("--restore %s: the snapshot was taken on the %s engine, --accel says %s",
		       cfg->restore_path, h.engine, cfg->accel);
		return -1;
	}
	cfg->mem_size = h.mem_size;
	cfg->nr_cpus = h.nr_cpus;
	if (!strcmp(h.engine, "soft") || !strcmp(h.engine, "kvm"))
		cfg->accel = !strcmp(h.engine, "soft") ? "soft" : "kvm";
	return 0;
}
