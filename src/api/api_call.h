/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_API_API_CALL_H
#define KILN_API_API_CALL_H

#include <linux/limits.h>

#include "api/http.h"
#include "lib/types.h"

/*
 * The API in two steps. api_decode() routes a parsed HTTP request and
 * validates its JSON body into a struct api_call: pure, no side effects, so
 * that the fuzzer can drive it. api_execute() (api_exec.h) then acts on the
 * VM.
 */

struct json_object;

enum api_op {
	API_GET_ROOT,
	API_GET_VERSION,
	API_GET_VM,
	API_PATCH_VM,
	API_PUT_ACTIONS,
	API_GET_STATS,
	API_GET_METRICS,
	API_GET_BALLOON,
	API_PUT_BALLOON,
	API_GET_BALLOON_STATS,
	API_PUT_SNAPSHOT_CREATE,
};

enum api_vm_state { API_VM_PAUSED, API_VM_RESUMED };

enum api_action {
	API_ACTION_CTRL_ALT_DEL,
	API_ACTION_SHUTDOWN,
	API_ACTION_RESET,
};

/* The largest balloon the API accepts before comparing with guest RAM: 16 TiB. */
#define API_MAX_BALLOON_MIB (16ULL << 20)

struct api_call {
	enum api_op op;
	union {
		enum api_vm_state state;	/* PATCH /vm */
		enum api_action action;		/* PUT /actions */
		u64 amount_mib;			/* PUT /balloon */
		char snapshot_path[PATH_MAX];	/* PUT /snapshot/create */
	};
	bool snapshot_diff;			/* PUT /snapshot/create "Diff" */
};

/* Routes and validates; 0 when call is ready, -1 with the error in resp. */
int api_decode(const struct http_request *req, struct api_call *call,
	       struct http_response *resp);

/* The names the API uses on the wire, e.g. for the client. */
extern const char *const api_vm_state_names[2];
extern const char *const api_action_names[3];

/* {"error": message, "field": field}; field may be NULL. */
void api_error(struct http_response *resp, int status, const char *field,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Serialises obj as the response body and drops the caller's reference. */
void api_json_reply(struct http_response *resp, int status, struct json_object *obj);

/*
 * JSON body validation. Each returns 0, or -1 with a 400 in resp naming the
 * field: missing, wrong type, or out of range.
 */
struct json_object *api_json_parse_object(const char *body, size_t len,
					  struct http_response *resp);
int api_json_only_fields(struct json_object *obj, const char *const *fields,
			 size_t nr_fields, struct http_response *resp);
int api_json_get_enum(struct json_object *obj, const char *field,
		      const char *const *choices, size_t nr_choices, int *out,
		      struct http_response *resp);
int api_json_get_u64(struct json_object *obj, const char *field, u64 max, u64 *out,
		     struct http_response *resp);
int api_json_get_string(struct json_object *obj, const char *field, char *out,
			size_t out_size, struct http_response *resp);

#endif
