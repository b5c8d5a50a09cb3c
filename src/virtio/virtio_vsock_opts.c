// SPDX-License-Identifier: Apache-2.0
/* --vsock cid=N,uds=PATH */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "cli/config.h"
#include "lib/log.h"

/* PATH_P must fit a sockaddr_un for every port P: "_4294967295" is 11 bytes. */
#define VSOCK_PORT_SUFFIX_MAX	11

static int parse_cid(const char *s, u32 *cid)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	/* 0-2 are the hypervisor, local and host; -1 is "any". */
	if (errno || *end || v < 3 || v >= 0xffffffffULL)
		return -1;
	*cid = v;
	return 0;
}

int config_parse_vsock(struct vm_config *cfg, const char *flag, const char *val)
{
	struct vsock_config v = { .enabled = true };
	char *copy, *opt, *save = NULL;
	bool have_cid = false;

	if (cfg->vsock.enabled) {
		pr_err("%s: only one vsock device", flag);
		return -1;
	}
	copy = strdup(val);
	if (!copy)
		return -1;
	for (opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
		if (!strncmp(opt, "cid=", 4)) {
			if (parse_cid(opt + 4, &v.cid)) {
				pr_err("%s '%s': cid= must be 3..4294967294", flag, val);
				goto fail;
			}
			have_cid = true;
		} else if (!strncmp(opt, "uds=", 4) && opt[4] && !v.uds_path) {
			v.uds_path = strdup(opt + 4);
			if (!v.uds_path)
				goto fail;
		} else {
			pr_err("%s '%s': unknown or repeated option '%s' (cid=N, uds=PATH)", flag,
			       val, opt);
			goto fail;
		}
	}
	if (!have_cid || !v.uds_path) {
		pr_err("%s '%s': both cid=N and uds=PATH are needed", flag, val);
		goto fail;
	}
	if (strlen(v.uds_path) + VSOCK_PORT_SUFFIX_MAX >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		pr_err("%s '%s': the socket path is too long (at most %zu bytes)", flag, val,
		       sizeof(((struct sockaddr_un *)0)->sun_path) - 1 - VSOCK_PORT_SUFFIX_MAX);
		goto fail;
	}
	free(copy);
	cfg->vsock = v;
	return 0;
fail:
	free(v.uds_path);
	free(copy);
	return -1;
}
