// SPDX-License-Identifier: Apache-2.0
#include "mem/host_files.h"

#include <stdio.h>

int host_read_u64(const char *path, u64 *value)
{
	unsigned long long v;
	FILE *f = fopen(path, "re");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%llu", &v);
	fclose(f);
	if (n != 1)
		return -1;
	*value = v;
	return 0;
}
