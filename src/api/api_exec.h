/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_API_API_EXEC_H
#define KILN_API_API_EXEC_H

#include "api/api_call.h"
#include "api/http.h"

struct vm;
struct stats_visitor;

/* What the endpoints act on. Handlers run on the I/O thread. */
struct api_ctx {
	struct vm *vm;
	const char *version;
	u64 start_ns;		/* CLOCK_MONOTONIC when the API started serving */
};

void api_ctx_init(struct api_ctx *ctx, struct vm *vm, const char *version);

/* Routes, validates and runs one request; resp gets the answer. */
void api_handle(struct api_ctx *ctx, const struct http_request *req,
		struct http_response *resp);
/* Runs a call that api_decode() accepted. */
void api_execute(struct api_ctx *ctx, const struct api_call *call,
		 struct http_response *resp);

/* Every figure /stats and /metrics show: the machine's, the host's, the balloon's. */
void api_report_all(struct api_ctx *ctx, const struct stats_visitor *v);

/* "Running", "Paused" or "Stopping". */
const char *api_vm_state(struct vm *vm);
u64 api_uptime_ms(const struct api_ctx *ctx);

/* The endpoint handlers, one file per area. */
void api_get_root(struct api_ctx *ctx, struct http_response *resp);
void api_get_version(struct api_ctx *ctx, struct http_response *resp);
void api_get_vm(struct api_ctx *ctx, struct http_response *resp);
void api_patch_vm(struct api_ctx *ctx, enum api_vm_state state, struct http_response *resp);
void api_put_action(struct api_ctx *ctx, enum api_action action, struct http_response *resp);
void api_get_stats(struct api_ctx *ctx, struct http_response *resp);
void api_get_metrics(struct api_ctx *ctx, struct http_response *resp);
void api_get_balloon(struct api_ctx *ctx, bool statistics, struct http_response *resp);
void api_put_balloon(struct api_ctx *ctx, u64 amount_mib, struct http_response *resp);
void api_put_snapshot(struct api_ctx *ctx, const char *path, bool diff,
		      struct http_response *resp);

#endif
