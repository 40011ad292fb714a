/*
 * verify: the whole table checked, read-only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "cli.h"
#include "txlog.h"
#include "xalloc.h"

static bool file_sum(const char *path, char out[33], int64_t *size)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return false;
	XXH3_state_t *st = XXH3_createState();
	XXH3_128bits_reset(st);
	char b[65536];
	size_t r;
	int64_t n = 0;
	while ((r = fread(b, 1, sizeof b, fp)) > 0) {
		XXH3_128bits_update(st, b, r);
		n += (int64_t)r;
	}
	bool ok = !ferror(fp);
	fclose(fp);
	XXH128_hash_t h = XXH3_128bits_digest(st);
	XXH3_freeState(st);
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64,
		 (unsigned long long)h.low64);
	*size = n;
	return ok;
}

/* verify: every commit parses, the snapshot loads, every live data file
 * is there with the size and checksum its add recorded. */
int verb_verify(void)
{
	char err[1024];
	size_t n;
	int64_t *vs = dl_list_versions(opt.table, &n, err, sizeof err);
	if (!vs)
		cli_die(EXIT_TROUBLE, "%s", err);
	struct buf tmp = {0};
	uint64_t bad = 0;
	for (size_t k = 0; k < n; k++) {
		if (dl_read_commit(opt.table, vs[k], &tmp, err, sizeof err) < 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		struct dl_snapshot *w = xcalloc(1, sizeof *w);
		w->table = xstrdup(opt.table);
		if (dl_apply(w, tmp.p, tmp.len, vs[k], err, sizeof err) != 0) {
			cli_warn("%s", err);
			bad++;
		}
		dl_snapshot_free(w);
	}
	buf_free(&tmp);
	free(vs);
	struct dl_snapshot *s = load_table(-1);
	size_t nf;
	struct dl_file **live = dl_live_files(s, &nf);
	struct buf path = {0};
	for (size_t i = 0; i < nf; i++) {
		const struct dl_file *f = live[i];
		path.len = 0;
		buf_addf(&path, "%s/%s", opt.table, f->path);
		char sum[33];
		int64_t size;
		if (dl_open_check(opt.table, f->path, err, sizeof err) != 0)
			cli_die(EXIT_TROUBLE, "%s", err);
		if (!file_sum(path.p, sum, &size)) {
			cli_warn("%s: %s: data file missing or unreadable "
				 "(added in version %lld)", opt.table, f->path,
				 (long long)f->version);
			bad++;
			continue;
		}
		if (size != f->size) {
			cli_warn("%s: %s: %lld bytes, the log says %lld",
				 opt.table, f->path, (long long)size,
				 (long long)f->size);
			bad++;
			continue;
		}
		const char *tg;
		size_t tn;
		char *want = NULL;
		if (dl_get(f->action, f->action_len, "tags", &tg, &tn))
			want = dl_get_str(tg, tn, "idem.xxh3_128");
		if (want && strcmp(want, sum) != 0) {
			cli_warn("%s: %s: checksum mismatch (damaged data "
				 "file)", opt.table, f->path);
			bad++;
		}
		free(want);
	}
	buf_free(&path);
	free(live);
	if (opt.stats) {
		char extra[160];
		snprintf(extra, sizeof extra,
			 ",\"version\":%lld,\"files\":%zu,\"problems\":%llu",
			 (long long)s->version, nf, (unsigned long long)bad);
		cli_stats_print(extra);
	}
	dl_snapshot_free(s);
	return bad ? EXIT_FINDING : EXIT_OK;
}
