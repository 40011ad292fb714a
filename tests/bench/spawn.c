/*
 * spawn: the baseline for dlq retry's overhead — run CMD once per input
 * line, the line on its stdin, CMD's stdout passed on, nothing else.
 * What a user's own minimal loop would cost without a shell in the way.
 *
 *   spawn FILE CMD [ARG]...
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int feed(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: spawn FILE CMD [ARG]...\n");
		return 2;
	}
	FILE *in = fopen(argv[1], "r");
	if (!in) {
		perror(argv[1]);
		return 2;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int failed = 0;
	while ((len = getline(&line, &cap, in)) > 0) {
		int p[2];
		if (pipe(p) != 0)
			return 2;
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0) {
			dup2(p[0], 0);
			close(p[0]);
			close(p[1]);
			execvp(argv[2], argv + 2);
			_exit(127);
		}
		close(p[0]);
		if (feed(p[1], line, (size_t)len) != 0)
			failed = 1;
		close(p[1]);
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed = 1;
	}
	free(line);
	fclose(in);
	return failed;
}
