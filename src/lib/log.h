/* SPDX-License-Identifier: Apache-2.0 */
#ifndef KILN_LIB_LOG_H
#define KILN_LIB_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Messages go to stderr so that stdout stays the guest's console. */
extern enum log_level log_threshold;

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define pr_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define pr_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

/* Logs once per call site: for guest-triggered errors that could flood. */
#define pr_warn_once(...)                          \
	do {                                       \
		static int warned_;                \
		if (!__atomic_exchange_n(&warned_, 1, __ATOMIC_RELAXED)) \
			pr_warn(__VA_ARGS__);      \
	} while (0)

#endif
