/*
 * stats: what the live files of a snapshot look like, per partition --
 * files, bytes on disk, uncompressed bytes, records, how many are small
 * (under --target-size uncompressed: what optimize would compact), and a
 * histogram of file sizes on disk.  Read from the log alone: no data
 * file is opened.  NDJSON (one line per partition, then one for the
 * table), or an aligned table when standard output is a terminal.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "jsonw.h"
#include "txlog.h"
#include "xalloc.h"

#define NBUCKETS 5
static const char *const bucket_name[NBUCKETS] = {
	"<64KiB", "<1MiB", "<16MiB", "<256MiB", ">=256MiB",
};

struct part {
	char *name; /* col=value/col=value, or "" */
	struct buf val; /* the values, typed: what tells partitions apart */
	const struct dl_file *shown; /* the first committed: its spelling */
	struct buf pv; /* the partitionValues object */
	uint64_t files, bytes, raw, records, small, no_stats;
	uint64_t hist[NBUCKETS];
};

static int bucket(int64_t size)
{
	if (size < 64 << 10)
		return 0;
	if (size < 1 << 20)
		return 1;
	if (size < 16 << 20)
		return 2;
	if (size < 256 << 20)
		return 3;
	return 4;
}

static void add_file(struct part *p, const struct dl_file *f)
{
	p->files++;
	p->bytes += (uint64_t)f->size;
	p->hist[bucket(f->size)]++;
	uint64_t r = dl_file_raw_size(f);
	p->raw += r;
	if (r < opt.target_size)
		p->small++;
	const char *st = dl_file_stats(f);
	int64_t n;
	if (st && scan_get_i64(st, strlen(st), "numRecords", &n) && n >= 0)
		p->records += (uint64_t)n;
	else
		p->no_stats++;
}

static void json_line(const struct part *p, const char *head)
{
	struct buf b = {0};
	buf_addc(&b, '{');
	buf_adds(&b, head);
	buf_addf(&b, ",\"files\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"raw_"
		 "bytes\":%" PRIu64 ",\"records\":%" PRIu64 ",\"small_"
		 "files\":%" PRIu64, p->files, p->bytes, p->raw, p->records,
		 p->small);
	if (p->no_stats)
		buf_addf(&b, ",\"files_without_stats\":%" PRIu64, p->no_stats);
	buf_adds(&b, ",\"sizes\":{");
	for (int i = 0; i < NBUCKETS; i++) {
		jw_key(&b, bucket_name[i], i == 0);
		buf_add_u64(&b, p->hist[i]);
	}
	buf_adds(&b, "}}");
	cli_out_line(b.p, b.len);
	buf_free(&b);
}

static void human(char *out, size_t n, uint64_t v)
{
	const char *u = "KMGTP";
	if (v < 1024) {
		snprintf(out, n, "%" PRIu64 "B", v);
		return;
	}
	double d = (double)v / 1024;
	int i = 0;
	while (d >= 1024 && i < 4) {
		d /= 1024;
		i++;
	}
	snprintf(out, n, "%.1f%ciB", d, u[i]);
}

static void table_line(const char *name, const struct part *p)
{
	char b[32], r[32], rec[32], line[512];
	human(b, sizeof b, p->bytes);
	human(r, sizeof r, p->raw);
	/* the records of files without statistics are not known: the
	 * count is a floor, and says so, as NDJSON's files_without_stats */
	snprintf(rec, sizeof rec, "%" PRIu64 "%s", p->records,
		 p->no_stats ? "+?" : "");
	int n = snprintf(line, sizeof line, "%-32s %7" PRIu64 " %10s %10s "
			 "%11s %7" PRIu64, name, p->files, b, r, rec,
			 p->small);
	cli_out_line(line, (size_t)n);
}

/* p's name (col=value/...) and partitionValues, as f spells them. */
static void show(const struct dl_snapshot *s, struct part *p,
		 const struct dl_file *f, struct buf *key, struct buf *lit)
{
	key->len = 0;
	for (size_t c = 0; c < s->npart; c++) {
		const char *v = NULL;
		for (size_t k = 0; k < f->npv; k++)
			if (strcmp(f->pv[k].name, s->part_cols[c]) == 0)
				v = f->pv[k].value;
		if (c)
			buf_addc(key, '/');
		dl_part_escape(key, s->part_cols[c]);
		buf_addc(key, '=');
		if (v)
			dl_part_escape(key, v);
		else
			buf_adds(key, "__HIVE_DEFAULT_PARTITION__");
	}
	buf_addc(key, '\0');
	free(p->name);
	p->name = xstrdup(key->p);
	txlog_part_key(s, f, lit);
	struct buf *pv = &p->pv;
	pv->len = 0;
	buf_addc(pv, '{');
	/* the literals of the key, in column order */
	size_t at = 0;
	for (size_t c = 0; c < s->npart; c++) {
		size_t end = at + strlen(lit->p + at);
		jw_key(pv, s->part_cols[c], c == 0);
		buf_add(pv, lit->p + at, end - at);
		at = end + 1;
	}
	buf_addc(pv, '}');
	buf_addc(pv, '\0');
}

int verb_stats(void)
{
	struct dl_snapshot *s = load_table(opt.version);
	size_t n;
	struct dl_file **live = dl_live_files(s, &n);
	struct part *parts = NULL, total = {0};
	size_t np = 0;
	struct buf key = {0}, lit = {0}, val = {0};
	for (size_t i = 0; i < n; i++) {
		const struct dl_file *f = live[i];
		/* told apart by their values as the columns' types read
		 * them, not by spelling: a decimal's 1.0 and 1.00 are one
		 * partition, "a\u0000b" is not "a"; shown as the first
		 * file committed to it spells it */
		txlog_part_value_key(s, f, &val);
		size_t j;
		for (j = 0; j < np; j++)
			if (parts[j].val.len == val.len &&
			    memcmp(parts[j].val.p, val.p, val.len) == 0)
				break;
		if (j == np) {
			parts = xreallocarray(parts, np + 1, sizeof *parts);
			memset(&parts[np], 0, sizeof *parts);
			buf_add(&parts[np].val, val.p, val.len);
			np++;
		}
		if (!parts[j].shown ||
		    dl_file_cmp_committed(&f, &parts[j].shown) < 0) {
			parts[j].shown = f;
			show(s, &parts[j], f, &key, &lit);
		}
		add_file(&parts[j], f);
		add_file(&total, f);
	}
	bool tty = isatty(STDOUT_FILENO);
	if (tty) {
		char line[256];
		int len = snprintf(line, sizeof line, "%-32s %7s %10s %10s "
				   "%11s %7s", "PARTITION", "FILES", "BYTES",
				   "RAW", "RECORDS", "SMALL");
		cli_out_line(line, (size_t)len);
	}
	for (size_t j = 0; j < np; j++) {
		if (tty) {
			table_line(parts[j].name[0] ? parts[j].name : "(all)",
				   &parts[j]);
		} else {
			struct buf h = {0};
			buf_adds(&h, "\"partition\":");
			buf_adds(&h, parts[j].pv.p);
			json_line(&parts[j], h.p);
			buf_free(&h);
		}
	}
	if (tty) {
		table_line("total", &total);
		struct buf b = {0};
		buf_adds(&b, "file sizes:");
		for (int i = 0; i < NBUCKETS; i++)
			buf_addf(&b, "  %s %" PRIu64, bucket_name[i],
				 total.hist[i]);
		cli_out_line(b.p, b.len);
		buf_free(&b);
	} else {
		struct buf h = {0};
		buf_adds(&h, "\"table\":");
		jw_str(&h, opt.table);
		buf_addf(&h, ",\"version\":%lld,\"partitions\":%zu",
			 (long long)s->version, np);
		json_line(&total, h.p);
		buf_free(&h);
	}
	for (size_t j = 0; j < np; j++) {
		free(parts[j].name);
		buf_free(&parts[j].pv);
		buf_free(&parts[j].val);
	}
	free(parts);
	buf_free(&key);
	buf_free(&lit);
	buf_free(&val);
	free(live);
	dl_snapshot_free(s);
	return EXIT_OK;
}
