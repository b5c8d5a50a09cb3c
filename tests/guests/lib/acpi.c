// SPDX-License-Identifier: Apache-2.0
/* Finding and checking ACPI tables the way an OS does: RSDP, XSDT, MADT. */
#include "guest.h"

#define RSDP_SEARCH_START 0xe0000UL
#define RSDP_SEARCH_END 0x100000UL
#define RSDP_V1_LEN 20
#define ACPI_TABLE_MAX_LEN (1U << 20)	/* sanity bound on a table's length */

#define MADT_LOCAL_APIC 0
#define MADT_IO_APIC 1
#define MADT_LOCAL_X2APIC 9
#define MADT_CPU_ENABLED 1

bool acpi_checksum_ok(const void *p, u32 len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return sum == 0;
}

static const u8 *rsdp_cached;

const u8 *acpi_rsdp(void)
{
	if (rsdp_cached)
		return rsdp_cached;
	for (u64 a = RSDP_SEARCH_START; a < RSDP_SEARCH_END; a += 16) {
		const u8 *p = (const u8 *)a;

		if (memcmp(p, "RSD PTR ", 8))
			continue;
		CHECK(acpi_checksum_ok(p, RSDP_V1_LEN), "RSDP at 0x%lx: bad checksum", a);
		if (p[15] >= 2) {
			u32 len = *(const u32 *)(p + 20);

			CHECK(len >= 36 && len < 4096, "RSDP at 0x%lx: length %u", a, len);
			CHECK(acpi_checksum_ok(p, len), "RSDP at 0x%lx: bad extended checksum", a);
		}
		rsdp_cached = p;
		return p;
	}
	guest_fail("no RSDP in 0x%lx-0x%lx", RSDP_SEARCH_START, RSDP_SEARCH_END - 1);
}

static const struct acpi_header *checked_table(u64 addr, const char *what)
{
	const struct acpi_header *h = (const struct acpi_header *)addr;

	CHECK(addr && addr < 4 * GiB, "%s at 0x%lx: outside the identity map", what, addr);
	CHECK(h->length >= sizeof(*h) && h->length < ACPI_TABLE_MAX_LEN,
	      "%s at 0x%lx: length %u", what, addr, h->length);
	CHECK(acpi_checksum_ok(h, h->length), "%c%c%c%c at 0x%lx: bad checksum",
	      h->signature[0], h->signature[1], h->signature[2], h->signature[3], addr);
	return h;
}

const struct acpi_header *acpi_table_at(u64 addr, const char *sig)
{
	const struct acpi_header *h = checked_table(addr, sig);

	CHECK(!memcmp(h->signature, sig, 4), "the table at 0x%lx is not a %s", addr, sig);
	return h;
}

const struct acpi_header *acpi_find_table(const char *sig)
{
	const u8 *rsdp = acpi_rsdp();
	u64 xsdt = rsdp[15] >= 2 ? *(const u64 *)(rsdp + 24) : 0;
	const struct acpi_header *root;
	unsigned int entry_size, nr;

	if (xsdt) {
		root = acpi_table_at(xsdt, "XSDT");
		entry_size = 8;
	} else {
		root = acpi_table_at(*(const u32 *)(rsdp + 16), "RSDT");
		entry_size = 4;
	}
	nr = (root->length - sizeof(*root)) / entry_size;
	for (unsigned int i = 0; i < nr; i++) {
		const u8 *e = (const u8 *)(root + 1) + i * entry_size;
		u64 addr = entry_size == 8 ? *(const u64 *)e : *(const u32 *)e;
		const struct acpi_header *h = checked_table(addr, "table");

		if (!memcmp(h->signature, sig, 4))
			return h;
	}
	return NULL;
}

void madt_parse(struct madt_info *info)
{
	const struct acpi_header *madt = acpi_find_table("APIC");
	const u8 *p, *end;

	CHECK(madt, "no MADT (APIC) table");
	memset(info, 0, sizeof(*info));
	info->lapic_addr = *(const u32 *)((const u8 *)madt + 36);
	p = (const u8 *)madt + 44;
	end = (const u8 *)madt + madt->length;
	while (p + 2 <= end) {
		u8 type = p[0], len = p[1];

		CHECK(len >= 2 && p + len <= end, "MADT entry of type %u has length %u", type, len);
		if (type == MADT_LOCAL_APIC && len >= 8 && (*(const u32 *)(p + 4) & MADT_CPU_ENABLED)) {
			CHECK(info->nr_cpus < MADT_MAX_CPUS, "MADT: too many CPUs");
			info->apic_ids[info->nr_cpus++] = p[3];
		} else if (type == MADT_LOCAL_X2APIC && len >= 16 &&
			   (*(const u32 *)(p + 8) & MADT_CPU_ENABLED)) {
			u32 id = *(const u32 *)(p + 4);

			CHECK(id < MADT_MAX_CPUS && info->nr_cpus < MADT_MAX_CPUS,
			      "MADT: x2APIC ID %u beyond what this guest handles", id);
			info->apic_ids[info->nr_cpus++] = (u8)id;
		} else if (type == MADT_IO_APIC && len >= 12) {
			info->nr_ioapics++;
			info->ioapic_addr = *(const u32 *)(p + 4);
			info->ioapic_gsi_base = *(const u32 *)(p + 8);
		}
		p += len;
	}
}

void madt_check_cpus(const struct madt_info *m, unsigned int expected)
{
	bool seen[MADT_MAX_CPUS] = { false };

	CHECK(m->nr_cpus == expected, "MADT lists %u enabled CPUs, Kiln was given %u",
	      m->nr_cpus, expected);
	for (unsigned int i = 0; i < m->nr_cpus; i++) {
		u8 id = m->apic_ids[i];

		CHECK(id < expected, "MADT: APIC ID %u, expected IDs 0..%u", id, expected - 1);
		CHECK(!seen[id], "MADT: APIC ID %u listed twice", id);
		seen[id] = true;
	}
}
