// SPDX-License-Identifier: Apache-2.0
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "cli/config.h"
#include "cli/ctl.h"
#include "lib/log.h"
#include "machine/vm.h"

#define KILN_VERSION "0.1.0"

static int cmd_run(int argc, char **argv)
{
	static struct vm_config cfg;
	struct api_server *api;
	struct vm *vm;
	int code;

	if (config_parse_run(&cfg, argc, argv))
		return EXIT_CODE_USAGE;
	if (cfg.trace)
		log_threshold = LOG_DEBUG;
	vm = vm_create(&cfg);
	if (!vm)
		return EXIT_CODE_USAGE;
	if (api_server_start(vm, cfg.api_sock, KILN_VERSION, &api)) {
		vm_destroy(vm);
		return EXIT_CODE_USAGE;
	}
	code = vm_run(vm);
	api_server_stop(api);
	vm_destroy(vm);
	return code;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: kiln <command> [options]\n"
		"\n"
		"  run        boot a guest (kiln run --help)\n"
		"  ctl        drive a running VM through its API (kiln ctl --help)\n"
		"  list       the running VMs of this user\n"
		"  version    print the version\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_CODE_USAGE;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ctl"))
		return ctl_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return list_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("kiln %s\n", KILN_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	pr_err("unknown command '%s'", argv[1]);
	usage(stderr);
	return EXIT_CODE_USAGE;
}
