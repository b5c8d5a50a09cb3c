// SPDX-License-Identifier: Apache-2.0
#include <json-c/json.h>

#include "api/api_exec.h"
#include "api/hooks.h"
#include "api/stats_format.h"
#include "machine/vm.h"

/* The balloon and snapshot endpoints: thin calls into hooks (api/hooks.h). */

static bool have_balloon(struct vm *vm, struct http_response *resp)
{
	if (vm->balloon_ops)
		return true;
	api_error(resp, 400, NULL, "no balloon device");
	return false;
}

void api_get_balloon(struct api_ctx *ctx, bool statistics, struct http_response *resp)
{
	struct vm *vm = ctx->vm;
	struct stats_json sj;
	struct stats_visitor v = { .emit = stats_json_emit, .ctx = &sj };
	struct json_object *group, *out, *target;

	if (!have_balloon(vm, resp))
		return;
	stats_json_init(&sj);
	if (!sj.root) {
		api_error(resp, 500, NULL, "out of memory");
		return;
	}
	vm->balloon_ops->report(vm->balloon, &v);
	if (!json_object_object_get_ex(sj.root, "balloon", &group)) {
		json_object_put(sj.root);
		api_error(resp, 500, NULL, "the balloon device reported nothing");
		return;
	}
	if (statistics) {
		out = json_object_get(group);
	} else {
		out = json_object_new_object();
		if (json_object_object_get_ex(group, "target_mib", &target))
			json_object_object_add(out, "amount_mib", json_object_get(target));
	}
	json_object_put(sj.root);
	api_json_reply(resp, 200, out);
}

void api_put_balloon(struct api_ctx *ctx, u64 amount_mib, struct http_response *resp)
{
	struct vm *vm = ctx->vm;
	u64 ram_mib = vm->cfg->mem_size >> 20;
	char err[256] = "the balloon device refused";

	if (amount_mib > ram_mib) {
		api_error(resp, 400, "amount_mib",
			  "\"amount_mib\" is out of range: 0..%llu (the guest's RAM)",
			  (unsigned long long)ram_mib);
		return;
	}
	if (!have_balloon(vm, resp))
		return;
	if (vm->balloon_ops->set_target(vm->balloon, amount_mib, err, sizeof(err))) {
		api_error(resp, 400, "amount_mib", "%s", err);
		return;
	}
	http_response_set(resp, 204, NULL, NULL, 0);
}

void api_put_snapshot(struct api_ctx *ctx, const char *path, bool diff,
		      struct http_response *resp)
{
	struct vm *vm = ctx->vm;
	char err[256] = "the snapshot failed";

	if (!vm->snapshot_ops || (diff && !vm->snapshot_ops->create_diff)) {
		api_error(resp, 400, NULL, "%ssnapshots are not supported yet", diff ? "diff " : "");
		return;
	}
	if ((diff ? vm->snapshot_ops->create_diff : vm->snapshot_ops->create)(vm, path, err,
									   sizeof(err))) {
		api_error(resp, 400, "snapshot_path", "%s", err);
		return;
	}
	http_response_set(resp, 204, NULL, NULL, 0);
}
