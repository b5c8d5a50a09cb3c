// SPDX-License-Identifier: Apache-2.0
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "api/runtime_dir.h"
#include "cli/ctl.h"

/* A VM that does not answer within this is shown as unreachable. */
#define LIST_TIMEOUT_MS 2000

struct list_state {
	bool json;
	struct json_object *array;
};

static const char *field(struct json_object *o, const char *key, const char *dflt)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return dflt;
	return json_object_get_string(v);
}

static void list_one(pid_t pid, const char *entry, const char *sock, void *opaque)
{
	struct list_state *st = opaque;
	struct json_object *vm = NULL, *cfg = NULL, *row;
	struct ctl_response resp;
	char err[PATH_MAX + 128];

	if (ctl_http(entry, "GET", "/vm", NULL, LIST_TIMEOUT_MS, &resp, err, sizeof(err)) == 0) {
		if (resp.status == 200)
			vm = json_tokener_parse(resp.body);
		ctl_response_free(&resp);
	}
	if (vm)
		json_object_object_get_ex(vm, "config", &cfg);

	if (st->json) {
		row = json_object_new_object();
		json_object_object_add(row, "pid", json_object_new_int64(pid));
		json_object_object_add(row, "socket", json_object_new_string(sock));
		json_object_object_add(row, "state",
				       json_object_new_string(field(vm, "state", "Unreachable")));
		if (vm) {
			json_object_object_add(row, "engine",
					       json_object_new_string(field(vm, "engine", "")));
			json_object_object_add(row, "vcpus", json_object_get(
				json_object_object_get(cfg, "vcpus")));
			json_object_object_add(row, "mem_mib", json_object_get(
				json_object_object_get(cfg, "mem_mib")));
		}
		json_object_array_add(st->array, row);
	} else {
		char mem[32] = "-";

		if (cfg)
			snprintf(mem, sizeof(mem), "%s MiB", field(cfg, "mem_mib", "?"));
		printf("%-8d %-7s %-6s %-10s %-11s %s\n", (int)pid, field(vm, "engine", "-"),
		       field(cfg, "vcpus", "-"), mem, field(vm, "state", "Unreachable"), sock);
	}
	json_object_put(vm);
}

int list_main(int argc, char **argv)
{
	struct list_state st = { 0 };
	char dir[PATH_MAX], err[PATH_MAX + 64];

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			st.json = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: kiln list [--json]\n\n"
			       "The VMs this user runs, found through $XDG_RUNTIME_DIR/kiln\n"
			       "(/run/kiln for root when XDG_RUNTIME_DIR is unset).\n");
			return 0;
		} else {
			fprintf(stderr, "kiln list: unknown flag '%s'\n", argv[i]);
			return 2;
		}
	}
	/* Created if missing: no VM has run yet, and the list is empty. */
	if (runtime_dir_get(dir, sizeof(dir), true, err, sizeof(err))) {
		fprintf(stderr, "kiln list: %s\n", err);
		return 1;
	}
	if (st.json)
		st.array = json_object_new_array();
	else
		printf("%-8s %-7s %-6s %-10s %-11s %s\n", "PID", "ENGINE", "VCPUS", "MEMORY",
		       "STATE", "SOCKET");
	if (runtime_dir_scan(dir, list_one, &st) < 0) {
		fprintf(stderr, "kiln list: cannot read %s\n", dir);
		json_object_put(st.array);
		return 1;
	}
	if (st.json) {
		int flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			    JSON_C_TO_STRING_NOSLASHESCAPE;

		printf("%s\n", json_object_to_json_string_ext(st.array, flags));
		json_object_put(st.array);
	}
	return 0;
}
