// SPDX-License-Identifier: Apache-2.0
#include <time.h>

#include "api/api_exec.h"
#include "machine/vm.h"

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ULL + (u64)ts.tv_nsec;
}

void api_ctx_init(struct api_ctx *ctx, struct vm *vm, const char *version)
{
	ctx->vm = vm;
	ctx->version = version;
	ctx->start_ns = now_ns();
}

u64 api_uptime_ms(const struct api_ctx *ctx)
{
	return (now_ns() - ctx->start_ns) / 1000000;
}

const char *api_vm_state(struct vm *vm)
{
	bool paused;

	if (vm_stopping(vm))
		return "Stopping";
	pthread_mutex_lock(&vm->pause_lock);
	paused = vm->paused;
	pthread_mutex_unlock(&vm->pause_lock);
	return paused ? "Paused" : "Running";
}

void api_execute(struct api_ctx *ctx, const struct api_call *call, struct http_response *resp)
{
	switch (call->op) {
	case API_GET_ROOT:
		api_get_root(ctx, resp);
		break;
	case API_GET_VERSION:
		api_get_version(ctx, resp);
		break;
	case API_GET_VM:
		api_get_vm(ctx, resp);
		break;
	case API_PATCH_VM:
		api_patch_vm(ctx, call->state, resp);
		break;
	case API_PUT_ACTIONS:
		api_put_action(ctx, call->action, resp);
		break;
	case API_GET_STATS:
		api_get_stats(ctx, resp);
		break;
	case API_GET_METRICS:
		api_get_metrics(ctx, resp);
		break;
	case API_GET_BALLOON:
		api_get_balloon(ctx, false, resp);
		break;
	case API_GET_BALLOON_STATS:
		api_get_balloon(ctx, true, resp);
		break;
	case API_PUT_BALLOON:
		api_put_balloon(ctx, call->amount_mib, resp);
		break;
	case API_PUT_SNAPSHOT_CREATE:
		api_put_snapshot(ctx, call->snapshot_path, call->snapshot_diff, resp);
		break;
	}
}

void api_handle(struct api_ctx *ctx, const struct http_request *req, struct http_response *resp)
{
	struct api_call call;

	if (api_decode(req, &call, resp))
		return;
	api_execute(ctx, &call, resp);
}
