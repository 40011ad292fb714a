/*
 * commit: changing files so that a crash at any instant, SIGKILL or power
 * cut, leaves either the old content or the new, never a mix.
 *
 * What a power cut keeps (the model tests/powercut checks, POSIX's
 * weakest promise): a file's bytes as of its last fsync, any part of the
 * writes since (dropped, cut at any length, torn at a block); a folder's
 * names as of its last fsync, any subset of the changes since, in any
 * order (a rename may reach the disk before the data it points to, or
 * before a name made earlier in the same folder).  fsync of a file makes
 * neither its name nor a rename of it durable.
 *
 * Replace (state files), and what each step makes durable:
 *   1. write the new content to PATH.tmp.XXXXXX in the same folder.
 *      Nothing durable.  A cut leaves PATH as it was; the temp file may
 *      be absent, empty, cut or torn: litter a reader never opens.
 *   2. fsync it, close it                        fault "commit.written"
 *      The temp file's bytes, not its name.  A cut: PATH as it was.
 *   3. rename it over PATH                       fault "commit.renamed"
 *      Nothing more is durable yet.  A cut: PATH names the old content
 *      or the new, whole (its bytes were made durable in step 2, which
 *      is why 2 comes before 3: the rename first would let the name
 *      reach the disk before the data, a PATH cut short or torn).
 *   4. fsync the folder                          fault "commit.synced"
 *      The rename.  Only now does commit_finish return 0, so a tool
 *      says it committed only when every crash state has the new
 *      content.
 *
 * Put-if-absent (txlog versions and data files): steps 1-2, then link(2)
 * the temp file to PATH ("commit.linked"), which fails with EEXIST when
 * another writer got there first (of two racing writers exactly one
 * wins), then unlink the temp file and fsync the folder: the link is
 * durable only then, and commit_finish_new returns 0 only then.  A cut
 * before: PATH absent or whole, never torn (its bytes came from step 2).
 * A folder fsync that fails takes PATH back (unlink) before the error.
 *
 * What a commit does not order: names in other folders.  A caller that
 * makes a file or folder whose name a later commit vouches for makes
 * that name durable first: a new folder's parent is fsynced after its
 * mkdir (txlog), a side file's and a new dead-letter file's folder at
 * their close (lib/cli.c, lib/dlq.c), before the state commit; txlog's
 * data files are each committed (link, folder fsync) before the log
 * version that names them.
 *
 * Errors come back as -1 with a message "PATH: reason" in err; nothing
 * here prints or exits.  A failed commit removes its temp file.
 */
#ifndef IDEM_COMMIT_H
#define IDEM_COMMIT_H

#include <stddef.h>
#include <stdint.h>

struct commit_file {
	int fd;
	char *path; /* final name */
	char *tmp;  /* temp name, same folder */
};

/* Start a replacement of path: opens the temp file (mode 0644 & ~umask). */
int commit_open(struct commit_file *c, const char *path, char *err,
		size_t errlen);
int commit_write(struct commit_file *c, const void *data, size_t n,
		 char *err, size_t errlen);
/* fsync, rename over path, fsync folder.  Frees c either way. */
int commit_finish(struct commit_file *c, char *err, size_t errlen);
/* Remove the temp file, leave path as it was.  Frees c. */
void commit_abort(struct commit_file *c);

/* The three steps above for a buffer in memory. */
int commit_replace(const char *path, const void *data, size_t n, char *err,
		   size_t errlen);

/* Put-if-absent.  0 created, 1 path already existed (nothing changed),
 * -1 error. */
int commit_create_new(const char *path, const void *data, size_t n,
		      char *err, size_t errlen);

/* Like commit_finish but publishes with put-if-absent: 0, 1 exists, -1. */
int commit_finish_new(struct commit_file *c, char *err, size_t errlen);

/*
 * commit_finish_new for n files at once, at a shared cost: where there
 * are many, one syncfs(2) makes all their bytes durable (not n fsyncs),
 * then each is linked to its name, and each folder that holds one is
 * fsynced once.  0 all published; 1 a name existed; -1 error: then none
 * is published (names already linked are taken back) and every c is
 * aborted.  On 0 every c is finished (freed).
 */
int commit_finish_new_many(struct commit_file **c, size_t n, char *err,
			   size_t errlen);

/* fsync the folder that holds path. */
int commit_sync_dir(const char *path, char *err, size_t errlen);

/* Write all of data to fd, retrying short writes and EINTR, and waiting
 * out EAGAIN (a non-blocking descriptor that is full). */
int write_all(int fd, const void *data, size_t n);

/*
 * Remove the temp files (PATH.tmp.XXXXXX, step 1) that killed commits of
 * PATH left behind: a SIGKILL between mkstemp and rename leaves one, and
 * nothing else ever removes it.  Call only while holding the lock every
 * committer of PATH holds (commit_lock, or the DLQ's exclusive flock):
 * then no temp of PATH is in flight and each one found is stale.  0 and
 * the count and bytes removed (each may be NULL), or -1 with err.
 */
int commit_clean_stale(const char *path, unsigned *removed, uint64_t *bytes,
		       char *err, size_t errlen);

/*
 * An exclusive lock on PATH.lock (flock, so a killed holder releases it).
 * Returns the lock fd, -2 when another process holds it (exit 75), -1 on
 * error.  Close the fd to release.
 */
int commit_lock(const char *path, char *err, size_t errlen);

#endif
