// SPDX-License-Identifier: Apache-2.0
/*
 * Writing a snapshot: PUT /snapshot/create, full or diff.
 *
 * A full snapshot holds every non-zero page. Once one is written, Kiln logs
 * the pages written from then on (mem/dirty_log.h, both engines, device
 * writes included), so that a diff snapshot can hold just those; each diff
 * restarts the log, and names the snapshot it follows. A restore applies a
 * full snapshot and then its diffs in order (snapshot_restore.c).
 */
#include "snapshot/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "api/hooks.h"
#include "lib/log.h"
#include "machine/vm.h"
#include "mem/dirty_log.h"
#include "snapshot/snap_file.h"
#include "snapshot/snap_ram.h"
#include "snapshot/snap_registry.h"

static u64 new_id(void)
{
	u64 id = 0;

	while (!id)
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			id = (u64)time(NULL) << 20 ^ (u64)getpid();
	return id;
}

static void fill_header(struct vm *vm, struct snap_header *h, u32 kind, u64 parent)
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
	h->id = new_id();
	h->parent = parent;
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
				 w.failed ? "cannot read its state" : "the state is too large");
			snap_writer_free(&w);
			return -1;
		}
		snap_write_section(o, s->name, w.buf, w.len);
		snap_writer_free(&w);
	}
	return 0;
}

/* dirty: NULL for a full snapshot, else the pages a diff holds. */
static int write_file(struct vm *vm, FILE *f, const struct snap_header *h,
		      const struct dirty_bitmap *dirty, struct snap_ram_stats *rs, char *err,
		      size_t err_len)
{
	struct snap_out o = { .f = f };

	snap_write_header(&o, h);
	if (write_sections(vm->snap, &o, err, err_len))
		return -1;
	if (snap_ram_write(&o, &vm->mem, dirty, rs) == 0)
		snap_write_section(&o, SNAP_END_SECTION, NULL, 0);
	if (!o.error && (fflush(f) || fdatasync(fileno(f))))
		o.error = errno;
	if (o.error) {
		snprintf(err, err_len, "cannot write the snapshot: %s", strerror(o.error));
		return -1;
	}
	return 0;
}

/* Writes through path.partial, renamed into place once complete. */
static int write_path(struct vm *vm, const char *path, const struct snap_header *h,
		      const struct dirty_bitmap *dirty, struct snap_ram_stats *rs, char *err,
		      size_t err_len)
{
	char *tmp;
	FILE *f;
	int fd, ret;

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
	ret = write_file(vm, f, h, dirty, rs, err, err_len);
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
	free(tmp);
	return ret;
}

/* Devices whose state has no section yet: a snapshot would lose it. */
const char *snapshot_unsaved_device(const struct vm_config *cfg)
{
	if (cfg->iommu)
		return "--iommu";
	if (cfg->edu)
		return "--device edu";
	if (cfg->testdev)
		return "--testdev";
	return NULL;
}

/* The pages written since the last snapshot, for a diff; the log restarts. */
static int collect_dirty(struct vm *vm, struct dirty_bitmap *b, char *err, size_t err_len)
{
	struct snap_registry *reg = vm->snap;
	char why[200];

	if (!reg->last_id || !reg->dirty_logging) {
		snprintf(err, err_len, "a diff snapshot needs a full one before it in this run "
			 "of Kiln%s", reg->last_id ? " (dirty-page logging could not start)" : "");
		return -1;
	}
	if (dirty_bitmap_alloc(b, &vm->mem)) {
		snprintf(err, err_len, "out of memory");
		return -1;
	}
	if (vm_dirty_log_get(vm, b, true, why, sizeof(why))) {
		dirty_bitmap_free(b);
		snprintf(err, err_len, "cannot read the dirty-page log: %s", why);
		return -1;
	}
	return 0;
}

/* After a full snapshot: log the pages written from now on. */
static void restart_dirty_log(struct vm *vm)
{
	struct snap_registry *reg = vm->snap;
	struct dirty_bitmap b;
	char why[200];

	if (!reg->dirty_logging) {
		if (vm_dirty_log_start(vm, why, sizeof(why))) {
			pr_warn("snapshot: no diff snapshots after this one: %s", why);
			return;
		}
		reg->dirty_logging = true;
		return;
	}
	/* Already logging: forget what was written before this snapshot. */
	if (dirty_bitmap_alloc(&b, &vm->mem) == 0) {
		if (vm_dirty_log_get(vm, &b, true, why, sizeof(why)))
			reg->dirty_logging = false;
		dirty_bitmap_free(&b);
	} else {
		reg->dirty_logging = false;
	}
}

/* Pauses the VM; true when it was running (and must run again on failure). */
static bool pause_for_snapshot(struct vm *vm)
{
	bool was_paused;

	pthread_mutex_lock(&vm->pause_lock);
	was_paused = vm->paused;
	pthread_mutex_unlock(&vm->pause_lock);
	vm_pause(vm);
	return !was_paused;
}

static int create(struct vm *vm, const char *path, bool diff, char *err, size_t err_len)
{
	bool paused_here;
	const char *unsaved = snapshot_unsaved_device(vm->cfg);
	struct snap_registry *reg = vm->snap;
	struct dirty_bitmap dirty;
	struct snap_ram_stats rs;
	struct snap_header h;
	int ret;

	if (unsaved) {
		snprintf(err, err_len, "the state of %s's devices cannot be saved yet", unsaved);
		return -1;
	}
	if (!reg) {
		snprintf(err, err_len, "nothing in this VM registered its state");
		return -1;
	}
	paused_here = pause_for_snapshot(vm);
	if (vm_stopping(vm)) {
		snprintf(err, err_len, "the VM is stopping");
		return -1;
	}
	if (quiesce_all(reg, err, err_len) || (diff && collect_dirty(vm, &dirty, err, err_len)))
		goto fail;
	fill_header(vm, &h, diff ? SNAP_KIND_DIFF : SNAP_KIND_FULL, diff ? reg->last_id : 0);
	ret = write_path(vm, path, &h, diff ? &dirty : NULL, &rs, err, err_len);
	if (diff)
		dirty_bitmap_free(&dirty);
	if (ret) {
		/* The log was cleared for a diff that was not written: start over. */
		if (diff)
			reg->last_id = 0;
		goto fail;
	}
	if (!diff)
		restart_dirty_log(vm);
	reg->last_id = h.id;
	pr_info("snapshot: %s (%s): %u sections, %" PRIu64 " of %" PRIu64 " RAM pages stored",
		path, diff ? "diff" : "full", reg->nr, rs.pages_stored, vm->mem.ram_size / 4096);
	return 0;
fail:
	/* No snapshot: the VM goes on as it was. */
	if (paused_here)
		vm_resume(vm);
	return -1;
}

int snapshot_create(struct vm *vm, const char *path, char *err, size_t err_len)
{
	return create(vm, path, false, err, err_len);
}

int snapshot_create_diff(struct vm *vm, const char *path, char *err, size_t err_len)
{
	return create(vm, path, true, err, err_len);
}

static const struct api_snapshot_ops snapshot_api_ops = {
	.create = snapshot_create,
	.create_diff = snapshot_create_diff,
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
