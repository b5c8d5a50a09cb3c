// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/api_exec.h"
#include "api/hooks.h"
#include "api/stats_format.h"
#include "api_test_vm.h"

/* Runs one request through routing, validation and the handler. */
static int call(struct api_ctx *ctx, const char *method, const char *path, const char *body,
		struct json_object **out, char **text)
{
	struct http_response resp = { 0 };
	struct http_request req = { 0 };
	int status;

	snprintf(req.method, sizeof(req.method), "%s", method);
	snprintf(req.path, sizeof(req.path), "%s", path);
	if (body) {
		req.body = body;
		req.body_len = strlen(body);
	}
	api_handle(ctx, &req, &resp);
	status = resp.status;
	if (out)
		*out = resp.body ? json_tokener_parse(resp.body) : NULL;
	if (text)
		*text = resp.body ? strndup(resp.body, resp.body_len) : NULL;
	http_response_reset(&resp);
	return status;
}

static const char *str_at(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, a, &v))
		return NULL;
	if (b && !json_object_object_get_ex(v, b, &v))
		return NULL;
	return json_object_get_string(v);
}

static int setup(void **state)
{
	struct api_ctx *ctx = calloc(1, sizeof(*ctx));

	api_ctx_init(ctx, api_test_vm_create(), "9.9.9");
	*state = ctx;
	return 0;
}

static int teardown(void **state)
{
	struct api_ctx *ctx = *state;

	api_test_vm_destroy(ctx->vm);
	free(ctx);
	return 0;
}

static void root_version_and_vm(void **state)
{
	struct api_ctx *ctx = *state;
	struct json_object *o;

	assert_int_equal(call(ctx, "GET", "/", NULL, &o, NULL), 200);
	assert_string_equal(str_at(o, "app_name", NULL), "kiln");
	assert_string_equal(str_at(o, "engine", NULL), "test");
	json_object_put(o);
	assert_int_equal(call(ctx, "GET", "/version", NULL, &o, NULL), 200);
	assert_string_equal(str_at(o, "version", NULL), "9.9.9");
	json_object_put(o);
	assert_int_equal(call(ctx, "GET", "/vm", NULL, &o, NULL), 200);
	assert_string_equal(str_at(o, "state", NULL), "Running");
	assert_non_null(str_at(o, "uptime_ms", NULL));
	assert_string_equal(str_at(o, "config", "vcpus"), "2");
	assert_string_equal(str_at(o, "config", "mem_mib"), "256");
	assert_string_equal(str_at(o, "config", "kernel"), "/boot/test-kernel");
	assert_string_equal(str_at(o, "config", "cmdline"), "console=ttyS0");
	assert_null(str_at(o, "config", "initrd"));
	json_object_put(o);
}

static void pause_resume(void **state)
{
	struct api_ctx *ctx = *state;
	struct json_object *o;

	assert_int_equal(call(ctx, "PATCH", "/vm", "{\"state\":\"Paused\"}", NULL, NULL), 204);
	assert_true(ctx->vm->paused);
	assert_int_equal(call(ctx, "GET", "/vm", NULL, &o, NULL), 200);
	assert_string_equal(str_at(o, "state", NULL), "Paused");
	json_object_put(o);
	/* Pausing twice is not an error. */
	assert_int_equal(call(ctx, "PATCH", "/vm", "{\"state\":\"Paused\"}", NULL, NULL), 204);
	assert_int_equal(call(ctx, "PATCH", "/vm", "{\"state\":\"Resumed\"}", NULL, NULL), 204);
	assert_false(ctx->vm->paused);
	assert_int_equal(call(ctx, "PATCH", "/vm", "{\"state\":\"Stopped\"}", &o, NULL), 400);
	assert_string_equal(str_at(o, "field", NULL), "state");
	json_object_put(o);
}

static void reset_stops_with_code_4(void **state)
{
	struct api_ctx *ctx = *state;
	struct json_object *o;

	assert_false(vm_stopping(ctx->vm));
	assert_int_equal(call(ctx, "PUT", "/actions", "{\"action_type\":\"Reset\"}", NULL, NULL),
			 204);
	assert_true(vm_stopping(ctx->vm));
	assert_int_equal(ctx->vm->stop_reason, VM_STOP_RESET);
	assert_int_equal(ctx->vm->exit_code, EXIT_CODE_RESET);
	assert_int_equal(call(ctx, "GET", "/vm", NULL, &o, NULL), 200);
	assert_string_equal(str_at(o, "state", NULL), "Stopping");
	json_object_put(o);
	/* A stopping VM cannot be paused. */
	assert_int_equal(call(ctx, "PATCH", "/vm", "{\"state\":\"Paused\"}", NULL, NULL), 400);
}

static void actions_the_vm_lacks(void **state)
{
	struct api_ctx *ctx = *state;
	struct json_object *o;

	/* The test VM has no devices: no power button, no keyboard. */
	assert_int_equal(call(ctx, "PUT", "/actions", "{\"action_type\":\"Shutdown\"}", &o,
			      NULL), 400);
	assert_string_equal(str_at(o, "error", NULL), "this VM has no ACPI power button");
	json_object_put(o);
	assert_int_equal(call(ctx, "PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}",
			      &o, NULL), 400);
	assert_non_null(strstr(str_at(o, "error", NULL), "no i8042"));
	json_object_put(o);
	assert_false(vm_stopping(ctx->vm));
}

static void stats_json(void **state)
{
	struct api_ctx *ctx = *state;
	struct json_object *o;
	const char *rss;

	assert_int_equal(call(ctx, "GET", "/stats", NULL, &o, NULL), 200);
	assert_string_equal(str_at(o, "vm", "ram_bytes"), "268435456");
	assert_string_equal(str_at(o, "vm", "vcpus"), "0");
	assert_string_equal(str_at(o, "vm", "paused"), "0");
	assert_non_null(str_at(o, "bus", "pio_unclaimed"));
	rss = str_at(o, "host_mem", "rss_bytes");
	assert_non_null(rss);
	assert_true(strtoull(rss, NULL, 10) > 1024 * 1024);
	assert_non_null(str_at(o, "host_mem", "hugepages_pool"));
	assert_null(str_at(o, "balloon", NULL));
	json_object_put(o);
}

/* Each line of the exposition format, as Prometheus' text parser reads it. */
static void check_exposition(const char *text)
{
	regex_t type, sample;
	char families[64][128];
	int nr_families = 0;
	char current[128] = "";
	const char *line = text;

	assert_int_equal(regcomp(&type, "^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
				 "(counter|gauge|untyped)$", REG_EXTENDED), 0);
	assert_int_equal(regcomp(&sample, "^([a-zA-Z_:][a-zA-Z0-9_:]*)"
				 "(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\""
				 "(,[a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\\n]|\\\\[\\\\\"n])*\")*\\})?"
				 " [0-9]+$", REG_EXTENDED), 0);
	assert_true(strlen(text) > 0 && text[strlen(text) - 1] == '\n');
	while (*line) {
		const char *nl = strchr(line, '\n');
		char buf[512];
		regmatch_t m[2];

		snprintf(buf, sizeof(buf), "%.*s", (int)(nl - line), line);
		if (!regexec(&type, buf, 2, m, 0)) {
			/* A family is declared once, before its samples. */
			snprintf(current, sizeof(current), "%.*s", (int)(m[1].rm_eo - m[1].rm_so),
				 buf + m[1].rm_so);
			for (int i = 0; i < nr_families; i++)
				if (!strcmp(families[i], current))
					fail_msg("family %s declared twice", current);
			assert_true(nr_families < 64);
			snprintf(families[nr_families++], 128, "%s", current);
		} else if (!regexec(&sample, buf, 2, m, 0)) {
			if ((size_t)(m[1].rm_eo - m[1].rm_so) != strlen(current) ||
			    strncmp(buf, current, strlen(current)))
				fail_msg("sample outside its family block: %s", buf);
		} else {
			fail_msg("not a valid exposition line: '%s'", buf);
		}
		line = nl + 1;
	}
	regfree(&type);
	regfree(&sample);
}

static void metrics_text(void **state)
{
	struct api_ctx *ctx = *state;
	char *text;

	assert_int_equal(call(ctx, "GET", "/metrics", NULL, NULL, &text), 200);
	check_exposition(text);
	assert_non_null(strstr(text, "# TYPE kiln_vm_ram_bytes untyped\nkiln_vm_ram_bytes 268435456\n"));
	assert_non_null(strstr(text, "\nkiln_host_mem_rss_bytes "));
	assert_non_null(strstr(text, "\nkiln_vm_paused 0\n"));
	free(text);
}

static void prometheus_mapping(void **state)
{
	struct prom_writer w;
	struct stats_visitor v = { .emit = prom_emit, .ctx = &w };
	char *text;
	size_t len;

	(void)state;
	prom_writer_init(&w);
	/* Interleaved families, as vm_report_stats() emits them. */
	stats_emit(&v, "vcpu0", "exits_io", 5);
	stats_emit(&v, "vcpu0", "run_ns", 100);
	stats_emit(&v, "vcpu1", "exits_io", 7);
	stats_emit(&v, "vcpu1", "exits_hlt", 1);
	stats_emit(&v, "vcpu1", "run_ns", 200);
	stats_emit(&v, "soft-tlb", "hits", 3);
	stats_emit(&v, "uart0", "exits_we\"ird\\", 2);
	stats_emit(&v, "soft-tlb", "hits", 4);		/* a repeat: dropped */
	stats_emit(&v, "42", "x", 9);			/* all digits: no label */
	assert_int_equal(prom_format(&w, &text, &len), 0);
	assert_string_equal(text,
		"# TYPE kiln_42_x untyped\n"
		"kiln_42_x 9\n"
		"# TYPE kiln_soft_tlb_hits untyped\n"
		"kiln_soft_tlb_hits 3\n"
		"# TYPE kiln_uart_exits_total counter\n"
		"kiln_uart_exits_total{uart=\"0\",reason=\"we\\\"ird\\\\\"} 2\n"
		"# TYPE kiln_vcpu_exits_total counter\n"
		"kiln_vcpu_exits_total{vcpu=\"0\",reason=\"io\"} 5\n"
		"kiln_vcpu_exits_total{vcpu=\"1\",reason=\"hlt\"} 1\n"
		"kiln_vcpu_exits_total{vcpu=\"1\",reason=\"io\"} 7\n"
		"# TYPE kiln_vcpu_run_ns untyped\n"
		"kiln_vcpu_run_ns{vcpu=\"0\"} 100\n"
		"kiln_vcpu_run_ns{vcpu=\"1\"} 200\n");
	check_exposition(text);
	free(text);
	prom_writer_free(&w);
}

/* A balloon device as the virtio work will plug it in. */
struct test_balloon {
	u64 target;
	int calls;
};

static int tb_set_target(void *opaque, u64 mib, char *err, size_t err_len)
{
	struct test_balloon *b = opaque;

	b->calls++;
	if (mib == 13) {
		snprintf(err, err_len, "the guest has not acknowledged the driver");
		return -1;
	}
	b->target = mib;
	return 0;
}

static void tb_report(void *opaque, const struct stats_visitor *v)
{
	struct test_balloon *b = opaque;

	stats_emit(v, "balloon", "target_mib", b->target);
	stats_emit(v, "balloon", "actual_mib", b->target / 2);
	stats_emit(v, "balloon", "free_memory", 12345);
}

static const struct api_balloon_ops tb_ops = {
	.set_target = tb_set_target,
	.report = tb_report,
};

static void balloon_and_snapshot(void **state)
{
	struct api_ctx *ctx = *state;
	struct test_balloon b = { 0 };
	struct json_object *o;

	/* Without a device: a clear 400, after validating the body. */
	assert_int_equal(call(ctx, "PUT", "/balloon", "{\"amount_mib\":64}", &o, NULL), 400);
	assert_string_equal(str_at(o, "error", NULL), "no balloon device");
	json_object_put(o);
	assert_int_equal(call(ctx, "GET", "/balloon/statistics", NULL, &o, NULL), 400);
	assert_string_equal(str_at(o, "error", NULL), "no balloon device");
	json_object_put(o);
	assert_int_equal(call(ctx, "PUT", "/snapshot/create", "{\"snapshot_path\":\"/tmp/s\"}",
			      &o, NULL), 400);
	assert_non_null(strstr(str_at(o, "error", NULL), "not supported"));
	json_object_put(o);

	api_register_balloon(ctx->vm, &tb_ops, &b);
	assert_int_equal(call(ctx, "PUT", "/balloon", "{\"amount_mib\":64}", NULL, NULL), 204);
	assert_int_equal(b.target, 64);
	/* More than the guest's 256 MiB: refused before reaching the device. */
	assert_int_equal(call(ctx, "PUT", "/balloon", "{\"amount_mib\":257}", &o, NULL), 400);
	assert_string_equal(str_at(o, "field", NULL), "amount_mib");
	json_object_put(o);
	assert_int_equal(b.calls, 1);
	assert_int_equal(call(ctx, "PUT", "/balloon", "{\"amount_mib\":13}", &o, NULL), 400);
	assert_string_equal(str_at(o, "error", NULL), "the guest has not acknowledged the driver");
	json_object_put(o);
	assert_int_equal(call(ctx, "GET", "/balloon", NULL, &o, NULL), 200);
	assert_string_equal(str_at(o, "amount_mib", NULL), "64");
	json_object_put(o);
	assert_int_equal(call(ctx, "GET", "/balloon/statistics", NULL, &o, NULL), 200);
	assert_string_equal(str_at(o, "actual_mib", NULL), "32");
	assert_string_equal(str_at(o, "free_memory", NULL), "12345");
	json_object_put(o);
	assert_int_equal(call(ctx, "GET", "/stats", NULL, &o, NULL), 200);
	assert_string_equal(str_at(o, "balloon", "target_mib"), "64");
	json_object_put(o);
	api_register_balloon(ctx->vm, NULL, NULL);
}

/* What PUT /snapshot/create passed to the snapshot hooks. */
static struct {
	unsigned int full, diff;
	char path[64];
} snap_calls;

static int fake_create(struct vm *vm, const char *path, char *err, size_t err_len)
{
	(void)vm;
	snap_calls.full++;
	snprintf(snap_calls.path, sizeof(snap_calls.path), "%s", path);
	if (!strcmp(path, "/nonexistent/dir/s")) {
		snprintf(err, err_len, "cannot create it");
		return -1;
	}
	return 0;
}

static int fake_create_diff(struct vm *vm, const char *path, char *err, size_t err_len)
{
	(void)vm;
	(void)err;
	(void)err_len;
	snap_calls.diff++;
	snprintf(snap_calls.path, sizeof(snap_calls.path), "%s", path);
	return 0;
}

static void snapshot_types(void **state)
{
	static const struct api_snapshot_ops full_only = { .create = fake_create };
	static const struct api_snapshot_ops both = {
		.create = fake_create, .create_diff = fake_create_diff,
	};
	struct api_ctx *ctx = *state;
	struct json_object *o;

	memset(&snap_calls, 0, sizeof(snap_calls));
	api_register_snapshot(ctx->vm, &full_only);
	assert_int_equal(call(ctx, "PUT", "/snapshot/create", "{\"snapshot_path\":\"/tmp/a\"}",
			      NULL, NULL), 204);
	assert_int_equal(call(ctx, "PUT", "/snapshot/create",
			      "{\"snapshot_path\":\"/tmp/b\",\"snapshot_type\":\"Full\"}", NULL, NULL),
			 204);
	assert_int_equal(snap_calls.full, 2);
	assert_string_equal(snap_calls.path, "/tmp/b");
	/* Diff without a diff hook, a type that does not exist, a failing write. */
	assert_int_equal(call(ctx, "PUT", "/snapshot/create",
			      "{\"snapshot_path\":\"/tmp/c\",\"snapshot_type\":\"Diff\"}", &o, NULL),
			 400);
	assert_string_equal(str_at(o, "error", NULL), "diff snapshots are not supported yet");
	json_object_put(o);
	assert_int_equal(call(ctx, "PUT", "/snapshot/create",
			      "{\"snapshot_path\":\"/tmp/c\",\"snapshot_type\":\"Delta\"}", &o, NULL),
			 400);
	assert_string_equal(str_at(o, "field", NULL), "snapshot_type");
	json_object_put(o);
	assert_int_equal(call(ctx, "PUT", "/snapshot/create",
			      "{\"snapshot_path\":\"/nonexistent/dir/s\"}", &o, NULL), 400);
	assert_string_equal(str_at(o, "error", NULL), "cannot create it");
	json_object_put(o);
	assert_int_equal(snap_calls.full, 3);

	api_register_snapshot(ctx->vm, &both);
	assert_int_equal(call(ctx, "PUT", "/snapshot/create",
			      "{\"snapshot_path\":\"/tmp/d\",\"snapshot_type\":\"Diff\"}", NULL, NULL),
			 204);
	assert_int_equal(snap_calls.diff, 1);
	assert_int_equal(snap_calls.full, 3);
	assert_string_equal(snap_calls.path, "/tmp/d");
	api_register_snapshot(ctx->vm, NULL);
}

static void proc_fields(void **state)
{
	char path[] = "/tmp/kiln-test-procXXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	u64 v;

	(void)state;
	fputs("Name:\tkiln\nVmRSS:\t    2144 kB\nHugePages_Total:       7\nVmRS:\t1 kB\n", f);
	fclose(f);
	assert_int_equal(proc_read_field(path, "VmRSS", &v), 0);
	assert_int_equal(v, 2144 * 1024);
	assert_int_equal(proc_read_field(path, "HugePages_Total", &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(proc_read_field(path, "VmRS", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(proc_read_field(path, "Name", &v), -1);
	assert_int_equal(proc_read_field(path, "VmSwap", &v), -1);
	assert_int_equal(proc_read_field("/nonexistent/status", "VmRSS", &v), -1);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(root_version_and_vm, setup, teardown),
		cmocka_unit_test_setup_teardown(pause_resume, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_stops_with_code_4, setup, teardown),
		cmocka_unit_test_setup_teardown(actions_the_vm_lacks, setup, teardown),
		cmocka_unit_test_setup_teardown(stats_json, setup, teardown),
		cmocka_unit_test_setup_teardown(metrics_text, setup, teardown),
		cmocka_unit_test(prometheus_mapping),
		cmocka_unit_test_setup_teardown(balloon_and_snapshot, setup, teardown),
		cmocka_unit_test_setup_teardown(snapshot_types, setup, teardown),
		cmocka_unit_test(proc_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
