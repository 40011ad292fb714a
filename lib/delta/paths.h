/*
 * delta/paths: names and paths of a Delta table's files.
 *
 * The log holds relative URIs (percent-encoded).  A path that is
 * absolute, has a scheme, has an empty, "." or ".." segment, or leads
 * through a symlink out of the table, is refused at load: no verb ever
 * touches a file outside the table.
 *
 * Library rules: errors come back as -1 with "TABLE: reason" in err;
 * nothing prints or exits.
 */
#ifndef IDEM_DELTA_PATHS_H
#define IDEM_DELTA_PATHS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A random RFC 4122 version 4 UUID, 36 characters and NUL. */
void dl_uuid(char out[37]);
/* Percent-encode a relative file path for the log (keeps A-Za-z0-9 and
 * "-._~/="), and back. */
void dl_path_encode(struct buf *b, const char *s);
char *dl_path_decode(const char *s, size_t n);
/* Hive-style escape of a partition value for a folder name. */
void dl_part_escape(struct buf *b, const char *s);
/* 0 when the (decoded) relative path is safe to open under table. */
int dl_path_check(const char *table, const char *path, char *err,
		  size_t errlen);
/* 0 when the file itself is not a symlink (call before opening it). */
int dl_open_check(const char *table, const char *path, char *err,
		  size_t errlen);

/* For the loader: decode s[0..n) into o (room for n + 1), and the
 * lexical half of dl_path_check (no look at the file system), enough
 * for a path whose folder was checked already. */
void dl_path_decode_into(char *o, const char *s, size_t n);
int dl_path_lexical(const char *table, const char *path, char *err,
		    size_t errlen);

#endif
