/*
 * feed: run a command with its stdin fed from this process, and know
 * whether it took everything.  One fork/feed/wait for every tool that
 * hands records to a command and then commits (dlq replay, checkpoint
 * run): a commit must follow only a command that consumed the whole
 * batch and exited 0.
 *
 * Consumed.  An exit status of 0 does not say the command read its
 * input: `true` exits 0 at once, and a batch that fits in the pipe buffer
 * is "written" without anyone reading it.  So this process keeps the
 * pipe's read end open while feeding: the bytes the command never took
 * stay countable (FIONREAD once it has exited), and a command that exits
 * while the feed still has bytes to give is seen (a poll on the pipe with
 * a waitpid(WNOHANG) beside it), instead of an EPIPE that a kept read end
 * would never raise.
 *
 * Killed.  The command runs in a process group of its own, led by a
 * small watchdog process forked first.  The watchdog waits on a pipe
 * whose write end only this process holds: when this process dies in any
 * way (SIGKILL included) the pipe reads end-of-file and the watchdog
 * kills the whole group, grandchildren too (PR_SET_PDEATHSIG would reach
 * only the child).  The watchdog also holds a copy of the write end of
 * the command's stdin until the feed is whole: this process dying
 * mid-feed closes its own copy, and without the watchdog's the command
 * would read a clean end of input and could finish (commit a batch cut
 * short) before the kill reached it.  A finished feed tells the watchdog
 * to go quietly.
 * The watchdog ignores the terminal's signals: ^C kills this process,
 * and through the watchdog the command.
 *
 * Errors come back as -1 with a message in err; nothing here prints or
 * exits.
 */
#ifndef IDEM_FEED_H
#define IDEM_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct feed;

/* Start argv[0] (PATH search) with stdin from a pipe; env_name=env_value
 * set in its environment when env_name is not NULL. */
struct feed *feed_start(char **argv, const char *env_name,
			const char *env_value, char *err, size_t errlen);

/* Give the command n bytes.  0 all taken by the pipe; 1 the command
 * exited before taking them all (the rest counts as unread); -1 error. */
int feed_write(struct feed *f, const void *data, size_t n, char *err,
	       size_t errlen);

/*
 * End of input: close the pipe, wait for the command, free f.  Returns
 * its wait(2) status word as waitpid gave it (0: exited 0; read it with
 * WIFEXITED and the rest, or feed_status_describe), or -1 on error;
 * *unread is the number of bytes it never read (left in the pipe or
 * never taken).  Commit only on 0 with *unread == 0.  The word, not an
 * exit code with 128 + signal folded in: a command killed by SIGKILL
 * and one that exited 137 are different stories for the user.
 */
int feed_finish(struct feed *f, uint64_t *unread, char *err, size_t errlen);

/* A wait(2) status in words, for a message: "exited with status 3" or
 * "was killed by signal 9 (SIGKILL)" (", core dumped" when it did). */
void feed_status_describe(int wstatus, char *buf, size_t len);

/* The command exited (not killed) with this exit code. */
bool feed_status_exited(int wstatus, int code);

/*
 * Standard output's reader, as the fed command's: bytes written into a
 * pipe are not yet read, and a reader that exits (`| head -c 10`)
 * leaves the rest in it, never delivered, though every write succeeded
 * (a batch that fits in the pipe buffer raises no EPIPE).  When fd is a
 * pipe, wait until its reader has taken every byte (0) or has gone
 * leaving *unread bytes (1).  0 at once for any other file, or when the
 * pipe cannot say.  Call it after the last write, before committing
 * what was written as delivered.
 */
int feed_out_taken(int fd, uint64_t *unread);

/*
 * The same for a fed command's output, which goes to fd (our standard
 * output) itself: 0 its reader took every byte and is still there; 1
 * it left *unread bytes in the pipe; 2 it has gone, pipe empty.  A
 * reader gone leaves what the command wrote afterwards nowhere, and the
 * command may not say: `sh -c 'cat; true'` exits 0 with its cat killed
 * by SIGPIPE.  So a tool commits a fed batch only on 0; the reader that
 * took all and then went (`| head -n 2` of two lines) is refused too,
 * which only asks for the run again.
 */
int feed_cmd_out_taken(int fd, uint64_t *unread);

/* fd, our standard output, can take a fed command's output: false when
 * it was closed (lib/cli opens /dev/null read-only in its place), where
 * what the command writes is lost, though it may exit 0 all the same
 * (`sh -c 'cat; true'`).  A tool refuses to feed a batch then. */
bool feed_out_open(int fd);

/*
 * The watchdog alone, for a tool that runs its commands itself (dlq
 * retry): it leads a new process group, which the caller's child joins
 * (setpgid(0, dog) in the child, setpgid(pid, dog) in the parent), and
 * kills that group if this process dies.  hold (or -1) is the write end
 * of the command's stdin, which the watchdog keeps open until
 * feed_guard_input_whole: call it once the input is written and closed.
 * kill(-dog, SIGKILL) ends the command and its watchdog together (a
 * timeout).  Release it once the command is reaped: kill_group false
 * lets it go quietly.  Returns the watchdog's pid, or -1 with a message
 * in err.
 */
pid_t feed_guard_start(int *dogfd, int hold, char *err, size_t errlen);
void feed_guard_input_whole(int dogfd);
void feed_guard_release(pid_t *dog, int *dogfd, bool kill_group);

#endif
