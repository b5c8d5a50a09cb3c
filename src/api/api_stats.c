// SPDX-License-Identifier: Apache-2.0
#include <json-c/json.h>

#include "api/api_exec.h"
#include "api/hooks.h"
#include "api/stats_format.h"
#include "machine/vm.h"

void api_report_all(struct api_ctx *ctx, const struct stats_visitor *v)
{
	struct vm *vm = ctx->vm;
	bool paused;

	pthread_mutex_lock(&vm->pause_lock);
	paused = vm->paused;
	pthread_mutex_unlock(&vm->pause_lock);
	stats_emit(v, "vm", "paused", paused);
	stats_emit(v, "vm", "uptime_ms", api_uptime_ms(ctx));
	vm_report_stats(vm, v);
	host_mem_report(v);
	if (vm->balloon_ops)
		vm->balloon_ops->report(vm->balloon, v);
}

void api_get_stats(struct api_ctx *ctx, struct http_response *resp)
{
	struct stats_json sj;
	struct stats_visitor v = { .emit = stats_json_emit, .ctx = &sj };

	stats_json_init(&sj);
	if (!sj.root) {
		api_error(resp, 500, NULL, "out of memory");
		return;
	}
	api_report_all(ctx, &v);
	api_json_reply(resp, 200, sj.root);
}

void api_get_metrics(struct api_ctx *ctx, struct http_response *resp)
{
	struct prom_writer w;
	struct stats_visitor v = { .emit = prom_emit, .ctx = &w };
	char *text;
	size_t len;

	prom_writer_init(&w);
	api_report_all(ctx, &v);
	if (prom_format(&w, &text, &len)) {
		prom_writer_free(&w);
		api_error(resp, 500, NULL, "out of memory");
		return;
	}
	prom_writer_free(&w);
	http_response_set(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
}
