// SPDX-License-Identifier: Apache-2.0
#include <stdlib.h>

#include "lib/memstream.h"

int memstream_finish(FILE *f, char **out)
{
	int failed = ferror(f);

	if (fclose(f) || failed) {
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}
