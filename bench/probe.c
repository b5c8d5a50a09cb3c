// SPDX-License-Identifier: Apache-2.0
/*
 * probe: runs one VMM and measures it from outside, the same way for Kiln
 * and for QEMU.
 *
 *   probe [--marker NAME=TEXT]... [--sample-on TEXT] [--ram BYTES]
 *         [--timeout SECONDS] [--log FILE] -- COMMAND [ARG...]
 *
 * The clock starts just before fork(). The command's stdout and stderr (the
 * guest console) go through a pipe that probe scans; stdin is a pipe that
 * stays open and silent, like an idle terminal. Prints key=value lines:
 *
 *   status=exit N | signal N | timeout
 *   t_exit=S             seconds from start to the process's exit
 *   t_NAME=S|none        seconds from start to TEXT's first appearance
 *   cpu_NAME=S|none      CPU time the command's threads had used by then
 *                        (their schedstat, nanosecond-exact, so that a short
 *                        idle window between two markers can be measured)
 *   user_s=S sys_s=S     CPU time (wait4), all threads
 *   maxrss_kib=K         peak RSS (wait4)
 *   rss_kib=K hwm_kib=K pss_kib=K|none ram_rss_kib=K|none
 *                        when --sample-on TEXT appears: the process's RSS,
 *                        its peak so far, its PSS (smaps_rollup: a page the
 *                        process maps twice counts once, a page shared
 *                        with other processes is divided among them), and
 *                        the RSS of the anonymous mapping(s) exactly --ram
 *                        bytes long (guest RAM)
 *
 * probe runs at the lowest real-time priority when it may (root), so that
 * on a loaded host it reads the console when the VMM writes it: a marker's
 * time is taken when probe reads it, and a guest that powers off right
 * after its marker would otherwise be gone before its RSS is sampled. The
 * command itself runs at normal priority (SCHED_RESET_ON_FORK). probe
 * sleeps in poll() between reads, so it takes no CPU from the VMM.
 *
 * Exits 0 when the measurement was made, whatever the command did (one that
 * cannot be executed shows as "status=exit 127", its reason in the log);
 * 1 on bad usage; 2 when probe itself failed (pipe, fork, pidfd, wait).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_MARKERS 8
#define MAX_TEXT 256

struct marker {
	const char *name;
	const char *text;
	double t;		/* < 0 until seen */
	double cpu;		/* CPU seconds at t; < 0 when unknown */
};

struct sample {
	bool taken;
	long rss_kib, hwm_kib;
	long pss_kib;		/* < 0 when unknown */
	long ram_rss_kib;	/* < 0 when no mapping matched */
};

static struct marker markers[MAX_MARKERS + 1];	/* the last is --sample-on */
static int nr_markers;
static struct sample sample;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: probe [--marker NAME=TEXT]... [--sample-on TEXT] [--ram BYTES]\n"
			"             [--timeout SECONDS] [--log FILE] -- COMMAND [ARG...]\n");
	exit(1);
}

/* "VmRSS:   1234 kB" -> 1234, from /proc/PID/FILE (status, smaps_rollup). */
static long proc_kib(pid_t pid, const char *file, const char *key)
{
	char path[64], line[256];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			v = strtol(line + klen + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/*
 * RSS of the anonymous mappings exactly ram_bytes long: guest RAM, for a VMM
 * that maps it in one piece (Kiln and QEMU both do for a small guest).
 */
static long ram_rss_kib(pid_t pid, uint64_t ram_bytes)
{
	char path[64], line[512];
	unsigned long long lo, hi;
	bool in_ram = false, found = false;
	long total = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char perms[8], dev[16];
		unsigned long long off, ino;
		int name_at = 0;

		if (sscanf(line, "%llx-%llx %7s %llx %15s %llu %n", &lo, &hi, perms,
			   &off, dev, &ino, &name_at) == 6) {
			/* Anonymous: inode 0 and no name (not [heap] or [stack]). */
			in_ram = hi - lo == ram_bytes && ino == 0 &&
				 (line[name_at] == '\n' || line[name_at] == '\0');
			found |= in_ram;
			continue;
		}
		if (in_ram && !strncmp(line, "Rss:", 4))
			total += strtol(line + 4, NULL, 10);
	}
	fclose(f);
	return found ? total : -1;
}

/*
 * CPU time of the live threads of PID, in seconds: the first field of each
 * /proc/PID/task/TID/schedstat is the nanoseconds it has run. Threads that
 * have exited are not counted, which suits a difference between two markers.
 */
static double cpu_seconds(pid_t pid)
{
	char path[96];
	unsigned long long ns, total = 0;
	struct dirent *de;
	bool any = false;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/schedstat", (int)pid,
			 de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu", &ns) == 1) {
			total += ns;
			any = true;
		}
		fclose(f);
	}
	closedir(dir);
	return any ? total / 1e9 : -1;
}

static void take_sample(pid_t pid, uint64_t ram_bytes)
{
	sample.taken = true;
	sample.rss_kib = proc_kib(pid, "status", "VmRSS");
	sample.hwm_kib = proc_kib(pid, "status", "VmHWM");
	sample.pss_kib = proc_kib(pid, "smaps_rollup", "Pss");
	sample.ram_rss_kib = ram_bytes ? ram_rss_kib(pid, ram_bytes) : -1;
}

/*
 * Looks for the markers not seen yet in the new output. carry holds the
 * end of the previous chunk so that a marker split across reads is found.
 */
static void scan(const char *buf, size_t len, double t, pid_t pid, uint64_t ram_bytes)
{
	static char window[2 * MAX_TEXT + 4096];
	static size_t carry;
	size_t off = 0;

	while (off < len) {
		size_t n = len - off, wlen;
		int i;

		if (n > sizeof(window) - carry)
			n = sizeof(window) - carry;
		memcpy(window + carry, buf + off, n);
		off += n;
		wlen = carry + n;
		for (i = 0; i < nr_markers; i++) {
			struct marker *m = &markers[i];

			if (!m->text || m->t >= 0)
				continue;
			if (memmem(window, wlen, m->text, strlen(m->text))) {
				m->t = t;
				m->cpu = cpu_seconds(pid);
				if (!m->name)	/* the --sample-on marker */
					take_sample(pid, ram_bytes);
			}
		}
		carry = wlen < MAX_TEXT ? wlen : MAX_TEXT;
		memmove(window, window + wlen - carry, carry);
	}
}

static int pidfd_open_(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

static void print_value(const char *key, const char *name, double v)
{
	if (v >= 0)
		printf("%s_%s=%.4f\n", key, name, v);
	else
		printf("%s_%s=none\n", key, name);
}

static void print_kib(const char *key, long kib)
{
	if (kib >= 0)
		printf("%s=%ld\n", key, kib);
	else
		printf("%s=none\n", key);
}

static const char *add_marker(const char *name, const char *text)
{
	if (nr_markers == MAX_MARKERS + 1 || !*text || strlen(text) > MAX_TEXT)
		usage();
	markers[nr_markers].name = name;
	markers[nr_markers].text = text;
	markers[nr_markers].t = -1;
	markers[nr_markers].cpu = -1;
	nr_markers++;
	return text;
}

int main(int argc, char **argv)
{
	uint64_t ram_bytes = 0;
	double timeout = 600, t0, t_exit = -1;
	const char *log_path = NULL;
	int out_pipe[2], in_pipe[2], pidfd, status = 0, i;
	bool timed_out = false, out_open = true;
	struct rusage ru;
	FILE *log = NULL;
	pid_t pid;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		const char *opt = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!val)
			usage();
		if (!strcmp(opt, "--marker")) {
			char *eq = strchr(argv[i + 1], '=');

			if (!eq || eq == val)
				usage();
			*eq = '\0';
			add_marker(val, eq + 1);
		} else if (!strcmp(opt, "--sample-on")) {
			add_marker(NULL, val);
		} else if (!strcmp(opt, "--ram")) {
			ram_bytes = strtoull(val, NULL, 0);
		} else if (!strcmp(opt, "--timeout")) {
			timeout = strtod(val, NULL);
		} else if (!strcmp(opt, "--log")) {
			log_path = val;
		} else {
			usage();
		}
		i++;
	}
	if (i + 1 >= argc || timeout <= 0)
		usage();
	if (log_path && !(log = fopen(log_path, "w"))) {
		perror(log_path);
		return 1;
	}
	if (pipe2(out_pipe, O_CLOEXEC) || pipe2(in_pipe, O_CLOEXEC)) {
		perror("pipe");
		return 2;
	}

	/* Best effort: without the privilege, probe runs as it was started. */
	struct sched_param rt = { .sched_priority = 1 };

	sched_setscheduler(0, SCHED_FIFO | SCHED_RESET_ON_FORK, &rt);
	t0 = now();
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		/* Its own process group, so a timeout kills every helper too. */
		setpgid(0, 0);
		dup2(in_pipe[0], 0);
		dup2(out_pipe[1], 1);
		dup2(out_pipe[1], 2);
		execvp(argv[i + 1], argv + i + 1);
		fprintf(stderr, "probe: cannot run %s: %s\n", argv[i + 1], strerror(errno));
		_exit(127);
	}
	close(out_pipe[1]);
	close(in_pipe[0]);
	pidfd = pidfd_open_(pid);
	if (pidfd < 0) {
		perror("pidfd_open");
		kill(pid, SIGKILL);
		return 2;
	}

	while (t_exit < 0 || out_open) {
		struct pollfd fds[2] = {
			{ .fd = out_open ? out_pipe[0] : -1, .events = POLLIN },
			{ .fd = t_exit < 0 ? pidfd : -1, .events = POLLIN },
		};
		double left = t0 + timeout - now();
		char buf[65536];
		int n;

		if (left <= 0) {
			timed_out = true;
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			break;
		}
		n = poll(fds, 2, (int)(left * 1000) + 1);
		if (n < 0 && errno != EINTR) {
			perror("poll");
			break;
		}
		if (fds[1].revents && t_exit < 0)
			t_exit = now() - t0;
		if (fds[0].revents) {
			ssize_t r = read(out_pipe[0], buf, sizeof(buf));

			if (r > 0) {
				if (log)
					fwrite(buf, 1, r, log);
				scan(buf, r, now() - t0, pid, ram_bytes);
			} else if (r == 0 || errno != EINTR) {
				out_open = false;
			}
		}
	}
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("wait4");
		return 2;
	}
	if (t_exit < 0)
		t_exit = now() - t0;
	if (log)
		fclose(log);

	if (timed_out)
		printf("status=timeout\n");
	else if (WIFEXITED(status))
		printf("status=exit %d\n", WEXITSTATUS(status));
	else
		printf("status=signal %d\n", WTERMSIG(status));
	print_value("t", "exit", t_exit);
	for (i = 0; i < nr_markers; i++) {
		if (markers[i].name) {
			print_value("t", markers[i].name, markers[i].t);
			print_value("cpu", markers[i].name, markers[i].cpu);
		}
	}
	printf("user_s=%.4f\nsys_s=%.4f\nmaxrss_kib=%ld\n",
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss);
	for (i = 0; i < nr_markers; i++)
		if (!markers[i].name && !sample.taken)
			printf("rss_kib=none\nhwm_kib=none\npss_kib=none\nram_rss_kib=none\n");
	if (sample.taken) {
		/* A process that has just exited has no VmRSS left to read. */
		print_kib("rss_kib", sample.rss_kib);
		print_kib("hwm_kib", sample.hwm_kib);
		print_kib("pss_kib", sample.pss_kib);
		print_kib("ram_rss_kib", sample.ram_rss_kib);
	}
	return 0;
}
