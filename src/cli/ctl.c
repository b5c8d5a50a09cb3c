// SPDX-License-Identifier: Apache-2.0
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_call.h"
#include "api/runtime_dir.h"
#include "cli/ctl.h"
#include "lib/types.h"

/* Pausing waits for every vCPU to park; give the VM time. */
#define CTL_TIMEOUT_MS 30000

struct ctl_verb {
	const char *name;
	const char *arg;		/* the argument's name in usage, or NULL */
	const char *method;
	const char *path;
	/* Builds the JSON body from the argument; NULL when there is none. */
	struct json_object *(*body)(const struct ctl_verb *verb, const char *arg);
	/* Human output for a 200 answer; NULL prints the body as it came. */
	void (*print)(struct json_object *obj);
	const char *done;		/* printed for a 204 answer */
	const char *help;
};

static struct json_object *one_field(const char *key, struct json_object *val)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, key, val);
	return o;
}

static struct json_object *body_pause(const struct ctl_verb *verb, const char *arg)
{
	(void)verb, (void)arg;
	return one_field("state", json_object_new_string(api_vm_state_names[API_VM_PAUSED]));
}

static struct json_object *body_resume(const struct ctl_verb *verb, const char *arg)
{
	(void)verb, (void)arg;
	return one_field("state", json_object_new_string(api_vm_state_names[API_VM_RESUMED]));
}

static struct json_object *action(enum api_action a)
{
	return one_field("action_type", json_object_new_string(api_action_names[a]));
}

static struct json_object *body_shutdown(const struct ctl_verb *verb, const char *arg)
{
	(void)verb, (void)arg;
	return action(API_ACTION_SHUTDOWN);
}

static struct json_object *body_reset(const struct ctl_verb *verb, const char *arg)
{
	(void)verb, (void)arg;
	return action(API_ACTION_RESET);
}

static struct json_object *body_cad(const struct ctl_verb *verb, const char *arg)
{
	(void)verb, (void)arg;
	return action(API_ACTION_CTRL_ALT_DEL);
}

static struct json_object *body_balloon(const struct ctl_verb *verb, const char *arg)
{
	unsigned long long mib;
	char *end;

	errno = 0;
	mib = strtoull(arg, &end, 10);
	if (!isdigit((unsigned char)*arg) || *end || errno) {
		fprintf(stderr, "kiln ctl %s: '%s' is not a number of MiB\n", verb->name, arg);
		return NULL;
	}
	return one_field("amount_mib", json_object_new_uint64(mib));
}

static struct json_object *body_snapshot(const struct ctl_verb *verb, const char *arg)
{
	char path[PATH_MAX], cwd[PATH_MAX];

	/* The VM resolves paths from its own directory: send an absolute one. */
	if (arg[0] == '/')
		snprintf(path, sizeof(path), "%s", arg);
	else if (!getcwd(cwd, sizeof(cwd)) ||
		 snprintf(path, sizeof(path), "%s/%s", cwd, arg) >= (int)sizeof(path)) {
		fprintf(stderr, "kiln ctl %s: cannot make '%s' absolute\n", verb->name, arg);
		return NULL;
	}
	return one_field("snapshot_path", json_object_new_string(path));
}

static struct json_object *body_snapshot_diff(const struct ctl_verb *verb, const char *arg)
{
	struct json_object *o = body_snapshot(verb, arg);

	if (o)
		json_object_object_add(o, "snapshot_type", json_object_new_string("Diff"));
	return o;
}

static const char *str_field(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null))
		return "-";
	return json_object_get_string(v);
}

static void print_info(struct json_object *o)
{
	struct json_object *cfg = NULL, *v;
	double uptime = 0;

	if (json_object_object_get_ex(o, "uptime_ms", &v))
		uptime = json_object_get_int64(v) / 1000.0;
	json_object_object_get_ex(o, "config", &cfg);
	printf("state:   %s\n", str_field(o, "state"));
	printf("uptime:  %.3f s\n", uptime);
	printf("pid:     %s\n", str_field(o, "pid"));
	printf("engine:  %s\n", str_field(o, "engine"));
	printf("vcpus:   %s\n", str_field(cfg, "vcpus"));
	printf("memory:  %s MiB\n", str_field(cfg, "mem_mib"));
	printf("kernel:  %s\n", str_field(cfg, "kernel"));
	printf("initrd:  %s\n", str_field(cfg, "initrd"));
	printf("cmdline: %s\n", str_field(cfg, "cmdline"));
}

static void print_version(struct json_object *o)
{
	printf("kiln %s\n", str_field(o, "version"));
}

/* {"group": {"name": value}} as "group: name=value ..." lines, like --stats. */
static void print_groups(struct json_object *o)
{
	json_object_object_foreach(o, group, fields) {
		printf("%s:", group);
		if (json_object_is_type(fields, json_type_object)) {
			json_object_object_foreach(fields, name, val)
				printf(" %s=%s", name, json_object_get_string(val));
		} else {
			printf(" %s", json_object_get_string(fields));
		}
		putchar('\n');
	}
}

static void print_fields(struct json_object *o)
{
	json_object_object_foreach(o, name, val)
		printf("%s: %s\n", name, json_object_get_string(val));
}

static const struct ctl_verb verbs[] = {
	{ "info", NULL, "GET", "/vm", NULL, print_info, NULL,
	  "state, uptime and configuration" },
	{ "version", NULL, "GET", "/version", NULL, print_version, NULL,
	  "the VM's Kiln version" },
	{ "pause", NULL, "PATCH", "/vm", body_pause, NULL, "paused",
	  "stop every vCPU" },
	{ "resume", NULL, "PATCH", "/vm", body_resume, NULL, "resumed",
	  "let the vCPUs run again" },
	{ "shutdown", NULL, "PUT", "/actions", body_shutdown, NULL,
	  "shutdown requested (ACPI power button)", "ask the guest to power off" },
	{ "reset", NULL, "PUT", "/actions", body_reset, NULL, "reset requested",
	  "reset the VM (Kiln exits with code 4)" },
	{ "ctrl-alt-del", NULL, "PUT", "/actions", body_cad, NULL, "Ctrl-Alt-Del sent",
	  "press Ctrl-Alt-Del on the guest's keyboard" },
	{ "stats", NULL, "GET", "/stats", NULL, print_groups, NULL,
	  "exit counters, device and memory figures" },
	{ "metrics", NULL, "GET", "/metrics", NULL, NULL, NULL,
	  "the same figures in Prometheus text format" },
	{ "balloon", "MIB", "PUT", "/balloon", body_balloon, NULL, "balloon target set",
	  "inflate or deflate the balloon to MIB" },
	{ "balloon-stats", NULL, "GET", "/balloon/statistics", NULL, print_fields, NULL,
	  "the balloon's size and the guest's memory statistics" },
	{ "snapshot", "PATH", "PUT", "/snapshot/create", body_snapshot, NULL,
	  "snapshot written", "write a snapshot of the VM to PATH" },
	{ "snapshot-diff", "PATH", "PUT", "/snapshot/create", body_snapshot_diff, NULL,
	  "diff snapshot written", "write the pages changed since the last snapshot" },
};

static void ctl_usage(FILE *out)
{
	fprintf(out, "usage: kiln ctl [--sock PATH | --pid PID] [--json] VERB [ARG]\n\n");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++) {
		char name[32];

		snprintf(name, sizeof(name), "%s%s%s", verbs[i].name, verbs[i].arg ? " " : "",
			 verbs[i].arg ? verbs[i].arg : "");
		fprintf(out, "  %-18s %s\n", name, verbs[i].help);
	}
	fprintf(out, "\nWithout --sock or --pid, the one VM `kiln list` shows is used.\n"
		"--json prints the API's answer as it came. Exit status: 0 on success,\n"
		"1 when the VM answers an error or cannot be reached, 2 on bad usage.\n");
}

struct only_vm {
	int count;
	char sock[PATH_MAX];
};

static void note_vm(pid_t pid, const char *entry, const char *sock, void *opaque)
{
	struct only_vm *o = opaque;

	(void)pid, (void)sock;
	/* The entry leads to the socket, and stays valid if the target moves. */
	if (o->count++ == 0)
		snprintf(o->sock, sizeof(o->sock), "%s", entry);
}

/* Picks the socket: --sock, --pid, or the only VM running. */
static int find_socket(const char *sock, const char *pid, char *out, size_t len)
{
	char dir[PATH_MAX], err[PATH_MAX + 64];
	struct only_vm only = { 0 };
	char *end;
	long v;

	if (sock) {
		snprintf(out, len, "%s", sock);
		return 0;
	}
	if (runtime_dir_get(dir, sizeof(dir), true, err, sizeof(err))) {
		fprintf(stderr, "kiln ctl: %s: use --sock PATH\n", err);
		return -1;
	}
	if (pid) {
		v = strtol(pid, &end, 10);
		if (*end || v <= 0 || v > INT_MAX) {
			fprintf(stderr, "kiln ctl: --pid '%s' is not a process ID\n", pid);
			return -1;
		}
		return runtime_dir_entry(dir, v, out, len);
	}
	if (runtime_dir_scan(dir, note_vm, &only) < 0 || only.count == 0) {
		fprintf(stderr, "kiln ctl: no running VM found in %s: use --sock PATH\n", dir);
		return -1;
	}
	if (only.count > 1) {
		fprintf(stderr, "kiln ctl: %d VMs are running: pick one with --sock or --pid "
			"(see kiln list)\n", only.count);
		return -1;
	}
	snprintf(out, len, "%s", only.sock);
	return 0;
}

static void print_error(const struct ctl_response *resp)
{
	struct json_object *o = json_tokener_parse(resp->body);
	struct json_object *msg;

	if (o && json_object_object_get_ex(o, "error", &msg))
		fprintf(stderr, "kiln ctl: %s (HTTP %d)\n", json_object_get_string(msg),
			resp->status);
	else
		fprintf(stderr, "kiln ctl: HTTP %d\n", resp->status);
	json_object_put(o);
}

static int run_verb(const struct ctl_verb *verb, const char *sock, const char *arg, bool raw)
{
	struct json_object *body = NULL, *answer;
	struct ctl_response resp;
	char err[PATH_MAX + 128];
	int ret;

	if (verb->body) {
		body = verb->body(verb, arg);
		if (!body)
			return 2;
	}
	ret = ctl_http(sock, verb->method, verb->path,
		       body ? json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN) : NULL,
		       CTL_TIMEOUT_MS, &resp, err, sizeof(err));
	json_object_put(body);
	if (ret) {
		fprintf(stderr, "kiln ctl: %s\n", err);
		return 1;
	}
	if (resp.status < 200 || resp.status >= 300) {
		if (raw)
			fwrite(resp.body, 1, resp.body_len, stdout);
		print_error(&resp);
		ctl_response_free(&resp);
		return 1;
	}
	if (resp.status == 204) {
		if (!raw)
			printf("%s\n", verb->done ? verb->done : "ok");
	} else if (raw || !verb->print) {
		fwrite(resp.body, 1, resp.body_len, stdout);
	} else {
		answer = json_tokener_parse(resp.body);
		if (!answer) {
			fprintf(stderr, "kiln ctl: the VM's answer is not JSON\n");
			ctl_response_free(&resp);
			return 1;
		}
		verb->print(answer);
		json_object_put(answer);
	}
	ctl_response_free(&resp);
	return 0;
}

int ctl_main(int argc, char **argv)
{
	const char *sock = NULL, *pid = NULL;
	char path[PATH_MAX];
	bool raw = false;
	int i;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json")) {
			raw = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			ctl_usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--sock") && i + 1 < argc) {
			sock = argv[++i];
		} else if (!strcmp(argv[i], "--pid") && i + 1 < argc) {
			pid = argv[++i];
		} else {
			fprintf(stderr, "kiln ctl: unknown or incomplete flag '%s'\n", argv[i]);
			ctl_usage(stderr);
			return 2;
		}
	}
	if (i == argc) {
		ctl_usage(stderr);
		return 2;
	}
	for (size_t v = 0; v < ARRAY_SIZE(verbs); v++) {
		const struct ctl_verb *verb = &verbs[v];
		int nargs = verb->arg ? 1 : 0;

		if (strcmp(argv[i], verb->name))
			continue;
		if (argc - i - 1 != nargs) {
			fprintf(stderr, "kiln ctl %s: expected %s\n", verb->name,
				nargs ? verb->arg : "no argument");
			return 2;
		}
		if (find_socket(sock, pid, path, sizeof(path)))
			return 1;
		return run_verb(verb, path, nargs ? argv[i + 1] : NULL, raw);
	}
	fprintf(stderr, "kiln ctl: unknown verb '%s'\n", argv[i]);
	ctl_usage(stderr);
	return 2;
}
