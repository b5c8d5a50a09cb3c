// SPDX-License-Identifier: Apache-2.0
#include "lib/log.h"

#include <stdio.h>
#include <stdlib.h>

enum log_level log_threshold = LOG_WARN;

static const char *const level_prefix[] = {
	[LOG_ERR] = "error",
	[LOG_WARN] = "warning",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

static void vlog(enum log_level level, const char *fmt, va_list ap)
{
	char buf[1024];

	/* One write per message keeps lines from different threads whole. */
	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "kiln: %s: %s\n", level_prefix[level], buf);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_threshold)
		return;
	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(2);
}
