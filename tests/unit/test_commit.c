/* commit and fault: atomic replace, put-if-absent, locks, crash points. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commit.h"
#include "fault.h"
#include "unit.h"

static char dir[64];
static char err[512];

static const char *in_dir(const char *name)
{
	static char p[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
	return p[k];
}

/* The whole file as a string, or NULL when it cannot be read. */
static char *slurp(const char *path)
{
	static char data[4096];
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, data, sizeof data - 1);
	close(fd);
	if (n < 0)
		return NULL;
	data[n] = '\0';
	return data;
}

/* Leftover temp files in the test folder. */
static int count_tmp(void)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".tmp."))
			n++;
	closedir(d);
	return n;
}

static void clear_tmp(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".tmp."))
			unlink(in_dir(e->d_name));
	closedir(d);
}

/* Run this program again as "--fault-child OP PATH DATA..." with
 * IDEM_FAULT set, as a crashing tool would be run; its exit status. */
static int run_fault_child(const char *fault, const char *op,
			   const char *path, const char *d1, const char *d2)
{
	pid_t pid = fork();
	if (pid == 0) {
		setenv("IDEM_FAULT", fault, 1);
		char *argv[] = {"test_commit", "--fault-child", (char *)op,
				(char *)path, (char *)d1, (char *)d2, NULL};
		execv("/proc/self/exe", argv);
		_exit(127);
	}
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int fault_child(int argc, char **argv)
{
	/* argv: prog --fault-child OP PATH DATA [DATA] */
	if (argc < 5)
		return 3;
	for (int i = 4; i < argc && argv[i]; i++) {
		int r;
		if (strcmp(argv[2], "replace") == 0)
			r = commit_replace(argv[3], argv[i], strlen(argv[i]),
					   err, sizeof err);
		else
			r = commit_create_new(argv[3], argv[i],
					      strlen(argv[i]), err,
					      sizeof err);
		if (r < 0) {
			fprintf(stderr, "child: %s\n", err);
			return 2;
		}
	}
	return 0;
}

TEST(replace_creates_then_replaces)
{
	const char *p = in_dir("state");
	CHECK_INT(commit_replace(p, "one\n", 4, err, sizeof err), 0);
	CHECK_STR(slurp(p), "one\n");
	CHECK_INT(commit_replace(p, "two, longer\n", 12, err, sizeof err), 0);
	CHECK_STR(slurp(p), "two, longer\n");
	CHECK_INT(commit_replace(p, "", 0, err, sizeof err), 0);
	CHECK_STR(slurp(p), "");
	CHECK_INT(count_tmp(), 0);
}

TEST(replaced_file_has_mode_0644_under_umask_022)
{
	const char *p = in_dir("mode");
	mode_t old = umask(022);
	CHECK_INT(commit_replace(p, "x", 1, err, sizeof err), 0);
	umask(old);
	struct stat st;
	CHECK_INT(stat(p, &st), 0);
	CHECK_INT(st.st_mode & 0777, 0644);
}

TEST(streamed_commit_and_abort)
{
	const char *p = in_dir("stream");
	struct commit_file c;
	CHECK_INT(commit_open(&c, p, err, sizeof err), 0);
	CHECK_INT(commit_write(&c, "ab", 2, err, sizeof err), 0);
	CHECK_INT(commit_write(&c, "cd", 2, err, sizeof err), 0);
	CHECK_INT(count_tmp(), 1);
	CHECK(access(p, F_OK) != 0); /* nothing visible before finish */
	CHECK_INT(commit_finish(&c, err, sizeof err), 0);
	CHECK_STR(slurp(p), "abcd");

	CHECK_INT(commit_open(&c, p, err, sizeof err), 0);
	CHECK_INT(commit_write(&c, "new", 3, err, sizeof err), 0);
	commit_abort(&c);
	CHECK_STR(slurp(p), "abcd");
	CHECK_INT(count_tmp(), 0);
}

TEST(create_new_refuses_an_existing_file)
{
	const char *p = in_dir("v1");
	CHECK_INT(commit_create_new(p, "first", 5, err, sizeof err), 0);
	CHECK_STR(slurp(p), "first");
	CHECK_INT(commit_create_new(p, "second", 6, err, sizeof err), 1);
	CHECK_STR(slurp(p), "first");
	CHECK_INT(count_tmp(), 0);

	struct commit_file c;
	CHECK_INT(commit_open(&c, p, err, sizeof err), 0);
	CHECK_INT(commit_write(&c, "third", 5, err, sizeof err), 0);
	CHECK_INT(commit_finish_new(&c, err, sizeof err), 1);
	CHECK_STR(slurp(p), "first");
	CHECK_INT(count_tmp(), 0);
}

TEST(missing_folder_is_an_error_with_the_path)
{
	char p[256], want[512];
	snprintf(p, sizeof p, "%s/no/such/state", dir);
	CHECK_INT(commit_replace(p, "x", 1, err, sizeof err), -1);
	snprintf(want, sizeof want,
		 "%s: cannot create temp file: No such file or directory", p);
	CHECK_STR(err, want);
	CHECK_INT(commit_create_new(p, "x", 1, err, sizeof err), -1);
	CHECK_STR(err, want);
}

TEST(path_under_a_regular_file_is_an_error)
{
	const char *f = in_dir("plain");
	CHECK_INT(commit_replace(f, "x", 1, err, sizeof err), 0);
	char p[256], want[512];
	snprintf(p, sizeof p, "%s/state", f);
	CHECK_INT(commit_replace(p, "x", 1, err, sizeof err), -1);
	snprintf(want, sizeof want,
		 "%s: cannot create temp file: Not a directory", p);
	CHECK_STR(err, want);
}

TEST(rename_onto_a_folder_fails_and_cleans_up)
{
	const char *p = in_dir("isdir");
	CHECK_INT(mkdir(p, 0755), 0);
	CHECK_INT(commit_replace(p, "x", 1, err, sizeof err), -1);
	char want[512];
	snprintf(want, sizeof want, "%s: rename: Is a directory", p);
	CHECK_STR(err, want);
	CHECK_INT(count_tmp(), 0);
	rmdir(p);
}

TEST(sync_dir_of_a_bare_name_uses_the_current_folder)
{
	CHECK_INT(commit_sync_dir("bare-name", err, sizeof err), 0);
	CHECK_INT(commit_sync_dir("/top", err, sizeof err), 0);
}

TEST(sync_dir_of_a_folder_named_with_a_slash_is_its_parent)
{
	/* "no-such/x/" is the folder x in no-such: the parent is named */
	CHECK_INT(commit_sync_dir("no-such/x/", err, sizeof err), -1);
	CHECK_STR(err, "no-such/x/: cannot open folder no-such: No such file "
		       "or directory");
	CHECK_INT(commit_sync_dir("x//", err, sizeof err), 0);
	CHECK_INT(commit_sync_dir("/top/", err, sizeof err), 0);
}

TEST(write_all_writes_everything)
{
	int fds[2];
	CHECK_INT(pipe(fds), 0);
	CHECK_INT(write_all(fds[1], "hello", 5), 0);
	close(fds[1]);
	char got[16] = {0};
	CHECK_INT(read(fds[0], got, sizeof got), 5);
	CHECK_STR(got, "hello");
	close(fds[0]);
	CHECK_INT(write_all(-1, "x", 1), -1);
	CHECK_INT(errno, EBADF);
}

TEST(lock_is_exclusive_across_processes)
{
	const char *p = in_dir("locked");
	int fd = commit_lock(p, err, sizeof err);
	CHECK(fd >= 0);

	/* flock belongs to the open file description: a second open in
	 * this process conflicts just as another process would. */
	char want[512];
	snprintf(want, sizeof want,
		 "%s: locked by another process; try again later", p);
	CHECK_INT(commit_lock(p, err, sizeof err), -2);
	CHECK_STR(err, want);

	pid_t pid = fork();
	if (pid == 0) {
		int r = commit_lock(p, err, sizeof err);
		_exit(r == -2 ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	close(fd);
	fd = commit_lock(p, err, sizeof err);
	CHECK(fd >= 0);
	close(fd);
}

TEST(lock_in_a_missing_folder_is_an_error)
{
	char p[256], want[512];
	snprintf(p, sizeof p, "%s/no/such/state", dir);
	CHECK_INT(commit_lock(p, err, sizeof err), -1);
	snprintf(want, sizeof want,
		 "%s.lock: cannot open lock file: No such file or directory",
		 p);
	CHECK_STR(err, want);
}

TEST(crash_after_write_keeps_the_old_content)
{
	const char *p = in_dir("crash");
	CHECK_INT(commit_replace(p, "old", 3, err, sizeof err), 0);
	CHECK_INT(run_fault_child("commit.written", "replace", p, "new", NULL),
		  FAULT_EXIT);
	CHECK_STR(slurp(p), "old");
	CHECK_INT(count_tmp(), 1); /* a crash leaves its temp file */
	clear_tmp();
}

TEST(crash_after_rename_has_the_new_content)
{
	const char *p = in_dir("crash");
	CHECK_INT(commit_replace(p, "old", 3, err, sizeof err), 0);
	CHECK_INT(run_fault_child("commit.renamed", "replace", p, "new", NULL),
		  FAULT_EXIT);
	CHECK_STR(slurp(p), "new");
	CHECK_INT(count_tmp(), 0);
	CHECK_INT(run_fault_child("commit.synced", "replace", p, "newer",
				  NULL),
		  FAULT_EXIT);
	CHECK_STR(slurp(p), "newer");
}

TEST(fault_count_picks_the_nth_hit)
{
	const char *p = in_dir("crash");
	CHECK_INT(commit_replace(p, "old", 3, err, sizeof err), 0);
	CHECK_INT(run_fault_child("commit.written:2", "replace", p, "first",
				  "second"),
		  FAULT_EXIT);
	CHECK_STR(slurp(p), "first");
	clear_tmp();
	/* Another point's name, or no variable, changes nothing. */
	CHECK_INT(run_fault_child("commit.elsewhere", "replace", p, "third",
				  NULL),
		  0);
	CHECK_STR(slurp(p), "third");
	CHECK_INT(run_fault_child("", "replace", p, "fourth", NULL), 0);
	CHECK_STR(slurp(p), "fourth");
}

TEST(crash_during_create_new)
{
	const char *p = in_dir("v9");
	CHECK_INT(run_fault_child("commit.written", "create", p, "x", NULL),
		  FAULT_EXIT);
	CHECK(access(p, F_OK) != 0);
	clear_tmp();
	CHECK_INT(run_fault_child("commit.linked", "create", p, "x", NULL),
		  FAULT_EXIT);
	CHECK_STR(slurp(p), "x");
	clear_tmp(); /* linked but not yet unlinked: a harmless leftover */
	CHECK_INT(count_tmp(), 0);
}

static void remove_all(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.' || strstr(e->d_name, ".tmp."))
			unlink(in_dir(e->d_name));
	closedir(d);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--fault-child") == 0)
		return fault_child(argc, argv);

	snprintf(dir, sizeof dir, "/tmp/idem-commit-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	RUN(replace_creates_then_replaces);
	RUN(replaced_file_has_mode_0644_under_umask_022);
	RUN(streamed_commit_and_abort);
	RUN(create_new_refuses_an_existing_file);
	RUN(missing_folder_is_an_error_with_the_path);
	RUN(path_under_a_regular_file_is_an_error);
	RUN(rename_onto_a_folder_fails_and_cleans_up);
	RUN(sync_dir_of_a_bare_name_uses_the_current_folder);
	RUN(sync_dir_of_a_folder_named_with_a_slash_is_its_parent);
	RUN(write_all_writes_everything);
	RUN(lock_is_exclusive_across_processes);
	RUN(lock_in_a_missing_folder_is_an_error);
	RUN(crash_after_write_keeps_the_old_content);
	RUN(crash_after_rename_has_the_new_content);
	RUN(fault_count_picks_the_nth_hit);
	RUN(crash_during_create_new);
	remove_all();
	return unit_done();
}
