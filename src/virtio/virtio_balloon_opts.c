// SPDX-License-Identifier: Apache-2.0
/* --balloon [size=MIB][,deflate-on-oom][,free-page-reporting] */
#include <stdlib.h>
#include <string.h>

#include "cli/config.h"
#include "lib/log.h"

static int balloon_option(struct balloon_config *b, const char *flag, const char *val,
			  const char *opt)
{
	u64 bytes;

	if (!strcmp(opt, "deflate-on-oom")) {
		b->deflate_on_oom = true;
	} else if (!strcmp(opt, "free-page-reporting")) {
		b->free_page_reporting = true;
	} else if (!strncmp(opt, "size=", 5)) {
		/* parse_size: a bare number is MiB, and 1G works too. */
		if (parse_size(opt + 5, &bytes) || bytes % MiB) {
			pr_err("%s '%s': size= takes a whole number of MiB", flag, val);
			return -1;
		}
		b->size_mib = bytes / MiB;
	} else {
		pr_err("%s '%s': unknown option '%s' (size=MIB, deflate-on-oom, "
		       "free-page-reporting)", flag, val, opt);
		return -1;
	}
	return 0;
}

int config_parse_balloon(struct vm_config *cfg, const char *flag, const char *val)
{
	struct balloon_config b = { .enabled = true };
	char *copy, *opt, *save = NULL;
	int ret = 0;

	if (cfg->balloon.enabled) {
		pr_err("%s: only one balloon device", flag);
		return -1;
	}
	copy = strdup(val);
	if (!copy)
		return -1;
	for (opt = strtok_r(copy, ",", &save); opt && !ret; opt = strtok_r(NULL, ",", &save))
		ret = balloon_option(&b, flag, val, opt);
	free(copy);
	if (!ret)
		cfg->balloon = b;
	return ret;
}
