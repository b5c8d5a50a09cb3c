// SPDX-License-Identifier: Apache-2.0
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_call.h"

/* Request bodies are small flat objects; anything deeper is an attack. */
#define API_JSON_MAX_DEPTH 8

void api_json_reply(struct http_response *resp, int status, struct json_object *obj)
{
	size_t len;
	int flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		    JSON_C_TO_STRING_NOSLASHESCAPE;
	const char *s = json_object_to_json_string_length(obj, flags, &len);
	char *body = s ? malloc(len + 2) : NULL;

	if (!body) {
		json_object_put(obj);
		http_response_set(resp, 500, "text/plain", NULL, 0);
		resp->close = true;
		return;
	}
	memcpy(body, s, len);
	body[len++] = '\n';
	body[len] = '\0';
	json_object_put(obj);
	http_response_set(resp, status, "application/json", body, len);
}

void api_error(struct http_response *resp, int status, const char *field, const char *fmt, ...)
{
	struct json_object *obj = json_object_new_object();
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_object_object_add(obj, "error", json_object_new_string(msg));
	if (field)
		json_object_object_add(obj, "field", json_object_new_string(field));
	api_json_reply(resp, status, obj);
}

static bool only_whitespace(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!strchr(" \t\r\n", s[i]) || !s[i])
			return false;
	return true;
}

struct json_object *api_json_parse_object(const char *body, size_t len,
					  struct http_response *resp)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error err;
	size_t end;

	if (!body || !len) {
		api_error(resp, 400, NULL, "a JSON object body is required");
		return NULL;
	}
	tok = json_tokener_new_ex(API_JSON_MAX_DEPTH);
	if (!tok) {
		api_error(resp, 500, NULL, "out of memory");
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, body, (int)len);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);

	if (err == json_tokener_continue) {
		api_error(resp, 400, NULL, "malformed JSON: the body ends too early");
		goto fail;
	}
	if (err != json_tokener_success) {
		api_error(resp, 400, NULL, "malformed JSON: %s", json_tokener_error_desc(err));
		goto fail;
	}
	if (end < len && !only_whitespace(body + end, len - end)) {
		api_error(resp, 400, NULL, "malformed JSON: data after the value");
		goto fail;
	}
	if (!json_object_is_type(obj, json_type_object)) {
		api_error(resp, 400, NULL, "the body must be a JSON object");
		goto fail;
	}
	return obj;
fail:
	json_object_put(obj);
	return NULL;
}

int api_json_only_fields(struct json_object *obj, const char *const *fields,
			 size_t nr_fields, struct http_response *resp)
{
	json_object_object_foreach(obj, key, val) {
		size_t i;

		(void)val;
		for (i = 0; i < nr_fields; i++)
			if (!strcmp(key, fields[i]))
				break;
		if (i == nr_fields) {
			api_error(resp, 400, key, "unknown field \"%s\"", key);
			return -1;
		}
	}
	return 0;
}

static struct json_object *get_typed(struct json_object *obj, const char *field,
				     enum json_type type, const char *type_name,
				     struct http_response *resp)
{
	struct json_object *val;

	if (!json_object_object_get_ex(obj, field, &val)) {
		api_error(resp, 400, field, "missing field \"%s\"", field);
		return NULL;
	}
	if (!json_object_is_type(val, type)) {
		api_error(resp, 400, field, "\"%s\" must be %s", field, type_name);
		return NULL;
	}
	return val;
}

int api_json_get_enum(struct json_object *obj, const char *field,
		      const char *const *choices, size_t nr_choices, int *out,
		      struct http_response *resp)
{
	struct json_object *val = get_typed(obj, field, json_type_string, "a string", resp);
	char list[256] = "";
	size_t used = 0;

	if (!val)
		return -1;
	for (size_t i = 0; i < nr_choices; i++) {
		if (!strcmp(json_object_get_string(val), choices[i]) &&
		    (size_t)json_object_get_string_len(val) == strlen(choices[i])) {
			*out = (int)i;
			return 0;
		}
		used += snprintf(list + used, sizeof(list) - used, "%s\"%s\"",
				 i == 0 ? "" : i + 1 == nr_choices ? " or " : ", ", choices[i]);
		if (used >= sizeof(list))
			break;
	}
	api_error(resp, 400, field, "\"%s\" must be %s", field, list);
	return -1;
}

int api_json_get_u64(struct json_object *obj, const char *field, u64 max, u64 *out,
		     struct http_response *resp)
{
	struct json_object *val = get_typed(obj, field, json_type_int, "an integer", resp);
	int64_t v;

	if (!val)
		return -1;
	v = json_object_get_int64(val);
	/* json-c clamps integers beyond int64 to INT64_MAX, still above any max. */
	if (v < 0 || (u64)v > max) {
		api_error(resp, 400, field, "\"%s\" is out of range: 0..%llu", field,
			  (unsigned long long)max);
		return -1;
	}
	*out = (u64)v;
	return 0;
}

int api_json_get_string(struct json_object *obj, const char *field, char *out,
			size_t out_size, struct http_response *resp)
{
	struct json_object *val = get_typed(obj, field, json_type_string, "a string", resp);
	const char *s;
	size_t len;

	if (!val)
		return -1;
	s = json_object_get_string(val);
	len = (size_t)json_object_get_string_len(val);
	if (len == 0 || len >= out_size) {
		api_error(resp, 400, field, "\"%s\" must be 1..%zu bytes long", field,
			  out_size - 1);
		return -1;
	}
	if (strlen(s) != len) {
		api_error(resp, 400, field, "\"%s\" contains a NUL character", field);
		return -1;
	}
	memcpy(out, s, len + 1);
	return 0;
}
