/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_LIB_MEMSTREAM_H
#define KILN_LIB_MEMSTREAM_H

#include <stdio.h>

/*
 * Closes an open_memstream() stream whose buffer is *out. On a write or
 * close error (out of memory) the buffer is freed, *out is NULL, and -1 is
 * returned, so that callers never hand out a truncated text.
 */
int memstream_finish(FILE *f, char **out);

#endif
