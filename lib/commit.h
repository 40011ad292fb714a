/*
 * commit: changing files so that a crash at any instant leaves either the
 * old content or the new, never a mix.
 *
 * Replace (state files):
 *   1. write the new content to PATH.tmp.XXXXXX in the same folder
 *   2. fsync it, close it                        fault "commit.written"
 *   3. rename it over PATH                       fault "commit.renamed"
 *   4. fsync the folder, so the rename is durable
 *
 * Put-if-absent (txlog versions): steps 1-2, then link(2) the temp file
 * to PATH, which fails with EEXIST when another writer got there first,
 * then unlink the temp file and fsync the folder.  Of two writers racing
 * for one name, exactly one wins.
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

/* fsync the folder that holds path. */
int commit_sync_dir(const char *path, char *err, size_t errlen);

/* Write all of data to fd, retrying short writes and EINTR. */
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
