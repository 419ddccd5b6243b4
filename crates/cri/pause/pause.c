/*
 * ferrokube's pause: the process that holds a pod sandbox's namespaces.
 *
 * It does nothing but wait: it reaps any child that is re-parented to it (it is PID 1 of the
 * pod's PID namespace when the pod shares one) and exits with status 0 on SIGTERM or SIGINT,
 * so that stopping a sandbox is immediate. Built with `cc -static -Os` by cri::images.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int sig)
{
	(void)sig;
	_exit(0);
}

static void on_child(int sig)
{
	int saved = errno;
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

int main(void)
{
	struct sigaction act;

	memset(&act, 0, sizeof act);
	act.sa_handler = on_stop;
	sigemptyset(&act.sa_mask);
	if (sigaction(SIGTERM, &act, NULL) < 0 || sigaction(SIGINT, &act, NULL) < 0)
		return 1;

	memset(&act, 0, sizeof act);
	act.sa_handler = on_child;
	act.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	sigemptyset(&act.sa_mask);
	if (sigaction(SIGCHLD, &act, NULL) < 0)
		return 1;

	for (;;)
		pause();
}
