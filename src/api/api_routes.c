// SPDX-License-Identifier: Apache-2.0
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "api/api_call.h"

const char *const api_vm_state_names[2] = {
	[API_VM_PAUSED] = "Paused",
	[API_VM_RESUMED] = "Resumed",
};

const char *const api_action_names[3] = {
	[API_ACTION_CTRL_ALT_DEL] = "SendCtrlAltDel",
	[API_ACTION_SHUTDOWN] = "Shutdown",
	[API_ACTION_RESET] = "Reset",
};

static int decode_vm_patch(struct json_object *obj, struct api_call *call,
			   struct http_response *resp)
{
	static const char *const fields[] = { "state" };
	int state;

	if (api_json_only_fields(obj, fields, ARRAY_SIZE(fields), resp) ||
	    api_json_get_enum(obj, "state", api_vm_state_names,
			      ARRAY_SIZE(api_vm_state_names), &state, resp))
		return -1;
	call->state = state;
	return 0;
}

static int decode_action(struct json_object *obj, struct api_call *call,
			 struct http_response *resp)
{
	static const char *const fields[] = { "action_type" };
	int action;

	if (api_json_only_fields(obj, fields, ARRAY_SIZE(fields), resp) ||
	    api_json_get_enum(obj, "action_type", api_action_names,
			      ARRAY_SIZE(api_action_names), &action, resp))
		return -1;
	call->action = action;
	return 0;
}

static int decode_balloon(struct json_object *obj, struct api_call *call,
			  struct http_response *resp)
{
	static const char *const fields[] = { "amount_mib" };

	if (api_json_only_fields(obj, fields, ARRAY_SIZE(fields), resp))
		return -1;
	return api_json_get_u64(obj, "amount_mib", API_MAX_BALLOON_MIB, &call->amount_mib, resp);
}

static int decode_snapshot(struct json_object *obj, struct api_call *call,
			   struct http_response *resp)
{
	static const char *const fields[] = { "snapshot_path", "snapshot_type" };
	static const char *const types[] = { "Full", "Diff" };
	int type = 0;

	if (api_json_only_fields(obj, fields, ARRAY_SIZE(fields), resp) ||
	    api_json_get_string(obj, "snapshot_path", call->snapshot_path,
				sizeof(call->snapshot_path), resp))
		return -1;
	/* Optional, as in Firecracker: "Full" unless it says "Diff". */
	if (json_object_object_get_ex(obj, "snapshot_type", NULL) &&
	    api_json_get_enum(obj, "snapshot_type", types, ARRAY_SIZE(types), &type, resp))
		return -1;
	call->snapshot_diff = type == 1;
	if (call->snapshot_path[0] != '/') {
		api_error(resp, 400, "snapshot_path", "\"snapshot_path\" must be absolute");
		return -1;
	}
	return 0;
}

struct api_route {
	const char *path;
	const char *method;
	enum api_op op;
	/* Validates the JSON body; NULL when the endpoint takes no body. */
	int (*decode)(struct json_object *obj, struct api_call *call,
		      struct http_response *resp);
};

static const struct api_route routes[] = {
	{ "/", "GET", API_GET_ROOT, NULL },
	{ "/version", "GET", API_GET_VERSION, NULL },
	{ "/vm", "GET", API_GET_VM, NULL },
	{ "/vm", "PATCH", API_PATCH_VM, decode_vm_patch },
	{ "/actions", "PUT", API_PUT_ACTIONS, decode_action },
	{ "/stats", "GET", API_GET_STATS, NULL },
	{ "/metrics", "GET", API_GET_METRICS, NULL },
	{ "/balloon", "GET", API_GET_BALLOON, NULL },
	{ "/balloon", "PUT", API_PUT_BALLOON, decode_balloon },
	{ "/balloon/statistics", "GET", API_GET_BALLOON_STATS, NULL },
	{ "/snapshot/create", "PUT", API_PUT_SNAPSHOT_CREATE, decode_snapshot },
};

/* Answers 405 with the methods the path does take. */
static void method_not_allowed(const struct http_request *req, struct http_response *resp)
{
	size_t used = 0;

	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		if (strcmp(routes[i].path, req->path))
			continue;
		used += snprintf(resp->allow + used, sizeof(resp->allow) - used, "%s%s",
				 used ? ", " : "", routes[i].method);
		if (used >= sizeof(resp->allow))
			break;
	}
	api_error(resp, 405, NULL, "%s %s: method not allowed (use %s)", req->method,
		  req->path, resp->allow);
}

int api_decode(const struct http_request *req, struct api_call *call,
	       struct http_response *resp)
{
	const struct api_route *route = NULL;
	bool path_known = false;
	struct json_object *obj;
	int ret;

	for (size_t i = 0; i < ARRAY_SIZE(routes); i++) {
		if (strcmp(routes[i].path, req->path))
			continue;
		path_known = true;
		if (!strcmp(routes[i].method, req->method)) {
			route = &routes[i];
			break;
		}
	}
	if (!path_known) {
		api_error(resp, 404, NULL, "no such resource: %s", req->path);
		return -1;
	}
	if (!route) {
		method_not_allowed(req, resp);
		return -1;
	}
	memset(call, 0, sizeof(*call));
	call->op = route->op;
	if (!route->decode) {
		if (req->body_len) {
			api_error(resp, 400, NULL, "%s %s takes no body", req->method, req->path);
			return -1;
		}
		return 0;
	}
	obj = api_json_parse_object(req->body, req->body_len, resp);
	if (!obj)
		return -1;
	ret = route->decode(obj, call, resp);
	json_object_put(obj);
	return ret;
}
