/*
 * The reading verbs: cat, files, schema, and checkpoint (verify is in
 * verify.c, log and the commit times --as-of reads in history.c).
 * Time travel (--version N, --as-of TIME) picks the snapshot; cat skips
 * data files whose partition values or min/max statistics rule the
 * --where predicate out, and streams the rest byte for byte.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "jsonw.h"
#include "lines.h"
#include "timefmt.h"
#include "txlog.h"
#include "xalloc.h"

static struct dl_snapshot *load_asked(void)
{
	int64_t v = opt.version;
	if (opt.as_of)
		v = txlog_version_as_of(opt.as_of);
	return load_table(v);
}

static int cmp_by_version(const void *a, const void *b)
{
	const struct dl_file *x = *(struct dl_file *const *)a;
	const struct dl_file *y = *(struct dl_file *const *)b;
	if (x->version != y->version)
		return x->version < y->version ? -1 : 1;
	return strcmp(x->path, y->path);
}

int verb_cat(void)
{
	struct pred *p = pred_parse(opt.where, opt.nwhere, false);
	struct dl_snapshot *s = load_asked();
	pred_bind(p, s);
	char err[1024];
	if (dl_can_read(s, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	size_t n, skipped = 0;
	struct dl_file **live = dl_live_files(s, &n);
	if (opt.version >= 0 || opt.as_of)
		need_files(s, live, n); /* vacuumed: fail before any output */
	qsort(live, n, sizeof *live, cmp_by_version);
	bool filter = p->n || p->jq;
	struct scan_record rec = {0};
	for (size_t i = 0; i < n; i++) {
		if (filter && !pred_file_may_match(p, s, NULL, 0, live[i])) {
			skipped++;
			continue;
		}
		struct lines *l = open_data(s, live[i]);
		struct line ln;
		int rc;
		while ((rc = lines_next(l, &ln, err, sizeof err)) == 1) {
			cli_stats.records_in++;
			if (filter) {
				struct scan_error se;
				if (ln.too_long ||
				    scan_record(&rec, ln.p, ln.len, &se) != 0)
					cli_die(EXIT_TROUBLE, "%s: %s:%" PRIu64
						": damaged data file",
						opt.table, live[i]->path,
						ln.lineno);
				if (!pred_match(p, &rec))
					continue;
			}
			cli_out_line(ln.p, ln.len);
			cli_stats.records_out++;
		}
		if (rc < 0)
			cli_die(EXIT_TROUBLE, "%s: %s", live[i]->path, err);
		cli_stats.bytes_in += lines_bytes(l);
		lines_close(l);
	}
	cli_out_close();
	if (opt.stats) {
		char extra[160];
		snprintf(extra, sizeof extra,
			 ",\"version\":%lld,\"files\":%zu,\"files_skipped\":%zu",
			 (long long)s->version, n, skipped);
		cli_stats_print(extra);
	}
	scan_record_free(&rec);
	free(live);
	pred_free(p);
	dl_snapshot_free(s);
	return EXIT_OK;
}

int verb_files(void)
{
	struct timespec c0, c1;
	int64_t t0 = time_now();
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
	struct dl_snapshot *s = load_asked();
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
	int64_t load_ns = time_now() - t0;
	double load_cpu = (double)(c1.tv_sec - c0.tv_sec) +
			  (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
	size_t n;
	struct dl_file **live = dl_live_files(s, &n);
	if (opt.version >= 0 || opt.as_of)
		need_files(s, live, n);
	for (size_t i = 0; i < n; i++)
		cli_out_line(live[i]->action, live[i]->action_len);
	free(live);
	if (opt.stats) {
		/* the load alone, to the microsecond, in wall and CPU
		 * time: what a checkpoint saves is smaller than the
		 * process around it, and a busy machine blurs the wall */
		char extra[280];
		snprintf(extra, sizeof extra,
			 ",\"version\":%lld,\"files\":%zu,\"checkpoint\":%lld,"
			 "\"commits_read\":%zu,\"load_seconds\":%.6f,"
			 "\"load_cpu_seconds\":%.6f",
			 (long long)s->version, n,
			 (long long)s->checkpoint_version, s->commits_read,
			 (double)load_ns / 1e9, load_cpu);
		cli_stats_print(extra);
	}
	dl_snapshot_free(s);
	return EXIT_OK;
}

int verb_schema(void)
{
	struct dl_snapshot *s = load_asked();
	if (!s->metadata)
		cli_die(EXIT_TROUBLE, "%s: the log has no metaData", opt.table);
	char *ss = scan_get_str(s->metadata, strlen(s->metadata), "schemaString");
	if (!ss)
		cli_die(EXIT_TROUBLE, "%s: metaData without schemaString",
			opt.table);
	cli_out_line(ss, strlen(ss));
	free(ss);
	dl_snapshot_free(s);
	return EXIT_OK;
}

int verb_checkpoint(void)
{
	struct dl_snapshot *s = load_table(-1);
	need_write(s);
	char err[1024];
	if (dl_checkpoint(s, 7LL * 24 * 3600 * 1000, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
	dl_snapshot_free(s);
	return EXIT_OK;
}
