/*
 * fuzz delta_log: replay of Delta log actions.  The input is a log:
 * commit texts separated by NUL bytes, applied as versions 0, 1, ...
 * (a failed apply stops there, as a load does).  The snapshot's index
 * finds every file it lists, the live list is sorted and live, the
 * protocol checks answer with a reason; and a table txlog may write is
 * checkpointed (dl_checkpoint, into a scratch table on tmpfs) and loaded
 * back from that checkpoint with the same live files and transactions.
 */
#include <dirent.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "delta/checkpoint.h"
#include "delta/log.h"
#include "delta/paths.h"
#include "delta/protocol.h"
#include "delta/snapshot.h"
#include "fuzz.h"
#include "xalloc.h"

static const char *table(void)
{
	static bool made;
	if (!made) {
		char log[96];
		snprintf(log, sizeof log, "%s/_delta_log", fuzz_dir());
		FUZZ_CHECK(mkdir(log, 0755) == 0);
		made = true;
	}
	return fuzz_dir();
}

/* Empty the scratch table's log. */
static void clear_log(void)
{
	char log[96];
	snprintf(log, sizeof log, "%s/_delta_log", table());
	DIR *d = opendir(log);
	FUZZ_CHECK(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] ||
					    !strcmp(e->d_name, "..")))
			continue;
		char p[512];
		snprintf(p, sizeof p, "%s/%s", log, e->d_name);
		unlink(p);
	}
	closedir(d);
}

static void check_snapshot(const struct dl_snapshot *s)
{
	size_t n;
	struct dl_file **live = dl_live_files(s, &n);
	size_t count = 0;
	for (size_t i = 0; i < s->nfiles; i++) {
		const struct dl_file *f = &s->files[i];
		FUZZ_CHECK(f->path && f->action);
		count += f->live;
		struct dl_file *g = dl_find(s, f->path);
		FUZZ_CHECK(f->live ? g == f : g == NULL);
		for (size_t k = 0; k < f->npv; k++)
			FUZZ_CHECK(f->pv[k].name);
	}
	FUZZ_CHECK(n == count);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(live[i]->live);
		if (i)
			FUZZ_CHECK(strcmp(live[i - 1]->path, live[i]->path) < 0);
	}
	free(live);
	for (size_t i = 0; i < s->ntxns; i++)
		FUZZ_CHECK(dl_txn_version_n(s, s->txns[i].app_id,
					     s->txns[i].app_len) ==
			   s->txns[i].version);
}

/* The checkpoint of s, loaded back, holds the same live files. */
static void check_checkpoint(struct dl_snapshot *s)
{
	char err[1024];
	if (dl_checkpoint(s, 0, err, sizeof err) != 0) {
		FUZZ_CHECK(err[0]);
		return;
	}
	/* a snapshot txlog cannot read (protocol, features, schema) is
	 * refused at load, as it should be */
	char e0[1024];
	/* dl_load also checks every live file's partition values */
	bool readable = dl_can_read(s, e0, sizeof e0) == 0 &&
			dl_check_partition_values(s, e0, sizeof e0) == 0;
	bool writable = readable && dl_can_write(s, e0, sizeof e0) == 0;
	struct dl_snapshot *t = dl_load(s->table, -1, err, sizeof err);
	if (!t) {
		FUZZ_CHECK(err[0]);
		if (!readable)
			return;
		/* else refused: only for a path load does not allow */
		bool unsafe = false;
		for (size_t i = 0; i < s->nfiles; i++) {
			char e2[512];
			unsafe |= dl_path_check(s->table, s->files[i].path, e2,
						sizeof e2) != 0;
		}
		if (!unsafe)
			fprintf(stderr, "reload refused: %s\n", err);
		FUZZ_CHECK(unsafe);
		return;
	}
	check_snapshot(t);
	FUZZ_CHECK(t->version == s->version);
	FUZZ_CHECK(t->checkpoint_version == s->version);
	size_t n1, n2;
	struct dl_file **a = dl_live_files(s, &n1), **b = dl_live_files(t, &n2);
	FUZZ_CHECK(n1 == n2);
	for (size_t i = 0; i < n1; i++) {
		FUZZ_CHECK(!strcmp(a[i]->path, b[i]->path));
		FUZZ_CHECK(a[i]->size == b[i]->size);
		FUZZ_CHECK(a[i]->npv == b[i]->npv);
	}
	free(a);
	free(b);
	FUZZ_CHECK(t->ntxns == s->ntxns);
	for (size_t i = 0; i < s->ntxns; i++)
		FUZZ_CHECK(dl_txn_version_n(t, s->txns[i].app_id,
					     s->txns[i].app_len) ==
			   s->txns[i].version);
	FUZZ_CHECK(!writable || dl_can_write(t, err, sizeof err) == 0);
	dl_snapshot_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024];
	clear_log();
	struct dl_snapshot *s = dl_load(table(), -1, err, sizeof err);
	FUZZ_CHECK(s && s->version == -1);
	const char *p = (const char *)data;
	size_t i = 0;
	int64_t v = 0;
	bool ok = true;
	while (ok && i <= size) {
		const char *z = memchr(p + i, 0, size - i);
		size_t e = z ? (size_t)(z - p) : size;
		err[0] = '\0';
		if (dl_apply(s, p + i, e - i, v, err, sizeof err) != 0) {
			FUZZ_CHECK(err[0]);
			ok = false;
		} else {
			FUZZ_CHECK(s->version == v);
		}
		v++;
		i = e + 1;
	}
	check_snapshot(s);
	int r = dl_can_read(s, err, sizeof err);
	FUZZ_CHECK(r == 0 || (r == -1 && err[0]));
	int w = dl_can_write(s, err, sizeof err);
	FUZZ_CHECK(w == 0 || (w == -1 && err[0]));
	if (ok && w == 0 && s->version >= 0)
		check_checkpoint(s);
	dl_snapshot_free(s);
	return 0;
}
