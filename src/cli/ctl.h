/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_CLI_CTL_H
#define KILN_CLI_CTL_H

#include <stddef.h>

/* `kiln ctl [--sock PATH | --pid PID] [--json] VERB [ARGS]` (argv[0] is "ctl"). */
int ctl_main(int argc, char **argv);
/* `kiln list [--json]`: the running VMs of this user (argv[0] is "list"). */
int list_main(int argc, char **argv);

/* One HTTP exchange with a Kiln API socket (cli/ctl_http.c). */
struct ctl_response {
	int status;
	char *raw;		/* the whole response, NUL-terminated */
	const char *body;	/* into raw */
	size_t body_len;
};

/*
 * Sends METHOD path with an optional JSON body and reads the answer, giving
 * up after timeout_ms. 0, or -1 with why in err.
 */
int ctl_http(const char *sock, const char *method, const char *path, const char *json_body,
	     int timeout_ms, struct ctl_response *resp, char *err, size_t err_len);
void ctl_response_free(struct ctl_response *resp);

#endif
