// SPDX-License-Identifier: Apache-2.0
#include <json-c/json.h>
#include <unistd.h>

#include "api/api_exec.h"
#include "dev/acpi_pm.h"
#include "dev/i8042.h"
#include "machine/vm.h"

static struct json_object *string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

void api_get_root(struct api_ctx *ctx, struct http_response *resp)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "app_name", json_object_new_string("kiln"));
	json_object_object_add(o, "version", json_object_new_string(ctx->version));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "engine", json_object_new_string(ctx->vm->engine->name));
	json_object_object_add(o, "state", json_object_new_string(api_vm_state(ctx->vm)));
	api_json_reply(resp, 200, o);
}

void api_get_version(struct api_ctx *ctx, struct http_response *resp)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "version", json_object_new_string(ctx->version));
	api_json_reply(resp, 200, o);
}

void api_get_vm(struct api_ctx *ctx, struct http_response *resp)
{
	const struct vm_config *cfg = ctx->vm->cfg;
	struct json_object *o = json_object_new_object();
	struct json_object *c = json_object_new_object();

	json_object_object_add(o, "state", json_object_new_string(api_vm_state(ctx->vm)));
	json_object_object_add(o, "uptime_ms", json_object_new_uint64(api_uptime_ms(ctx)));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "engine", json_object_new_string(ctx->vm->engine->name));

	json_object_object_add(c, "vcpus", json_object_new_int64(cfg->nr_cpus));
	json_object_object_add(c, "mem_mib", json_object_new_uint64(cfg->mem_size >> 20));
	json_object_object_add(c, "accel", json_object_new_string(cfg->accel));
	json_object_object_add(c, "kernel", string_or_null(cfg->kernel_path));
	json_object_object_add(c, "initrd", string_or_null(cfg->initrd_path));
	json_object_object_add(c, "cmdline", string_or_null(cfg->cmdline));
	json_object_object_add(o, "config", c);
	api_json_reply(resp, 200, o);
}

void api_patch_vm(struct api_ctx *ctx, enum api_vm_state state, struct http_response *resp)
{
	if (vm_stopping(ctx->vm)) {
		api_error(resp, 400, NULL, "the VM is stopping");
		return;
	}
	/* Bounded: vm_pause() returns once every vCPU has parked. */
	if (state == API_VM_PAUSED)
		vm_pause(ctx->vm);
	else
		vm_resume(ctx->vm);
	http_response_set(resp, 204, NULL, NULL, 0);
}

void api_put_action(struct api_ctx *ctx, enum api_action action, struct http_response *resp)
{
	switch (action) {
	case API_ACTION_RESET:
		vm_request_stop(ctx->vm, VM_STOP_RESET, EXIT_CODE_RESET);
		break;
	case API_ACTION_SHUTDOWN:
		/* The guest decides: an OS that handles the SCI powers off. */
		if (acpi_pm_press_power_button(ctx->vm)) {
			api_error(resp, 400, "action_type", "this VM has no ACPI power button");
			return;
		}
		break;
	case API_ACTION_CTRL_ALT_DEL:
		/* As Firecracker: a Linux guest reboots, and Kiln exits 4. */
		if (i8042_send_ctrl_alt_del(ctx->vm)) {
			api_error(resp, 400, "action_type",
				  "the keyboard is busy or this VM has no i8042");
			return;
		}
		break;
	}
	http_response_set(resp, 204, NULL, NULL, 0);
}
