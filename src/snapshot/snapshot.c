// SPDX-License-Identifier: Apache-2.0
#include "snapshot/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/hooks.h"
#include "lib/log.h"
#include "machine/vm.h"
#include "snapshot/snap_file.h"
#include "snapshot/snap_ram.h"
#include "snapshot/snap_registry.h"

static void fill_header(struct vm *vm, struct snap_header *h, u32 kind)
{
	struct timespec ts;

	memset(h, 0, sizeof(*h));
	h->version = SNAP_VERSION;
	h->kind = kind;
	snprintf(h->engine, sizeof(h->engine), "%s", vm->engine->name);
	snprintf(h->arch, sizeof(h->arch), "%s", SNAP_ARCH);
	h->mem_size = vm->mem.ram_size;
	h->nr_cpus = vm->nr_vcpus;
	h->nr_regions = vm->mem.nr_regions;
	for (unsigned int i = 0; i < vm->mem.nr_regions; i++) {
		h->regions[i].gpa = vm->mem.regions[i].gpa;
		h->regions[i].size = vm->mem.regions[i].size;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	h->created_ns = ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int quiesce_all(struct snap_registry *reg, char *err, size_t err_len)
{
	for (unsigned int i = 0; reg && i < reg->nr; i++) {
		const struct snap_section *s = &reg->sections[i];
		char why[200] = "";

		if (s->ops->quiesce && s->ops->quiesce(s->opaque, why, sizeof(why))) {
			snprintf(err, err_len, "%s: %s", s->name, why);
			return -1;
		}
	}
	return 0;
}

static int write_sections(struct snap_registry *reg, struct snap_out *o, char *err,
			  size_t err_len)
{
	for (unsigned int i = 0; reg && i < reg->nr && !o->error; i++) {
		const struct snap_section *s = &reg->sections[i];
		struct snap_writer w;

		snap_writer_init(&w);
		s->ops->save(s->opaque, &w);
		if (w.failed || w.len > SNAP_SECTION_MAX) {
			snprintf(err, err_len, "%s: %s", s->name,
				 w.failed ? "out of memory" : "the state is too large");
			snap_writer_free(&w);
			return -1;
		}
		snap_write_section(o, s->name, w.buf, w.len);
		snap_writer_free(&w);
	}
	return 0;
}

static int write_file(struct vm *vm, FILE *f, struct snap_ram_stats *rs, char *err,
		      size_t err_len)
{
	struct snap_out o = { .f = f };
	struct snap_header h;

	fill_header(vm, &h, SNAP_KIND_FULL);
	snap_write_header(&o, &h);
	if (write_sections(vm->snap, &o, err, err_len))
		return -1;
	if (snap_ram_write(&o, &vm->mem, NULL, rs) == 0)
		snap_write_section(&o, SNAP_END_SECTION, NULL, 0);
	if (!o.error && (fflush(f) || fdatasync(fileno(f))))
		o.error = errno;
	if (o.error) {
		snprintf(err, err_len, "cannot write the snapshot: %s", strerror(o.error));
		return -1;
	}
	return 0;
}

/* Devices whose state has no section yet: a snapshot would lose it. */
static const char *unsaved_device(const struct vm_config *cfg)
{
	if (cfg->iommu)
		return "--iommu";
	if (cfg->edu)
		return "--device edu";
	if (cfg->testdev)
		return "--testdev";
	return NULL;
}

int snapshot_create(struct vm *vm, const char *path, char *err, size_t err_len)
{
	const char *unsaved = unsaved_device(vm->cfg);
	struct snap_ram_stats rs;
	char *tmp;
	FILE *f;
	int fd, ret;

	if (unsaved) {
		snprintf(err, err_len, "the state of %s's devices cannot be saved yet", unsaved);
		return -1;
	}
	vm_pause(vm);
	if (vm_stopping(vm)) {
		snprintf(err, err_len, "the VM is stopping");
		return -1;
	}
	if (quiesce_all(vm->snap, err, err_len))
		return -1;
	if (asprintf(&tmp, "%s.partial", path) < 0) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!f) {
		snprintf(err, err_len, "cannot create %s: %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(tmp);
		return -1;
	}
	ret = write_file(vm, f, &rs, err, err_len);
	if (fclose(f) && !ret) {
		snprintf(err, err_len, "cannot write the snapshot: %s", strerror(errno));
		ret = -1;
	}
	if (!ret && rename(tmp, path)) {
		snprintf(err, err_len, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		ret = -1;
	}
	if (ret)
		unlink(tmp);
	else
		pr_info("snapshot: %s: %u sections, %" PRIu64 " of %" PRIu64
			" RAM pages stored (%" PRIu64 " MiB of %" PRIu64 " MiB)", path,
			vm->snap ? vm->snap->nr : 0, rs.pages_stored, vm->mem.ram_size / 4096,
			rs.pages_stored * 4096 / (u64)MiB, vm->mem.ram_size / (u64)MiB);
	free(tmp);
	return ret;
}

static const struct api_snapshot_ops snapshot_api_ops = {
	.create = snapshot_create,
};

int snapshot_vm_init(struct vm *vm)
{
	if (!vm->engine->snapshot_register)
		return 0;	/* PUT /snapshot/create says it is not supported */
	if (vm->engine->snapshot_register(vm))
		return -1;
	api_register_snapshot(vm, &snapshot_api_ops);
	return 0;
}

/* ---- restore ---- */

static int check_header(struct vm *vm, struct snap_in *in, const struct snap_header *h)
{
	if (strcmp(h->engine, vm->engine->name))
		return snap_in_fail(in, "it was taken on the %s engine; this VM runs on %s",
				    h->engine, vm->engine->name);
	if (h->kind != SNAP_KIND_FULL)
		return snap_in_fail(in, "it is a diff snapshot; restore its base with it");
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
	bool *seen;
	bool ram_seen;
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
		return snap_ram_read(in, len, &vm->mem, false) || snap_section_check(in, name);
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

int snapshot_restore(struct vm *vm)
{
	const char *path = vm->cfg->restore_path;
	unsigned int n = vm->snap ? vm->snap->nr : 0;
	struct loaded ld = {
		.payload = calloc(n + 1, sizeof(*ld.payload)),
		.len = calloc(n + 1, sizeof(*ld.len)),
		.seen = calloc(n + 1, sizeof(*ld.seen)),
	};
	struct snap_header h;
	struct snap_in in;
	char err[512];
	int ret = -1;

	if (!vm->engine->snapshot_register) {
		pr_err("--restore %s: the %s engine cannot restore snapshots yet", path,
		       vm->engine->name);
		goto out_free;
	}
	if (unsaved_device(vm->cfg)) {
		pr_err("--restore %s: %s cannot be restored (snapshots do not save it)", path,
		       unsaved_device(vm->cfg));
		goto out_free;
	}
	if (!ld.payload || !ld.len || !ld.seen) {
		pr_err("--restore %s: out of memory", path);
		goto out_free;
	}
	if (snap_in_open(&in, path, err, sizeof(err)))
		goto out_err;
	if (!snap_read_header(&in, &h) && !check_header(vm, &in, &h) && !read_all(vm, &in, &ld) &&
	    !load_all(vm, &in, &ld))
		ret = 0;
	snap_in_close(&in);
	if (ret)
		goto out_err;
	pr_info("restored %s: %u sections", path, n);
	goto out_free;
out_err:
	pr_err("--restore %s: %s", path, err);
out_free:
	for (unsigned int i = 0; ld.payload && i < n; i++)
		free(ld.payload[i]);
	free(ld.payload);
	free(ld.len);
	free(ld.seen);
	return ret;
}

int snapshot_config(struct vm_config *cfg, bool mem_given, bool cpus_given, bool accel_given)
{
	struct snap_header h;
	char err[512];

	if (snap_peek_header(cfg->restore_path, &h, err, sizeof(err))) {
		pr_err("--restore %s: %s", cfg->restore_path, err);
		return -1;
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
