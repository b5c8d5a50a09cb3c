// SPDX-License-Identifier: Apache-2.0
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/runtime_dir.h"
#include "lib/types.h"

int runtime_dir_get(char *dir, size_t len, bool create, char *err, size_t err_len)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	int n;

	if (xdg && *xdg)
		n = snprintf(dir, len, "%s/kiln", xdg);
	else if (geteuid() == 0)
		n = snprintf(dir, len, "/run/kiln");
	else {
		snprintf(err, err_len, "XDG_RUNTIME_DIR is not set");
		return -1;
	}
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, err_len, "the runtime directory path is too long");
		return -1;
	}
	if (create && mkdir(dir, 0700) && errno != EEXIST) {
		snprintf(err, err_len, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (lstat(dir, &st)) {
		snprintf(err, err_len, "%s: %s", dir, strerror(errno));
		return -1;
	}
	/* Others must not be able to plant or read entries. */
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 0077)) {
		snprintf(err, err_len, "%s is not a private directory of this user", dir);
		return -1;
	}
	return 0;
}

int runtime_dir_entry(const char *dir, pid_t pid, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/%d.sock", dir, (int)pid);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

bool runtime_dir_pid_alive(pid_t pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* "1234.sock" -> 1234; 0 for anything else. */
static pid_t entry_pid(const char *name)
{
	unsigned long v = 0;
	const char *p = name;

	if (*p < '1' || *p > '9')
		return 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (*p - '0');
		if (v > INT_MAX)
			return 0;
	}
	return strcmp(p, ".sock") ? 0 : (pid_t)v;
}

static int pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int runtime_dir_scan(const char *dir, runtime_dir_cb cb, void *opaque)
{
	pid_t *pids = NULL;
	size_t nr = 0, cap = 0;
	struct dirent *de;
	int live = 0;
	DIR *d = opendir(dir);

	if (!d)
		return -1;
	while ((de = readdir(d))) {
		pid_t pid = entry_pid(de->d_name);

		if (!pid)
			continue;
		if (nr == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			pid_t *np = realloc(pids, ncap * sizeof(*np));

			if (!np)
				break;
			pids = np;
			cap = ncap;
		}
		pids[nr++] = pid;
	}
	closedir(d);
	if (nr)
		qsort(pids, nr, sizeof(*pids), pid_cmp);

	for (size_t i = 0; i < nr; i++) {
		char entry[PATH_MAX], target[PATH_MAX];
		const char *sock = entry;
		ssize_t n;

		if (runtime_dir_entry(dir, pids[i], entry, sizeof(entry)))
			continue;
		if (!runtime_dir_pid_alive(pids[i])) {
			unlink(entry);	/* the VM died without cleaning up */
			continue;
		}
		n = readlink(entry, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			sock = target;
		}
		live++;
		cb(pids[i], entry, sock, opaque);
	}
	free(pids);
	return live;
}
