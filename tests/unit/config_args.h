/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_TESTS_CONFIG_ARGS_H
#define KILN_TESTS_CONFIG_ARGS_H

/*
 * config_parse_run() on a NULL-terminated list of words, "run" first, as
 * the command line would give them: (const char *[]){ "run", "-m", "1G",
 * NULL }. Header-only, so it links into nothing it is not included by.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/config.h"

#define CONFIG_ARGS_MAX 32

static inline int parse_args(struct vm_config *cfg, const char *const *args)
{
	char *argv[CONFIG_ARGS_MAX];
	int argc = 0;

	while (args[argc]) {
		assert_true(argc < CONFIG_ARGS_MAX);
		argv[argc] = (char *)args[argc];
		argc++;
	}
	return config_parse_run(cfg, argc, argv);
}

#endif
