/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_DIFFTEST_CORPUS_H
#define KILN_TESTS_DIFFTEST_CORPUS_H

#include "dt.h"

struct corpus;

/* Reads `objdump -d --insn-width=15` output; NULL (and a message) on failure. */
struct corpus *corpus_load(const char *path, bool fsgs);
void corpus_free(struct corpus *c);
/* Instructions kept, and in how many runs of consecutive ones. */
unsigned int corpus_size(const struct corpus *c, unsigned int *runs);

/*
 * Sequence `seed`: a window of consecutive instructions and a random state
 * that makes its memory operands land in the data pages. keep (bit i for
 * instruction i) drops instructions, for shrinking. 0, or -1 if empty.
 */
int corpus_sequence(struct corpus *c, struct dt_seq *seq, u64 seed, const u64 *keep,
		    unsigned int *ninsns);

#endif
