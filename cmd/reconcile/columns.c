/*
 * columns: what of a record reconcile compares (--columns, --ignore),
 * and the field-level diff of a changed key.
 *
 * A record's content is its projection: with --columns C,... the object
 * {"C": value of C, ...} (a column absent from the record is absent from
 * it, so null and absent still differ); with --ignore C,... the record
 * without those members (a path .a.b reaches into objects); otherwise
 * the record itself.  The content fingerprint, of keys and of partitions,
 * is the projection's, so a column only silver has no longer makes every
 * key "changed".
 *
 * A changed key's diff compares the projections of its first record on
 * each side member by member, by value (1 = 1.0, as the fingerprint
 * does), and names each member that differs with both values as spelled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "expr.h"
#include "jsonw.h"
#include "reconcile.h"
#include "scan.h"
#include "xalloc.h"


static struct {
	bool ignore;               /* --ignore; else --columns */
	char *name[MAX_COLUMNS];   /* as the user wrote it */
	char *src[MAX_COLUMNS];    /* the jq program for it */
	struct path path[MAX_COLUMNS]; /* --ignore: member steps */
	size_t n;
} cols;

bool columns_active(void)
{
	return cols.n > 0;
}

bool columns_read_local(void)
{
	for (size_t i = 0; !cols.ignore && i < cols.n; i++)
		if (cols.src[i] && expr_text_reads_local(cols.src[i]))
			return true;
	return false;
}

/* Whether the programs a and b name one column: "a", ".a" and ."a" do
 * (the same plain path); other programs when spelled alike. */
static bool same_column(const char *a, const char *b)
{
	struct path pa, pb;
	if (path_parse(a, &pa) != 0)
		return !strcmp(a, b);
	if (path_parse(b, &pb) != 0) {
		path_free(&pa);
		return false;
	}
	bool same = pa.n == pb.n;
	for (size_t i = 0; same && i < pa.n; i++) {
		const struct path_step *x = &pa.steps[i], *y = &pb.steps[i];
		same = x->kind == y->kind &&
		       (x->kind == PATH_MEMBER
				? x->name_len == y->name_len &&
					  !memcmp(x->name, y->name, x->name_len)
				: x->index == y->index);
	}
	path_free(&pa);
	path_free(&pb);
	return same;
}

/* One column: a jq path (".a.b", ".[0]", any program for --columns) or a
 * bare member name ("amount", "x y"). */
static void column_add(const char *opt_name, const char *s, size_t len)
{
	while (len && *s == ' ')
		s++, len--;
	while (len && s[len - 1] == ' ')
		len--;
	if (!len)
		cli_usage_error("%s: an empty column name", opt_name);
	if (cols.n == MAX_COLUMNS)
		cli_usage_error("%s: at most %d columns", opt_name,
				MAX_COLUMNS);
	char *name = xstrndup(s, len), *src;
	if (name[0] == '.') {
		src = xstrdup(name);
	} else {
		struct buf b = {0};
		buf_addc(&b, '.');
		jw_str(&b, name);
		src = b.p;
	}
	for (size_t i = 0; i < cols.n; i++)
		if (same_column(cols.src[i], src)) {
			if (strcmp(cols.name[i], name))
				cli_usage_error("%s: '%s' and '%s' name one "
						"column; give it once", opt_name,
						cols.name[i], name);
			cli_usage_error("%s: '%s' given twice", opt_name, name);
		}
	if (cols.ignore) {
		struct path *p = &cols.path[cols.n];
		if (path_parse(src, p) != 0 || p->n == 0 || p->n > COLUMNS_DEPTH)
			cli_usage_error("--ignore: '%s' is not a path of "
					"members (.a, .a.b, name)", name);
		for (size_t i = 0; i < p->n; i++)
			if (p->steps[i].kind != PATH_MEMBER)
				cli_usage_error("--ignore: '%s': only members "
						"can be ignored, not array "
						"elements", name);
	}
	cols.name[cols.n] = name;
	cols.src[cols.n++] = src;
}

void columns_restore(bool ignore, const char *const *names, size_t n)
{
	cols.ignore = ignore;
	for (size_t i = 0; i < n && cols.n < MAX_COLUMNS; i++)
		cols.name[cols.n++] = (char *)names[i];
}

void columns_option(bool ignore, const char *arg)
{
	const char *opt_name = ignore ? "--ignore" : "--columns";
	if (cols.n && cols.ignore != ignore)
		cli_usage_error("--columns and --ignore: choose one (list the "
				"columns to compare, or those to leave out)");
	cols.ignore = ignore;
	/* split at commas outside strings, brackets and parentheses */
	int depth = 0;
	bool str = false;
	const char *start = arg;
	for (const char *p = arg;; p++) {
		if (str) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				str = false;
			else if (!*p)
				cli_usage_error("%s: unterminated string in "
						"'%s'", opt_name, arg);
			continue;
		}
		if (*p == '"')
			str = true;
		else if (*p == '[' || *p == '(' || *p == '{')
			depth++;
		else if (*p == ']' || *p == ')' || *p == '}')
			depth--;
		else if ((*p == ',' && depth == 0) || !*p) {
			column_add(opt_name, start, (size_t)(p - start));
			start = p + 1;
		}
		if (!*p)
			break;
	}
}

void columns_compile(struct expr **out)
{
	char err[512];
	for (size_t i = 0; !cols.ignore && i < cols.n; i++)
		if (!(out[i] = expr_compile(cols.src[i], err, sizeof err)))
			cli_usage_error("--columns: %s: %s", cols.name[i], err);
}

bool columns_plain(struct expr *const *e)
{
	for (size_t i = 0; !cols.ignore && i < cols.n; i++)
		if (!expr_is_plain(e[i]))
			return false;
	return true;
}

void columns_describe(struct buf *b)
{
	if (!cols.n)
		return;
	buf_adds(b, cols.ignore ? ",\"ignore\":[" : ",\"columns\":[");
	for (size_t i = 0; i < cols.n; i++) {
		if (i)
			buf_addc(b, ',');
		jw_str(b, cols.name[i]);
	}
	buf_addc(b, ']');
}

/* The object of rec's text (at its members) without the members the
 * live ignore paths name at this depth; deeper paths recurse into
 * object values.  scratch holds one scan per depth. */
static void drop(const struct scan_record *rec, size_t depth,
		 const size_t *live, size_t nlive,
		 struct scan_record *scratch, struct buf *out,
		 uint64_t *present)
{
	buf_addc(out, '{');
	bool first = true;
	for (size_t m = 0; m < rec->nmembers; m++) {
		const struct scan_member *mb = &rec->members[m];
		const char *key = rec->p + mb->key;
		size_t deeper[MAX_COLUMNS], ndeeper = 0;
		bool gone = false;
		for (size_t k = 0; k < nlive; k++) {
			const struct path *p = &cols.path[live[k]];
			const struct path_step *st = &p->steps[depth];
			if (!scan_string_equals(key, mb->key_len, st->name,
						st->name_len))
				continue;
			if (depth + 1 == p->n) {
				gone = true;
				*present |= 1ull << live[k];
			} else
				deeper[ndeeper++] = live[k];
		}
		if (gone)
			continue;
		if (!first)
			buf_addc(out, ',');
		first = false;
		buf_add(out, key, mb->key_len);
		buf_addc(out, ':');
		const char *v = rec->p + mb->val;
		size_t vn = mb->val_end - mb->val;
		struct scan_error se;
		if (ndeeper && *v == '{' &&
		    scan_record(&scratch[depth], v, vn, &se) == 0)
			drop(&scratch[depth], depth + 1, deeper, ndeeper,
			     scratch, out, present);
		else
			buf_add(out, v, vn);
	}
	buf_addc(out, '}');
}

int columns_project(struct expr *const *e, const struct scan_record *rec,
		    struct scan_record *scratch, struct buf *out,
		    uint64_t *present, char *err, size_t errlen)
{
	uint64_t none;
	if (!present)
		present = &none;
	buf_reset(out);
	if (cols.ignore) {
		size_t live[MAX_COLUMNS];
		for (size_t i = 0; i < cols.n; i++)
			live[i] = i;
		drop(rec, 0, live, cols.n, scratch, out, present);
		return 0;
	}
	buf_addc(out, '{');
	bool first = true;
	for (size_t i = 0; i < cols.n; i++) {
		const char *v;
		size_t n;
		char why[400];
		switch (expr_eval(e[i], rec, &v, &n, why, sizeof why)) {
		case EXPR_VALUE:
			*present |= 1ull << i;
			jw_key(out, cols.name[i], first);
			first = false;
			buf_add(out, v, n);
			break;
		case EXPR_MISSING:
		case EXPR_EMPTY:
			break;
		case EXPR_ERROR:
			snprintf(err, errlen, "--columns %s: %s",
				 cols.name[i], why);
			return -1;
		}
	}
	buf_addc(out, '}');
	return 0;
}

/*
 * A column that no record of either input has compares nothing: a
 * misspelt --columns would make every pair of inputs agree, a misspelt
 * --ignore leave in what was meant to go.  So it is refused, with the
 * nearest member name of the first record read.
 */
void columns_check(uint64_t present, const char *const *names)
{
	for (size_t i = 0; i < cols.n; i++) {
		if (present >> i & 1)
			continue;
		const char *name = cols.name[i];
		/* .cc is a name (c); .c.dd a path (.c.d), among the paths
		 * of the first records' nested members */
		const char *near = NULL;
		if (name[0] != '.' || !strpbrk(name + 1, ".[\""))
			near = cli_nearest(name[0] == '.' ? name + 1 : name,
					   names);
		if (!near)
			near = cli_nearest(name, names);
		/* a program that does not start with '.' ([.a,.b]) is read
		 * as a member's name, as a name may hold any character */
		char prog[300];
		const char *as = "";
		if (!near && !cols.ignore && name[0] != '.' &&
		    strpbrk(name, "[]{}()|") && strlen(name) < 200) {
			snprintf(prog, sizeof prog, ".|%s", name);
			near = prog;
			as = " (a column that does not start with '.' is a "
			     "member's name)";
		}
		cli_die(EXIT_TROUBLE, "%s %s: no record of either input has "
			"it, so it would %s%s%s%s%s",
			cols.ignore ? "--ignore" : "--columns", name,
			cols.ignore ? "leave nothing out" : "compare nothing",
			near ? "; did you mean '" : "", near ? near : "",
			near ? "'?" : "", as);
	}
}

uint64_t columns_mask(void)
{
	return cols.n >= 64 ? ~0ull : (1ull << cols.n) - 1;
}

void columns_absent_line(struct buf *b, uint64_t absent)
{
	buf_adds(b, "{\"columns_absent\":[");
	for (size_t i = 0, k = 0; i < cols.n; i++)
		if (absent >> i & 1) {
			if (k++)
				buf_addc(b, ',');
			jw_str(b, cols.name[i]);
		}
	buf_adds(b, "]}");
}

int columns_absent_parse(const char *v, size_t n, uint64_t *absent)
{
	*absent = 0;
	if (n < 2 || v[0] != '[')
		return -1;
	size_t i = scan_ws(v, n, 1);
	while (i < n && v[i] == '"') {
		size_t e = scan_skip(v, n, i), k = 0;
		char *s = xmalloc(e - i + 1);
		s[scan_string_decode(v + i, e - i, s)] = '\0';
		while (k < cols.n && strcmp(cols.name[k], s) != 0)
			k++;
		free(s);
		if (k == cols.n)
			return -1;
		*absent |= 1ull << k;
		i = scan_ws(v, n, e);
		if (i < n && v[i] == ',')
			i = scan_ws(v, n, i + 1);
	}
	return i < n && v[i] == ']' ? 0 : -1;
}

/* ---- the field-level diff ---- */

struct member {
	char *name; /* decoded */
	size_t name_len;
	const char *v;
	size_t vn;
};

static int member_cmp(const void *a, const void *b)
{
	const struct member *x = a, *y = b;
	size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
	int c = memcmp(x->name, y->name, n);
	if (c)
		return c;
	if (x->name_len != y->name_len)
		return x->name_len < y->name_len ? -1 : 1;
	return x->v < y->v ? -1 : x->v > y->v; /* later duplicate last */
}

/* The members of the object text p[0..n), sorted by name, a duplicated
 * name keeping its last value (as jq and the fingerprint do). */
static struct member *members_of(const char *p, size_t n, size_t *count)
{
	struct scan_record r = {0};
	struct scan_error se;
	*count = 0;
	if (scan_record(&r, p, n, &se) != 0 || p[r.start] != '{') {
		scan_record_free(&r);
		return NULL;
	}
	struct member *m = xmalloc((r.nmembers + 1) * sizeof *m);
	for (size_t i = 0; i < r.nmembers; i++) {
		const struct scan_member *s = &r.members[i];
		m[i].name = xmalloc(s->key_len + 1);
		m[i].name_len = scan_string_decode(p + s->key, s->key_len,
						   m[i].name);
		m[i].v = p + s->val;
		m[i].vn = s->val_end - s->val;
	}
	size_t k = r.nmembers;
	qsort(m, k, sizeof *m, member_cmp);
	size_t out = 0;
	for (size_t i = 0; i < k; i++) {
		if (i + 1 < k && m[i].name_len == m[i + 1].name_len &&
		    !memcmp(m[i].name, m[i + 1].name, m[i].name_len)) {
			free(m[i].name);
			continue;
		}
		m[out++] = m[i];
	}
	*count = out;
	scan_record_free(&r);
	return m;
}

static void field_json(struct buf *b, bool first, const struct member *m)
{
	if (!first)
		buf_addc(b, ',');
	jw_string(b, m->name, m->name_len);
	buf_addc(b, ':');
}

/* Count one differing field in the summary's tally. */
static void tally(struct field_count **fc, size_t *nfc, const char *name,
		  size_t len)
{
	for (size_t i = 0; i < *nfc; i++)
		if ((*fc)[i].len == len && !memcmp((*fc)[i].name, name, len)) {
			(*fc)[i].keys++;
			return;
		}
	*fc = xreallocarray(*fc, *nfc + 1, sizeof **fc);
	(*fc)[*nfc] = (struct field_count){xstrndup(name, len), len, 1};
	(*nfc)++;
}

char *columns_diff(struct expr *const *e, const char *src, const char *tgt,
		   struct field_count **fc, size_t *nfc)
{
	struct buf pr[2] = {{0}, {0}}, out = {0};
	const char *rec[2] = {src, tgt};
	struct scan_record scratch[COLUMNS_DEPTH] = {{0}};
	struct member *m[2];
	size_t n[2];
	char err[512];
	for (int s = 0; s < 2; s++) {
		struct scan_record r = {0};
		struct scan_error se;
		size_t len = strlen(rec[s]);
		if (!cols.n || scan_record(&r, rec[s], len, &se) != 0 ||
		    columns_project(e, &r, scratch, &pr[s], NULL, err,
				    sizeof err) != 0) {
			buf_reset(&pr[s]);
			buf_add(&pr[s], rec[s], len);
		}
		scan_record_free(&r);
		m[s] = members_of(pr[s].p, pr[s].len, &n[s]);
	}
	buf_addc(&out, '{');
	bool first = true;
	size_t i = 0, j = 0;
	while (m[0] && m[1] && (i < n[0] || j < n[1])) {
		int c = i == n[0] ? 1 : j == n[1] ? -1 : 0;
		if (!c) {
			size_t l = m[0][i].name_len < m[1][j].name_len
					   ? m[0][i].name_len : m[1][j].name_len;
			c = memcmp(m[0][i].name, m[1][j].name, l);
			if (!c && m[0][i].name_len != m[1][j].name_len)
				c = m[0][i].name_len < m[1][j].name_len ? -1
									: 1;
		}
		const struct member *a = c <= 0 ? &m[0][i] : NULL;
		const struct member *b = c >= 0 ? &m[1][j] : NULL;
		if (!a || !b || value_compare(a->v, a->vn, b->v, b->vn) != 0) {
			const struct member *x = a ? a : b;
			field_json(&out, first, x);
			first = false;
			buf_addc(&out, '{');
			if (a) {
				buf_adds(&out, "\"source\":");
				buf_add(&out, a->v, a->vn);
			}
			if (b) {
				buf_adds(&out, a ? ",\"target\":"
						 : "\"target\":");
				buf_add(&out, b->v, b->vn);
			}
			buf_addc(&out, '}');
			tally(fc, nfc, x->name, x->name_len);
		}
		i += c <= 0;
		j += c >= 0;
	}
	buf_addc(&out, '}');
	for (size_t d = 0; d < COLUMNS_DEPTH; d++)
		scan_record_free(&scratch[d]);
	for (int s = 0; s < 2; s++) {
		for (size_t k = 0; m[s] && k < n[s]; k++)
			free(m[s][k].name);
		free(m[s]);
		buf_free(&pr[s]);
	}
	return out.p;
}
