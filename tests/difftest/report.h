/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_DIFFTEST_REPORT_H
#define KILN_TESTS_DIFFTEST_REPORT_H

#include <stdio.h>

#include "compare.h"

struct report;

/* The soft side's modes, as bits of a mismatch's modes. */
#define RUN_SINGLE 0x1		/* one instruction per block */
#define RUN_BLOCK 0x2		/* multi-instruction blocks */
#define RUN_JIT 0x4		/* compiled blocks, first run */
#define RUN_WARM 0x8		/* compiled blocks, the run after (chained) */
#define RUN_LINKED 0x10		/* the run after that, through the direct jumps it linked */

/* "compiled blocks (warm)" for one bit; "single, block" for a set. */
const char *report_mode_name(unsigned int bit);
const char *report_modes_text(unsigned int modes);

/* findings: the markdown file written by report_summary(), or NULL. */
struct report *report_new(const char *findings, const char *corpus_path);
void report_free(struct report *r);

/* Files a shrunk mismatch; prints it when its class is new and print is set. */
bool report_mismatch(struct report *r, const struct dt_seq *seq, const u64 *keep,
		     unsigned int modes, const struct dt_outcome *native,
		     const struct dt_outcome *soft, const struct dt_diff *d, bool print);
void report_unclassified(struct report *r);
unsigned int report_classes(const struct report *r);

/* Prints the classes (and writes the findings file). */
void report_summary(struct report *r, FILE *out);

void report_sequence(FILE *f, const struct dt_seq *seq, const u64 *keep);
void report_outcome(FILE *f, const char *who, const struct dt_outcome *o);
void report_disassembly(FILE *f, const struct dt_seq *seq);

#endif
