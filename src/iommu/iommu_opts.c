// SPDX-License-Identifier: Apache-2.0
/* --iommu intel[,intremap=on|off][,eim=off]: QEMU's intel-iommu spellings. */
#include <stdlib.h>
#include <string.h>

#include "cli/config.h"
#include "lib/log.h"

static int on_off(const char *flag, const char *opt, const char *v, bool *out)
{
	if (!strcmp(v, "on")) {
		*out = true;
	} else if (!strcmp(v, "off")) {
		*out = false;
	} else {
		pr_err("%s: %s wants on or off, not '%s'", flag, opt, v);
		return -1;
	}
	return 0;
}

static int parse_option(struct vm_config *cfg, const char *flag, const char *opt)
{
	bool eim;

	if (!strncmp(opt, "intremap=", 9))
		return on_off(flag, "intremap", opt + 9, &cfg->iommu_intremap);
	if (!strncmp(opt, "eim=", 4)) {
		if (on_off(flag, "eim", opt + 4, &eim))
			return -1;
		if (eim) {
			pr_err("%s: eim=on (x2APIC interrupt remapping) is not modelled", flag);
			return -1;
		}
		return 0;
	}
	pr_err("%s: unknown option '%s' (intremap=on|off, eim=off)", flag, opt);
	return -1;
}

int config_parse_iommu(struct vm_config *cfg, const char *flag, const char *val)
{
	char *copy, *opt, *save = NULL;
	int ret = 0;

	if (strcmp(val, "intel") && strncmp(val, "intel,", 6)) {
		pr_err("%s '%s': the only IOMMU is intel (VT-d)", flag, val);
		return -1;
	}
	copy = strdup(val);
	if (!copy)
		return -1;
	cfg->iommu = true;
	strtok_r(copy, ",", &save);
	while (!ret && (opt = strtok_r(NULL, ",", &save)))
		ret = parse_option(cfg, flag, opt);
	free(copy);
	return ret;
}
