// SPDX-License-Identifier: Apache-2.0
#include "backend/console_tty.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "lib/types.h"

static struct termios saved_termios;
static volatile sig_atomic_t saved_fd = -1;

/* Signals whose default action ends the process. */
static const int fatal_signals[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGSEGV,
};
static struct sigaction previous[ARRAY_SIZE(fatal_signals)];

void console_tty_restore(void)
{
	int fd = saved_fd;

	if (fd < 0)
		return;
	saved_fd = -1;
	tcsetattr(fd, TCSAFLUSH, &saved_termios);
}

/*
 * Restores the terminal, then hands the signal to whoever had it before:
 * the default action, or a sanitizer's handler. A fault raised by the CPU
 * is handed over by returning, so that the faulting instruction runs again
 * and the previous handler sees the real fault.
 */
static void on_fatal_signal(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	console_tty_restore();
	for (unsigned int i = 0; i < ARRAY_SIZE(fatal_signals); i++)
		if (fatal_signals[i] == sig)
			sigaction(sig, &previous[i], NULL);
	if (info->si_code > 0 && (sig == SIGSEGV || sig == SIGBUS ||
				  sig == SIGFPE || sig == SIGILL))
		return;
	raise(sig);
}

static void install_handlers(void)
{
	static bool installed;
	struct sigaction sa;

	if (installed)
		return;
	installed = true;
	atexit(console_tty_restore);
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_fatal_signal;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (unsigned int i = 0; i < ARRAY_SIZE(fatal_signals); i++) {
		if (sigaction(fatal_signals[i], NULL, &previous[i]))
			continue;
		/* nohup and friends ignore some on purpose: keep that. */
		if (previous[i].sa_handler == SIG_IGN)
			continue;
		sigaction(fatal_signals[i], &sa, NULL);
	}
}

int console_tty_make_raw(int fd)
{
	struct termios tio;

	if (saved_fd >= 0)
		return saved_fd == fd ? 0 : -1;
	if (!isatty(fd) || tcgetattr(fd, &tio))
		return -1;
	saved_termios = tio;
	tio.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
	tio.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
	tio.c_cflag &= ~(CSIZE | PARENB);
	tio.c_cflag |= CS8;
	tio.c_cc[VMIN] = 1;
	tio.c_cc[VTIME] = 0;
	install_handlers();
	/* Saved first: a signal in between restores what is still current. */
	saved_fd = fd;
	if (tcsetattr(fd, TCSANOW, &tio)) {
		saved_fd = -1;
		return -1;
	}
	return 0;
}
