// SPDX-License-Identifier: Apache-2.0
/*
 * The ACPI tables as a guest finds them: RSDP scan, checksums, MADT
 * entries, FADT ports, and a DSDT walked by a small AML reader of its own.
 */
#include "test_boot_vm.h"

#include <sys/wait.h>

#include "machine/acpi/acpi.h"
#include "machine/acpi/acpi_tables.h"

#define RAM (64 * MiB)

struct fixture {
	struct test_vm t;
	unsigned int nr_cpus;
};

static int setup_n(void **state, unsigned int nr_cpus)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f || test_vm_init(&f->t, RAM))
		return -1;
	f->nr_cpus = nr_cpus;
	f->t.cfg.nr_cpus = nr_cpus;
	f->t.vm.nr_vcpus = nr_cpus;
	if (acpi_build(&f->t.vm))
		return -1;
	*state = f;
	return 0;
}

static int setup_1(void **state) { return setup_n(state, 1); }
static int setup_4(void **state) { return setup_n(state, 4); }
static int setup_255(void **state) { return setup_n(state, 255); }

static int teardown(void **state)
{
	struct fixture *f = *state;

	test_vm_destroy(&f->t);
	free(f);
	return 0;
}

/* As a guest does: scan 0xe0000-0xfffff on 16-byte boundaries. */
static u64 find_rsdp(struct test_vm *t)
{
	for (u64 a = 0xe0000; a < 0x100000; a += 16) {
		const struct acpi_rsdp *r = test_gpa(t, a, sizeof(*r));

		if (r && !memcmp(r->signature, "RSD PTR ", 8) &&
		    acpi_checksum(r, ACPI_RSDP_V1_SIZE) == 0)
			return a;
	}
	return 0;
}

/* A table at addr with sig, whole and checksummed; NULL otherwise. */
static const struct acpi_header *table_at(struct test_vm *t, u64 addr, const char *sig)
{
	const struct acpi_header *h = test_gpa(t, addr, sizeof(*h));

	assert_non_null(h);
	assert_memory_equal(h->signature, sig, 4);
	assert_true(h->length >= sizeof(*h));
	assert_non_null(test_gpa(t, addr, h->length));
	assert_int_equal(acpi_checksum(h, h->length), 0);
	return h;
}

/* The table with sig listed in the XSDT, checked against the RSDT too. */
static const void *find_table(struct test_vm *t, const char *sig)
{
	const struct acpi_rsdp *rsdp = test_gpa(t, find_rsdp(t), sizeof(*rsdp));
	const struct acpi_header *xsdt = table_at(t, rsdp->xsdt_addr, "XSDT");
	const struct acpi_header *rsdt = table_at(t, rsdp->rsdt_addr, "RSDT");
	unsigned int n = (xsdt->length - sizeof(*xsdt)) / 8;
	const void *found = NULL;

	assert_int_equal((rsdt->length - sizeof(*rsdt)) / 4, n);
	for (unsigned int i = 0; i < n; i++) {
		u64 x;
		u32 r;

		memcpy(&x, (const u8 *)xsdt + sizeof(*xsdt) + i * 8, 8);
		memcpy(&r, (const u8 *)rsdt + sizeof(*rsdt) + i * 4, 4);
		assert_int_equal(x, r);
		if (!memcmp(test_gpa(t, x, 4), sig, 4))
			found = table_at(t, x, sig);
	}
	assert_non_null(found);
	return found;
}

static void rsdp_is_found_and_valid(void **state)
{
	struct fixture *f = *state;
	const struct acpi_rsdp *rsdp;
	u64 at = find_rsdp(&f->t);

	assert_int_equal(at, LAYOUT_ACPI_TABLES);
	assert_int_equal(at, acpi_rsdp_addr());
	rsdp = test_gpa(&f->t, at, sizeof(*rsdp));
	assert_int_equal(rsdp->revision, 2);
	assert_int_equal(rsdp->length, 36);
	assert_int_equal(acpi_checksum(rsdp, rsdp->length), 0);
	/* Every table sits in the reserved BIOS area, below 1 MiB. */
	assert_true(rsdp->xsdt_addr >= 0xe0000 && rsdp->xsdt_addr < 0x100000);
	assert_true(rsdp->rsdt_addr >= 0xe0000 && rsdp->rsdt_addr < 0x100000);
	find_table(&f->t, "FACP");
	find_table(&f->t, "APIC");
}

static void fadt_describes_the_pm_block(void **state)
{
	struct fixture *f = *state;
	const struct acpi_fadt *fadt = find_table(&f->t, "FACP");
	const struct acpi_facs *facs;

	assert_true(fadt->hdr.revision >= 5);
	assert_int_equal(fadt->hdr.length, sizeof(*fadt));
	assert_int_equal(fadt->sci_int, GSI_ACPI_SCI);
	assert_int_equal(fadt->smi_cmd, 0);
	assert_int_equal(fadt->century, CMOS_REG_CENTURY);
	assert_int_equal(fadt->pm1a_evt_blk, PORT_ACPI_PM1_EVT);
	assert_int_equal(fadt->pm1_evt_len, 4);
	assert_int_equal(fadt->pm1a_cnt_blk, PORT_ACPI_PM1_CNT);
	assert_int_equal(fadt->pm1_cnt_len, 2);
	assert_int_equal(fadt->pm_tmr_blk, PORT_ACPI_PM_TMR);
	assert_int_equal(fadt->pm_tmr_len, 4);
	assert_int_equal(fadt->pm1b_evt_blk, 0);
	assert_int_equal(fadt->pm1b_cnt_blk, 0);
	assert_true(fadt->flags & FADT_F_TMR_VAL_EXT);
	assert_true(fadt->flags & FADT_F_RESET_REG_SUP);
	assert_false(fadt->flags & (1U << 20));		/* not HW_REDUCED_ACPI */
	assert_int_equal(fadt->iapc_boot_arch & 7,
			 FADT_BOOT_LEGACY_DEVICES | FADT_BOOT_8042 | FADT_BOOT_VGA_NOT_PRESENT);

	/* The 64-bit blocks say the same as the 32-bit ones. */
	assert_int_equal(fadt->x_pm1a_evt_blk.space_id, ACPI_SPACE_IO);
	assert_int_equal(fadt->x_pm1a_evt_blk.address, PORT_ACPI_PM1_EVT);
	assert_int_equal(fadt->x_pm1a_evt_blk.bit_width, 32);
	assert_int_equal(fadt->x_pm1a_cnt_blk.address, PORT_ACPI_PM1_CNT);
	assert_int_equal(fadt->x_pm1a_cnt_blk.bit_width, 16);
	assert_int_equal(fadt->x_pm_tmr_blk.space_id, ACPI_SPACE_IO);
	assert_int_equal(fadt->x_pm_tmr_blk.address, PORT_ACPI_PM_TMR);
	assert_int_equal(fadt->x_pm_tmr_blk.bit_width, 32);

	assert_int_equal(fadt->reset_reg.space_id, ACPI_SPACE_IO);
	assert_int_equal(fadt->reset_reg.address, PORT_PCI_RESET);
	assert_int_equal(fadt->reset_reg.bit_width, 8);
	assert_int_equal(fadt->reset_value, ACPI_RESET_VALUE);

	assert_int_equal(fadt->dsdt, fadt->x_dsdt);
	table_at(&f->t, fadt->x_dsdt, "DSDT");
	/* One FACS address: Linux installs the FACS twice when both are set. */
	assert_int_equal(fadt->x_firmware_ctrl, 0);
	assert_int_equal(fadt->firmware_ctrl % 64, 0);
	facs = test_gpa(&f->t, fadt->firmware_ctrl, sizeof(*facs));
	assert_memory_equal(facs->signature, "FACS", 4);
	assert_int_equal(facs->length, 64);
}

static void madt_lists_every_vcpu(void **state)
{
	struct fixture *f = *state;
	const struct acpi_madt *madt = find_table(&f->t, "APIC");
	const u8 *p = (const u8 *)(madt + 1), *end = (const u8 *)madt + madt->hdr.length;
	unsigned int lapics = 0, ioapics = 0, nmis = 0;
	bool irq0 = false, irq9 = false;

	assert_int_equal(madt->lapic_addr, LAYOUT_LAPIC_BASE);
	assert_true(madt->flags & MADT_PCAT_COMPAT);
	while (p < end) {
		assert_true(end - p >= 2);
		assert_true(p[1] >= 2 && p[1] <= end - p);
		switch (p[0]) {
		case MADT_LAPIC: {
			const struct madt_lapic *l = (const void *)p;

			assert_int_equal(l->length, 8);
			assert_int_equal(l->apic_id, lapics);
			assert_int_equal(l->processor_uid, lapics);
			assert_true(l->flags & MADT_LAPIC_ENABLED);
			lapics++;
			break;
		}
		case MADT_IOAPIC: {
			const struct madt_ioapic *io = (const void *)p;

			assert_int_equal(io->ioapic_id, f->nr_cpus);
			assert_int_equal(io->address, LAYOUT_IOAPIC_BASE);
			assert_int_equal(io->gsi_base, 0);
			ioapics++;
			break;
		}
		case MADT_INT_OVERRIDE: {
			const struct madt_int_override *o = (const void *)p;

			assert_int_equal(o->bus, 0);
			if (o->source == 0) {
				assert_int_equal(o->gsi, GSI_PIT);
				irq0 = true;
			} else if (o->source == 9) {
				assert_int_equal(o->gsi, GSI_ACPI_SCI);
				assert_int_equal(o->flags, MPS_POLARITY_HIGH | MPS_TRIGGER_LEVEL);
				irq9 = true;
			} else {
				fail_msg("unexpected override for IRQ %u", o->source);
			}
			break;
		}
		case MADT_LAPIC_NMI: {
			const struct madt_lapic_nmi *n = (const void *)p;

			assert_int_equal(n->processor_uid, 0xff);
			assert_int_equal(n->lint, 1);
			nmis++;
			break;
		}
		default:
			fail_msg("unexpected MADT entry type %u", p[0]);
		}
		p += p[1];
	}
	assert_ptr_equal(p, end);
	assert_int_equal(lapics, f->nr_cpus);
	assert_int_equal(ioapics, 1);
	assert_int_equal(nmis, 1);
	assert_true(irq0 && irq9);
}

/*
 * A small AML reader, for the subset a DSDT of named objects uses: it
 * records each Name() with its full path, and each Method().
 */
struct aml_obj {
	char path[64];
	const u8 *data;		/* the object after the name; a method's flags */
	const u8 *end;		/* the end of the scope holding it */
	bool is_method;
};

struct aml_reader {
	struct aml_obj objs[64];
	unsigned int n;
};

static size_t pkglength(const u8 *p, const u8 *end, size_t *len)
{
	size_t nbytes = (p[0] >> 6) + 1;

	assert_true(end - p >= (ptrdiff_t)nbytes);
	if (nbytes == 1) {
		*len = p[0] & 0x3f;
	} else {
		assert_int_equal(p[0] & 0x30, 0);
		*len = p[0] & 0x0f;
		for (size_t i = 1; i < nbytes; i++)
			*len |= (size_t)p[i] << (4 + 8 * (i - 1));
	}
	assert_true(*len >= nbytes && *len <= (size_t)(end - p));
	return nbytes;
}

/* Parses a NameString into "\\_SB_.PCI0" form relative to scope. */
static size_t name_string(const u8 *p, const u8 *end, const char *scope, char *out)
{
	const u8 *s = p;
	unsigned int nsegs = 1;
	bool root = false;

	if (*s == 0x5c) {
		root = true;
		s++;
	}
	if (*s == 0x00) {
		strcpy(out, root ? "\\" : scope);
		return (size_t)(s + 1 - p);
	}
	if (*s == 0x2e) {
		nsegs = 2;
		s++;
	} else if (*s == 0x2f) {
		nsegs = s[1];
		s += 2;
	}
	assert_true(end - s >= (ptrdiff_t)(nsegs * 4));
	strcpy(out, root ? "\\" : scope);
	for (unsigned int i = 0; i < nsegs; i++, s += 4) {
		if (strcmp(out, "\\"))
			strcat(out, ".");
		strncat(out, (const char *)s, 4);
	}
	return (size_t)(s - p);
}

/* Size of one data object (integer, string, buffer, package) at p. */
static size_t data_object(const u8 *p, const u8 *end)
{
	size_t len;

	assert_true(p < end);
	switch (p[0]) {
	case 0x00: case 0x01: case 0xff:
		return 1;
	case 0x0a: return 2;
	case 0x0b: return 3;
	case 0x0c: return 5;
	case 0x0e: return 9;
	case 0x0d: {
		const u8 *nul = memchr(p, 0, (size_t)(end - p));

		assert_non_null(nul);
		return (size_t)(nul + 1 - p);
	}
	case 0x11:
	case 0x12:
		pkglength(p + 1, end, &len);
		return 1 + len;
	}
	fail_msg("unexpected data object opcode %#x", p[0]);
	return 0;
}

static u64 integer(const u8 *p)
{
	u64 v = 0;

	switch (p[0]) {
	case 0x00: return 0;
	case 0x01: return 1;
	case 0x0a: return p[1];
	case 0x0b: memcpy(&v, p + 1, 2); return v;
	case 0x0c: memcpy(&v, p + 1, 4); return v;
	case 0x0e: memcpy(&v, p + 1, 8); return v;
	}
	fail_msg("not an integer: opcode %#x", p[0]);
	return 0;
}

static void term_list(struct aml_reader *r, const u8 *p, const u8 *end, const char *scope)
{
	while (p < end) {
		char path[64];
		size_t len, n;
		const u8 *body;

		if (p[0] == 0x08) {			/* Name */
			p += 1 + name_string(p + 1, end, scope, path);
			assert_true(r->n < ARRAY_SIZE(r->objs));
			strcpy(r->objs[r->n].path, path);
			r->objs[r->n].data = p;
			r->objs[r->n].end = end;
			r->objs[r->n++].is_method = false;
			p += data_object(p, end);
		} else if (p[0] == 0x10 || (p[0] == 0x5b && p[1] == 0x82) || p[0] == 0x14) {
			size_t op = p[0] == 0x5b ? 2 : 1;

			n = pkglength(p + op, end, &len);
			body = p + op + len;		/* the end of this object */
			n = op + n;
			n += name_string(p + n, body, scope, path);
			if (p[0] == 0x14) {
				assert_true(r->n < ARRAY_SIZE(r->objs));
				strcpy(r->objs[r->n].path, path);
				r->objs[r->n].data = p + n;
				r->objs[r->n].end = body;
				r->objs[r->n++].is_method = true;
			} else {
				term_list(r, p + n, body, path);
			}
			p = body;
		} else {
			fail_msg("unexpected opcode %#x in %s", p[0], scope);
		}
	}
	assert_ptr_equal(p, end);
}

static const struct aml_obj *lookup(const struct aml_reader *r, const char *path)
{
	for (unsigned int i = 0; i < r->n; i++)
		if (!strcmp(r->objs[i].path, path))
			return &r->objs[i];
	fail_msg("%s is not in the DSDT", path);
	return NULL;
}

/* The elements of the package at p; returns how many, fills elems. */
static unsigned int package(const u8 *p, const u8 *limit, const u8 **elems, unsigned int max)
{
	size_t len, n;
	const u8 *end;
	unsigned int count;

	assert_int_equal(p[0], 0x12);
	n = pkglength(p + 1, limit, &len);
	end = p + 1 + len;
	count = p[1 + n];
	p += 2 + n;
	for (unsigned int i = 0; i < count; i++) {
		assert_true(i < max);
		elems[i] = p;
		p += data_object(p, end);
	}
	assert_ptr_equal(p, end);
	return count;
}

static void read_dsdt(struct fixture *f, struct aml_reader *r)
{
	const struct acpi_fadt *fadt = find_table(&f->t, "FACP");
	const struct acpi_header *dsdt = table_at(&f->t, fadt->x_dsdt, "DSDT");

	assert_int_equal(dsdt->revision, 2);
	memset(r, 0, sizeof(*r));
	term_list(r, (const u8 *)(dsdt + 1), (const u8 *)dsdt + dsdt->length, "\\");
}

static void dsdt_has_s5(void **state)
{
	struct aml_reader r;
	const u8 *e[8];

	read_dsdt(*state, &r);
	const struct aml_obj *s5 = lookup(&r, "\\_S5_");

	assert_int_equal(package(s5->data, s5->end, e, 8), 4);
	assert_int_equal(integer(e[0]), ACPI_SLP_TYP_S5);
	assert_int_equal(integer(e[1]), ACPI_SLP_TYP_S5);
	assert_int_equal(integer(e[2]), 0);
	assert_int_equal(integer(e[3]), 0);
}

static void dsdt_pci_host_bridge(void **state)
{
	struct aml_reader r;
	const u8 *prt[128], *entry[4];
	const struct aml_obj *prt_obj;
	unsigned int n;

	read_dsdt(*state, &r);
	assert_int_equal(integer(lookup(&r, "\\_SB_.PCI0._HID")->data), 0x030ad041);
	assert_int_equal(integer(lookup(&r, "\\_SB_.PCI0._UID")->data), 0);
	assert_int_equal(integer(lookup(&r, "\\_SB_.PCI0._BBN")->data), 0);

	prt_obj = lookup(&r, "\\_SB_.PCI0._PRT");
	n = package(prt_obj->data, prt_obj->end, prt, 128);
	assert_int_equal(n, 31 * 4);
	for (unsigned int i = 0; i < n; i++) {
		unsigned int slot = 1 + i / 4, pin = i % 4;

		assert_int_equal(package(prt[i], prt_obj->end, entry, 4), 4);
		assert_int_equal(integer(entry[0]), (slot << 16) | 0xffff);
		assert_int_equal(integer(entry[1]), pin);
		assert_int_equal(integer(entry[2]), 0);
		assert_int_equal(integer(entry[3]), GSI_PCI_INTX(slot, pin + 1));
	}
}

/* The descriptors of a _CRS buffer, as a flat list of (tag, min, max). */
struct res {
	u8 tag;
	u8 type;	/* address space descriptors: resource type */
	u64 min, max;
};

static unsigned int crs(const struct aml_obj *o, struct res *out, unsigned int max)
{
	const u8 *p = o->data, *end;
	size_t len, n = 0;
	unsigned int count = 0;

	assert_int_equal(p[0], 0x11);
	n = pkglength(p + 1, o->end, &len);
	end = p + 1 + len;
	p += 1 + n;
	assert_int_equal(integer(p), (u64)(end - p - data_object(p, end)));
	p += data_object(p, end);
	while (p < end) {
		struct res r = { .tag = p[0] };
		size_t size;

		assert_true(count < max);
		if (p[0] & 0x80) {			/* large */
			size = 3 + (size_t)(p[1] | p[2] << 8);
			if (p[0] == 0x88) {
				r.type = p[3];
				r.min = (u64)(p[8] | p[9] << 8);
				r.max = (u64)(p[10] | p[11] << 8);
			} else if (p[0] == 0x87) {
				u32 v;

				r.type = p[3];
				memcpy(&v, p + 10, 4);
				r.min = v;
				memcpy(&v, p + 14, 4);
				r.max = v;
			}
		} else {				/* small */
			size = 1 + (p[0] & 7);
			if (p[0] == 0x47) {
				r.min = (u64)(p[2] | p[3] << 8);
				r.max = r.min + p[7] - 1;
			} else if (p[0] == 0x22) {
				r.min = (u64)(p[1] | p[2] << 8);
			}
		}
		assert_true(size <= (size_t)(end - p));
		out[count++] = r;
		p += size;
		if (r.tag == 0x79)
			break;
	}
	assert_ptr_equal(p, end);
	assert_int_equal(out[count - 1].tag, 0x79);
	return count;
}

static void dsdt_pci_windows(void **state)
{
	struct aml_reader r;
	struct res res[16];
	bool bus = false, io_low = false, io_high = false, mem = false;
	unsigned int n;

	read_dsdt(*state, &r);
	n = crs(lookup(&r, "\\_SB_.PCI0._CRS"), res, 16);
	for (unsigned int i = 0; i < n; i++) {
		if (res[i].tag == 0x88 && res[i].type == 2)
			bus = res[i].min == 0 && res[i].max == 0xff;
		if (res[i].tag == 0x88 && res[i].type == 1 && res[i].min == 0)
			io_low = res[i].max == 0xcf7;
		if (res[i].tag == 0x88 && res[i].type == 1 && res[i].min == 0xd00)
			io_high = res[i].max == 0xffff;
		if (res[i].tag == 0x87 && res[i].type == 0)
			mem = res[i].min == LAYOUT_PCI_MMIO_START &&
			      res[i].max == LAYOUT_PCI_MMIO_END - 1;
	}
	assert_true(bus);
	assert_true(io_low);
	assert_true(io_high);
	assert_true(mem);
}

static void dsdt_com1(void **state)
{
	static const u8 sta[] = { 0x00, 0xa4, 0x0a, 0x0f };	/* flags; Return(0x0f) */
	struct aml_reader r;
	struct res res[4];
	const struct aml_obj *m;

	read_dsdt(*state, &r);
	assert_int_equal(integer(lookup(&r, "\\_SB_.COM1._HID")->data), 0x0105d041);
	m = lookup(&r, "\\_SB_.COM1._STA");
	assert_true(m->is_method);
	assert_memory_equal(m->data, sta, sizeof(sta));
	assert_int_equal(crs(lookup(&r, "\\_SB_.COM1._CRS"), res, 4), 3);
	assert_int_equal(res[0].tag, 0x47);
	assert_int_equal(res[0].min, PORT_COM1);
	assert_int_equal(res[0].max, PORT_COM1 + 7);
	assert_int_equal(res[1].tag, 0x22);
	assert_int_equal(res[1].min, 1U << GSI_COM1);
}

/* ACPICA's own disassembler must read every table without complaint. */
static void iasl_accepts_the_tables(void **state)
{
	struct fixture *f = *state;
	const char *sigs[] = { "DSDT", "FACP", "APIC" };
	const struct acpi_fadt *fadt = find_table(&f->t, "FACP");
	char cmd[1024], log[160];
	int status;

	snprintf(log, sizeof(log), "%s/iasl.log", f->t.dir);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		const struct acpi_header *h = i == 0 ? table_at(&f->t, fadt->x_dsdt, "DSDT")
						     : find_table(&f->t, sigs[i]);
		char name[16];
		const char *path;

		snprintf(name, sizeof(name), "%.4s.dat", sigs[i]);
		path = test_vm_file(&f->t, name, h, h->length);
		assert_non_null(path);
		snprintf(cmd, sizeof(cmd),
			 "cd %s && iasl -d %s >%s 2>&1 && ! grep -qiE 'error|warning|incorrect' %s",
			 f->t.dir, path, log, log);
		status = system(cmd);
		if (status != 0) {
			snprintf(cmd, sizeof(cmd), "sed 's/^/# /' %s", log);
			(void)!system(cmd);
		}
		snprintf(cmd, sizeof(cmd), "rm -f %s/%.4s.dsl %s", f->t.dir, sigs[i], log);
		(void)!system(cmd);
		assert_int_equal(status, 0);
	}
}

static bool have_iasl(void)
{
	return system("command -v iasl >/dev/null 2>&1") == 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(rsdp_is_found_and_valid, setup_1, teardown),
		cmocka_unit_test_setup_teardown(fadt_describes_the_pm_block, setup_1, teardown),
		cmocka_unit_test_setup_teardown(madt_lists_every_vcpu, setup_1, teardown),
		cmocka_unit_test_setup_teardown(madt_lists_every_vcpu, setup_4, teardown),
		cmocka_unit_test_setup_teardown(madt_lists_every_vcpu, setup_255, teardown),
		cmocka_unit_test_setup_teardown(rsdp_is_found_and_valid, setup_255, teardown),
		cmocka_unit_test_setup_teardown(dsdt_has_s5, setup_1, teardown),
		cmocka_unit_test_setup_teardown(dsdt_pci_host_bridge, setup_1, teardown),
		cmocka_unit_test_setup_teardown(dsdt_pci_windows, setup_1, teardown),
		cmocka_unit_test_setup_teardown(dsdt_com1, setup_1, teardown),
		cmocka_unit_test_setup_teardown(iasl_accepts_the_tables, setup_4, teardown),
	};
	size_t n = ARRAY_SIZE(tests);

	/* cmocka reports skip() as "not ok # SKIP": leave the test out instead. */
	if (!have_iasl()) {
		printf("ok - iasl_accepts_the_tables # SKIP iasl (acpica-tools) not installed\n");
		n--;
	}
	return _cmocka_run_group_tests("test_acpi", tests, n, NULL, NULL);
}
