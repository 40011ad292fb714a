/* xgrow and xreallocarray: growth by doubling, and death (exit 2, "out of
 * memory") rather than a wrapped size when the array would not fit. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "unit.h"
#include "xalloc.h"

/* Run f in a child with stderr to a pipe: its exit status and message. */
static int dies(void (*f)(void), char *msg, size_t msglen)
{
	int fd[2];
	if (pipe(fd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd[1], 2);
		close(fd[0]);
		f();
		_exit(0);
	}
	close(fd[1]);
	ssize_t n = read(fd[0], msg, msglen - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(fd[0]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void grow_past_size_max(void)
{
	size_t cap = SIZE_MAX / 2 + 1;
	char *p = xgrow(NULL, &cap, cap, 1, 16);
	free(p);
}

static void grow_elements_past_size_max(void)
{
	/* doubling the count fits a size_t; count * size does not (2^61
	 * elements of 16 bytes; SIZE_MAX / 32 doubled times 16 still fit,
	 * and asked the allocator for it: ASan aborts rather than fail) */
	size_t cap = SIZE_MAX / 16 + 1;
	char *p = xgrow(NULL, &cap, cap, 16, 16);
	free(p);
}

static void array_past_size_max(void)
{
	free(xreallocarray(NULL, SIZE_MAX / 8 + 1, 8));
}

TEST(grows_by_doubling)
{
	size_t cap = 0, n;
	int *v = NULL;
	for (n = 0; n < 1000; n++) {
		v = xgrow(v, &cap, n, sizeof *v, 16);
		CHECK(cap > n);
		v[n] = (int)n;
	}
	CHECK_INT(cap, 1024);
	CHECK_INT(v[999], 999);
	size_t same = cap;
	int *w = xgrow(v, &cap, 10, sizeof *v, 16);
	CHECK(w == v && cap == same); /* room already: untouched */
	free(w);
	cap = 0;
	v = xgrow(NULL, &cap, 0, sizeof *v, 0); /* min 0: one element */
	CHECK_INT(cap, 1);
	v = xgrow(v, &cap, 5, sizeof *v, 0); /* far past: doubles enough */
	CHECK_INT(cap, 8);
	free(v);
	v = xreallocarray(NULL, 3, sizeof *v);
	v[2] = 7;
	CHECK_INT(v[2], 7);
	free(v);
}

TEST(overflow_dies_with_a_message)
{
	char msg[256];
	CHECK_INT(dies(grow_past_size_max, msg, sizeof msg), 2);
	CHECK(strstr(msg, "test_xalloc: out of memory") != NULL);
	CHECK_INT(dies(grow_elements_past_size_max, msg, sizeof msg), 2);
	CHECK(strstr(msg, "out of memory") != NULL);
	CHECK_INT(dies(array_past_size_max, msg, sizeof msg), 2);
	CHECK(strstr(msg, "out of memory") != NULL);
}

int main(void)
{
	cli_init("test_xalloc");
	RUN(grows_by_doubling);
	RUN(overflow_dies_with_a_message);
	return unit_done();
}
