// SPDX-License-Identifier: Apache-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "api/api_call.h"

/* Builds a request as the parser would, without going through bytes. */
static void make_req(struct http_request *req, const char *method, const char *path,
		     const char *body)
{
	memset(req, 0, sizeof(*req));
	snprintf(req->method, sizeof(req->method), "%s", method);
	snprintf(req->path, sizeof(req->path), "%s", path);
	req->keep_alive = true;
	if (body) {
		req->body = body;
		req->body_len = strlen(body);
		req->content_length = req->body_len;
	}
}

/* Decodes; returns the response's JSON (NULL on success). */
static struct json_object *decode(const char *method, const char *path, const char *body,
				  struct api_call *call, int *status, char *allow)
{
	struct http_response resp = { 0 };
	struct http_request req;
	struct json_object *obj = NULL;

	make_req(&req, method, path, body);
	if (api_decode(&req, call, &resp) == 0) {
		assert_int_equal(resp.status, 0);
		*status = 0;
		return NULL;
	}
	*status = resp.status;
	if (allow)
		snprintf(allow, 64, "%s", resp.allow);
	assert_string_equal(resp.content_type, "application/json");
	obj = json_tokener_parse(resp.body);
	assert_non_null(obj);
	http_response_reset(&resp);
	return obj;
}

static const char *field_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : NULL;
}

/* The request must fail with status, naming field (NULL: naming none). */
static void expect_fail(const char *method, const char *path, const char *body, int status,
			const char *field)
{
	struct api_call call;
	int got;
	struct json_object *o = decode(method, path, body, &call, &got, NULL);

	if (got != status)
		fail_msg("%s %s %s: status %d, want %d", method, path, body ? body : "", got,
			 status);
	assert_non_null(field_of(o, "error"));
	if (field)
		assert_string_equal(field_of(o, "field"), field);
	else
		assert_null(field_of(o, "field"));
	json_object_put(o);
}

static void expect_ok(const char *method, const char *path, const char *body,
		      struct api_call *call)
{
	int status;
	struct json_object *o = decode(method, path, body, call, &status, NULL);

	if (o)
		fail_msg("%s %s %s: %d %s", method, path, body ? body : "", status,
			 field_of(o, "error"));
}

static void unknown_paths_404(void **state)
{
	(void)state;
	expect_fail("GET", "/nope", NULL, 404, NULL);
	expect_fail("GET", "/vm/", NULL, 404, NULL);
	expect_fail("GET", "/VM", NULL, 404, NULL);
	expect_fail("PUT", "/balloon/statistics/x", NULL, 404, NULL);
	expect_fail("DELETE", "/machine", NULL, 404, NULL);
}

static void bad_methods_405_with_allow(void **state)
{
	struct api_call call;
	char allow[64];
	int status;
	struct json_object *o;

	(void)state;
	o = decode("DELETE", "/vm", NULL, &call, &status, allow);
	assert_int_equal(status, 405);
	assert_string_equal(allow, "GET, PATCH");
	json_object_put(o);
	o = decode("GET", "/actions", NULL, &call, &status, allow);
	assert_int_equal(status, 405);
	assert_string_equal(allow, "PUT");
	json_object_put(o);
	o = decode("put", "/balloon", "{\"amount_mib\":1}", &call, &status, allow);
	assert_int_equal(status, 405);
	assert_string_equal(allow, "GET, PUT");
	json_object_put(o);
	expect_fail("POST", "/snapshot/create", NULL, 405, NULL);
	expect_fail("HEAD", "/", NULL, 405, NULL);
}

static void good_calls(void **state)
{
	struct api_call call;

	(void)state;
	expect_ok("GET", "/", NULL, &call);
	assert_int_equal(call.op, API_GET_ROOT);
	expect_ok("GET", "/metrics", NULL, &call);
	assert_int_equal(call.op, API_GET_METRICS);
	expect_ok("PATCH", "/vm", "{\"state\": \"Paused\"}", &call);
	assert_int_equal(call.op, API_PATCH_VM);
	assert_int_equal(call.state, API_VM_PAUSED);
	expect_ok("PATCH", "/vm", " {\"state\":\"Resumed\"}\r\n", &call);
	assert_int_equal(call.state, API_VM_RESUMED);
	expect_ok("PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}", &call);
	assert_int_equal(call.action, API_ACTION_CTRL_ALT_DEL);
	expect_ok("PUT", "/actions", "{\"action_type\":\"Shutdown\"}", &call);
	assert_int_equal(call.action, API_ACTION_SHUTDOWN);
	expect_ok("PUT", "/actions", "{\"action_type\":\"Reset\"}", &call);
	assert_int_equal(call.action, API_ACTION_RESET);
	expect_ok("PUT", "/balloon", "{\"amount_mib\":0}", &call);
	assert_int_equal(call.amount_mib, 0);
	expect_ok("PUT", "/balloon", "{\"amount_mib\":16777216}", &call);
	assert_int_equal(call.amount_mib, API_MAX_BALLOON_MIB);
	expect_ok("PUT", "/snapshot/create", "{\"snapshot_path\":\"/tmp/snap\"}", &call);
	assert_string_equal(call.snapshot_path, "/tmp/snap");
}

static void malformed_json_400(void **state)
{
	(void)state;
	expect_fail("PATCH", "/vm", NULL, 400, NULL);
	expect_fail("PATCH", "/vm", "", 400, NULL);
	expect_fail("PATCH", "/vm", "{", 400, NULL);
	expect_fail("PATCH", "/vm", "{\"state\":\"Paused\"", 400, NULL);
	expect_fail("PATCH", "/vm", "{\"state\":\"Paused\"} x", 400, NULL);
	expect_fail("PATCH", "/vm", "{\"state\":\"Paused\"}{}", 400, NULL);
	expect_fail("PATCH", "/vm", "{'state':'Paused'}", 400, NULL);
	expect_fail("PATCH", "/vm", "{\"state\":\"Paused\",}", 400, NULL);
	expect_fail("PATCH", "/vm", "[\"Paused\"]", 400, NULL);
	expect_fail("PATCH", "/vm", "\"Paused\"", 400, NULL);
	expect_fail("PATCH", "/vm", "null", 400, NULL);
	expect_fail("PATCH", "/vm", "{\"state\":\"\xff\xfe\"}", 400, NULL);
	expect_fail("PATCH", "/vm", "{\"a\":[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]}", 400, NULL);
	/* Endpoints without a body refuse one. */
	expect_fail("GET", "/vm", "{}", 400, NULL);
}

static void bad_fields_400_naming_the_field(void **state)
{
	(void)state;
	expect_fail("PATCH", "/vm", "{}", 400, "state");
	expect_fail("PATCH", "/vm", "{\"state\":1}", 400, "state");
	expect_fail("PATCH", "/vm", "{\"state\":null}", 400, "state");
	expect_fail("PATCH", "/vm", "{\"state\":\"paused\"}", 400, "state");
	expect_fail("PATCH", "/vm", "{\"state\":\"Paused\\u0000\"}", 400, "state");
	expect_fail("PATCH", "/vm", "{\"state\":\"Paused\",\"force\":true}", 400, "force");
	expect_fail("PUT", "/actions", "{\"action_type\":\"Reboot\"}", 400, "action_type");
	expect_fail("PUT", "/actions", "{\"action\":\"Reset\"}", 400, "action");
	expect_fail("PUT", "/balloon", "{\"amount_mib\":-1}", 400, "amount_mib");
	expect_fail("PUT", "/balloon", "{\"amount_mib\":16777217}", 400, "amount_mib");
	expect_fail("PUT", "/balloon", "{\"amount_mib\":1.5}", 400, "amount_mib");
	expect_fail("PUT", "/balloon", "{\"amount_mib\":1e3}", 400, "amount_mib");
	expect_fail("PUT", "/balloon", "{\"amount_mib\":\"64\"}", 400, "amount_mib");
	expect_fail("PUT", "/balloon", "{\"amount_mib\":99999999999999999999999}", 400,
		    "amount_mib");
	expect_fail("PUT", "/balloon", "{\"amount_mib\":18446744073709551615}", 400,
		    "amount_mib");
	expect_fail("PUT", "/snapshot/create", "{\"snapshot_path\":\"rel/path\"}", 400,
		    "snapshot_path");
	expect_fail("PUT", "/snapshot/create", "{\"snapshot_path\":\"\"}", 400, "snapshot_path");
	expect_fail("PUT", "/snapshot/create", "{\"snapshot_path\":\"/a\\u0000b\"}", 400,
		    "snapshot_path");
	expect_fail("PUT", "/snapshot/create", "{\"snapshot_path\":[\"/a\"]}", 400,
		    "snapshot_path");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unknown_paths_404),
		cmocka_unit_test(bad_methods_405_with_allow),
		cmocka_unit_test(good_calls),
		cmocka_unit_test(malformed_json_400),
		cmocka_unit_test(bad_fields_400_naming_the_field),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
