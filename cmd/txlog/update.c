/*
 * update: Delta's UPDATE.  --set 'COL = VALUE' (repeatable) on the rows
 * --where matches, copy-on-write: each file holding a matching row is
 * removed and its rows written again, the matching ones with the new
 * values, the others byte for byte.
 *
 * A value is a JSON value, or a bare word taken as a string (as --where
 * reads them); it is checked against the column's type before any file
 * is read (exact or refused: 1.5 into a long column, or null into a
 * non-nullable one, is a usage error), and a timestamp column's value
 * is read as an instant (a date, a time with or without a zone) and
 * stored in RFC 3339 UTC.  A row is a whole record of top-level members:
 * a member the row lacks is added.
 *
 * The rows changed go to their own files, tagged TXLOG_TAG_UPDATED, the
 * copied rows to others: that is what lets changes tell the updated rows
 * (update_preimage / update_postimage) from the copies without a second
 * copy of them in a change data file.
 *
 * Conflicts are delete's: a concurrent commit that removed a file this
 * update read, or added one its --where may match, wins (exit 75).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "jsonw.h"
#include "lines.h"
#include "timefmt.h"
#include "txlog.h"
#include "xalloc.h"

struct set {
	char *col;
	char *val; /* JSON text */
	bool bare; /* val was a bare word, made a JSON string */
};

/* `COL = VALUE` into s, or a usage error. */
static void parse_set(const char *src, struct set *s)
{
	const char *p = src;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '.')
		p++;
	struct buf col = {0};
	if (*p == '"') {
		const char *e = p + 1;
		while (*e && *e != '"')
			e += e[0] == '\\' && e[1] ? 2 : 1;
		struct scan_error se;
		if (*e != '"' || scan_validate(p, (size_t)(e + 1 - p), &se))
			cli_usage_error("--set '%s': a quoted column name must "
					"be a JSON string", src);
		size_t dn;
		char *d = scan_strdup_lit_len(p, (size_t)(e + 1 - p), &dn);
		if (memchr(d, '\0', dn))
			cli_usage_error("--set '%s': a column name cannot hold "
					"a NUL (\\u0000)", src);
		buf_add(&col, d, dn);
		free(d);
		p = e + 1;
	} else {
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		       (*p >= '0' && *p <= '9') || *p == '_')
			buf_addc(&col, *p++);
	}
	if (col.len && (*p == '.' || *p == '['))
		/* Delta's SET n.x = 1 sets a field inside a struct: txlog
		 * sets whole top-level columns, and says so rather than
		 * "expected COL = VALUE" of what looks like one */
		cli_usage_error("--set '%s': names %s inside column %.*s; "
				"--set sets whole top-level columns: give %.*s "
				"its whole value (%.*s = %s)", src,
				*p == '.' ? "a field" : "an element",
				(int)col.len, col.p, (int)col.len, col.p,
				(int)col.len, col.p,
				*p == '.' ? "{...}" : "[...]");
	while (*p == ' ' || *p == '\t')
		p++;
	if (!col.len || p[0] != '=' || p[1] == '=')
		cli_usage_error("--set '%s': expected COL = VALUE", src);
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (!n)
		cli_usage_error("--set '%s': no VALUE (give null to clear the "
				"column)", src);
	if (p[0] == '\'')
		cli_usage_error("--set '%s': SQL quotes; a string takes "
				"JSON's double quotes", src);
	struct scan_error se;
	struct buf val = {0};
	if (scan_validate(p, n, &se) == 0)
		buf_add(&val, p, n);
	else if (p[0] == '"' || p[0] == '{' || p[0] == '[')
		cli_usage_error("--set '%s': invalid JSON: %s", src, se.what);
	else
		jw_string(&val, p, n); /* a bare word is a string */
	s->bare = val.p[0] == '"' && p[0] != '"';
	s->col = col.p;
	s->val = val.p;
}

/*
 * A bare word is a string only where it cannot be read as SQL's SET
 * would read it: a column's name (SET a = b copies b), an expression
 * (amt + 1, upper(name)) and words with spaces (a string with spaces is
 * quoted; a time may have one between date and time) are refused, not
 * stored as the text they are.
 */
static void check_word(const struct set *s, const struct ds_field *f,
		       const struct ds_type *schema, const char *src)
{
	size_t wn;
	char *w = scan_strdup_lit_len(s->val, strlen(s->val), &wn);
	enum dt_kind k = f->type->kind;
	bool timeish = k == DT_TIMESTAMP || k == DT_TIMESTAMP_NTZ ||
		       k == DT_DATE;
	const char *why = NULL;
	char lit[160];
	const char *sl = txlog_sql_literal(w, wn);
	if (sl) {
		/* SQL's SET s = NULL clears s: no string "NULL" */
		snprintf(lit, sizeof lit, "is SQL's %s, which is written %s "
			 "here", sl, sl);
		why = lit;
	}
	/* Delta's names ignore case: SQL's SET s = ID copies column id */
	else if (txlog_column_nocase(schema, w, wn))
		why = "is a column of the table, and --set takes values, not "
		      "expressions";
	else if (!timeish && strpbrk(w, " \t"))
		why = "has spaces, which a string takes in JSON's double "
		      "quotes";
	else if (wn > 2 && w[wn - 1] == ')' && strchr(w, '('))
		why = "reads as a call, and --set takes values, not "
		      "expressions";
	if (why)
		cli_usage_error("--set '%s': %s %s; write \"%s\" for the "
				"string", src, w, why, w);
	free(w);
}

/* Check s against the schema: the column exists, the value fits its
 * type (a timestamp's made RFC 3339 UTC). */
static void bind_set(struct set *s, const struct dl_snapshot *snap,
		     const char *src)
{
	const struct ds_type *schema = snap->schema;
	struct ds_field *f = schema ? ds_field(schema, s->col, strlen(s->col))
				    : NULL;
	if (!f) {
		const char *near = txlog_nearest_column(schema, s->col);
		if (near)
			cli_usage_error("--set: %s has no column '%s'; did you "
					"mean '%s'?", snap->table, s->col, near);
		cli_usage_error("--set: %s has no column '%s' (txlog schema %s "
				"lists them)", snap->table, s->col, snap->table);
	}
	if (s->bare)
		check_word(s, f, schema, src);
	if (strcmp(s->val, "null") == 0) {
		if (!f->nullable)
			cli_usage_error("--set '%s': column %s is not nullable",
					src, s->col);
		return;
	}
	if ((f->type->kind == DT_TIMESTAMP ||
	     f->type->kind == DT_TIMESTAMP_NTZ) && s->val[0] == '"') {
		/* decoded with its length: a "\u0000" would cut it short,
		 * and the time before it be taken for the whole value */
		size_t dn;
		char *d = scan_strdup_lit_len(s->val, strlen(s->val), &dn);
		struct instant in;
		bool zoned;
		const char *why;
		if (time_parse_loose(d, dn, &in, &zoned, &why) != 0)
			cli_usage_error("--set '%s': column %s is %s: %s", src,
					s->col, f->type->name, why);
		/* said here: once in UTC it would be +010000-..., which
		 * the check below calls no time at all */
		if (!ds_timestamp_in_range(in.sec))
			cli_usage_error("--set '%s': column %s is %s: outside "
					"the years 0000 to 9999 in UTC", src,
					s->col, f->type->name);
		/* a timestamp_ntz's wall clock is written with Z, as
		 * --where reads it; one with an offset is left for
		 * ds_check below to refuse */
		if (f->type->kind == DT_TIMESTAMP ||
		    ds_ntz_zone_ok(d, dn)) {
			/* one instant, one spelling: RFC 3339 in UTC */
			char tb[TIME_STRMAX];
			size_t tn = time_format_instant(&in, TIME_STYLE_RFC3339,
							tb);
			struct buf q = {0};
			jw_string(&q, tb, tn);
			free(s->val);
			s->val = q.p;
		}
		free(d);
	}
	char err[512];
	bool changed = false;
	if (ds_check(f->type, s->val, strlen(s->val), false, &changed, err,
		     sizeof err) != 0) {
		/* the checker's words are a record's: no column path at the
		 * top, and --merge-schema is not update's to offer */
		const char *why = err;
		if (strncmp(why, "column .: ", 10) == 0)
			why += 10;
		char *hint = strstr(err, " (--merge-schema");
		if (hint)
			*hint = '\0';
		/* "(write the integer as 1, or --merge-schema widens it)" */
		hint = strstr(err, ", or --merge-schema");
		if (hint) {
			char *close = strchr(hint, ')');
			if (close)
				memmove(hint, close, strlen(close) + 1);
		}
		cli_usage_error("--set '%s': column %s is %s: %s", src, s->col,
				f->type->name ? f->type->name : "nested", why);
	}
	/* a partition value no row can hold is said here, before any
	 * file is read, not at the first row it would have moved */
	for (size_t i = 0; i < snap->npart; i++) {
		if (strcmp(snap->part_cols[i], s->col) != 0 ||
		    s->val[0] != '"')
			continue;
		size_t dn;
		char *d = scan_strdup_lit_len(s->val, strlen(s->val), &dn);
		bool nul = memchr(d, '\0', dn) != NULL;
		free(d);
		if (!dn)
			cli_usage_error("--set '%s': partition column %s: an "
					"empty string is a null partition "
					"value in Delta; write null or a "
					"non-empty string", src, s->col);
		if (nul)
			cli_usage_error("--set '%s': partition column %s: the "
					"value holds a NUL (\\u0000), which a "
					"partition value cannot keep", src,
					s->col);
	}
}

/* The row r with the columns of sets given their new values: members
 * kept in their order, a column the row lacks added at the end. */
static void set_row(struct buf *o, const struct scan_record *r,
		    const struct set *sets, size_t nset, bool *seen)
{
	buf_reset(o);
	buf_addc(o, '{');
	memset(seen, 0, nset);
	bool first = true;
	for (size_t i = 0; i < r->nmembers; i++) {
		const struct scan_member *m = &r->members[i];
		const char *put = r->p + m->val;
		size_t putn = m->val_end - m->val;
		for (size_t k = 0; k < nset; k++) {
			if (scan_string_equals(r->p + m->key, m->key_len,
					       sets[k].col,
					       strlen(sets[k].col))) {
				put = sets[k].val;
				putn = strlen(put);
				seen[k] = true;
			}
		}
		if (!first)
			buf_addc(o, ',');
		first = false;
		buf_add(o, r->p + m->key, m->key_len);
		buf_addc(o, ':');
		buf_add(o, put, putn);
	}
	for (size_t k = 0; k < nset; k++) {
		if (seen[k])
			continue;
		if (!first)
			buf_addc(o, ',');
		first = false;
		jw_str(o, sets[k].col);
		buf_addc(o, ':');
		buf_adds(o, sets[k].val);
	}
	buf_addc(o, '}');
}

int verb_update(void)
{
	if (!opt.nset)
		cli_usage_error("update needs --set 'COL = VALUE'");
	if (!opt.nwhere)
		cli_usage_error("update needs --where EXPR (--where true for "
				"every row)");
	struct set sets[MAX_WHERE];
	for (size_t k = 0; k < opt.nset; k++)
		parse_set(opt.set[k], &sets[k]);
	struct pred *p = pred_parse(opt.where, opt.nwhere, false);
	struct dl_snapshot *s = load_table(-1);
	pred_bind(p, s);
	for (size_t k = 0; k < opt.nset; k++)
		bind_set(&sets[k], s, opt.set[k]);
	/* one value a column, as Delta's UPDATE demands: a second --set
	 * would leave the first accepted and ignored */
	for (size_t k = 0; k < opt.nset; k++)
		for (size_t j = k + 1; j < opt.nset; j++)
			if (strcmp(sets[k].col, sets[j].col) == 0)
				cli_usage_error("--set: column %s is set twice "
						"('%s', '%s')", sets[k].col,
						opt.set[k], opt.set[j]);
	need_write(s);
	struct tx t;
	memset(&t, 0, sizeof t);
	t.snap = s;
	t.op = "UPDATE";
	t.pred = p;
	t.reads_all = p->jq != NULL;

	struct dws *w_copy = dws_new(opt.table, s->schema, s->part_cols,
				     s->npart, opt.level);
	struct dws *w_new = dws_new(opt.table, s->schema, s->part_cols,
				    s->npart, opt.level);
	size_t n;
	struct dl_file **live = dl_live_files_committed(s, &n);
	struct scan_record rec = {0};
	struct rowbuf keep = {0};
	struct buf row = {0};
	bool seen[MAX_WHERE];
	char err[1024];
	uint64_t updated = 0, copied = 0;
	size_t removed = 0;
	/* the files to read, all open before the first is read */
	for (size_t i = 0; i < n; i++)
		if (!pred_file_may_match(p, s, NULL, 0, live[i]))
			live[i] = NULL;
	tx_hold(&t, live, n);
	for (size_t i = 0; i < n; i++) {
		struct dl_file *f = live[i];
		if (!f)
			continue;
		tx_read(&t, f->path);
		struct lines *l = open_data(s, f);
		struct line ln;
		uint64_t matched = 0;
		rowbuf_clear(&keep);
		while (txlog_next_row(s, l, f, &ln, &rec)) {
			struct scan_error se;
			if (!pred_match_at(p, &rec, f->path, ln.lineno,
					   "; nothing committed")) {
				rowbuf_add(&keep, ln.p, ln.len);
				continue;
			}
			matched++;
			set_row(&row, &rec, sets, opt.nset, seen);
			bool ch = false;
			if (ds_check(s->schema, row.p, row.len, false, &ch, err,
				     sizeof err) != 0)
				txlog_fail(EXIT_TROUBLE, "%s: %s:%" PRIu64 ": "
					   "the updated row does not fit the "
					   "schema: %s; nothing committed",
					   opt.table, f->path, ln.lineno, err);
			if (scan_record(&rec, row.p, row.len, &se) != 0 ||
			    dws_add(w_new, &rec, err, sizeof err) != 0)
				txlog_fail(EXIT_TROUBLE, "%s: %s:%" PRIu64
					   ": %s", opt.table, f->path,
					   ln.lineno, err);
		}
		lines_close(l);
		txlog_unhold(f);
		if (!matched)
			continue;
		updated += matched;
		copied += keep.n;
		txlog_remove_action(&t.actions, f);
		removed++;
		if (rowbuf_to_dws(&keep, w_copy, &rec, err, sizeof err) != 0)
			txlog_fail(EXIT_TROUBLE, "%s", err);
	}
	uint64_t rows = 0, bytes = 0;
	size_t before = t.nwritten;
	dws_finish(w_copy, &t.actions, &t.written, &t.nwritten, &rows, &bytes);
	dws_finish_tagged(w_new, ",\"" TXLOG_TAG_UPDATED "\":\"true\"",
			  &t.actions, &t.written, &t.nwritten, &rows, &bytes);
	size_t added = t.nwritten - before;
	pred_param(&t.params, "predicate", opt.where, opt.nwhere);
	buf_addf(&t.metrics, ",\"numRemovedFiles\":\"%zu\",\"numAddedFiles\":"
		 "\"%zu\",\"numUpdatedRows\":\"%llu\",\"numCopiedRows\":"
		 "\"%llu\",\"numAddedBytes\":\"%llu\"", removed, added,
		 (unsigned long long)updated, (unsigned long long)copied,
		 (unsigned long long)bytes);
	cli_stats.records_out = updated;
	txlog_release();
	free(live);
	rowbuf_free(&keep);
	buf_free(&row);
	scan_record_free(&rec);
	for (size_t k = 0; k < opt.nset; k++) {
		free(sets[k].col);
		free(sets[k].val);
	}
	if (!updated) {
		if (opt.stats)
			cli_stats_print(",\"version\":null");
		/* said, so a mistyped predicate is not taken for done */
		cli_warn("%s: --where matched no row; nothing updated, no "
			 "commit", opt.table);
		tx_free(&t);
		return EXIT_OK;
	}
	return tx_commit(&t);
}
