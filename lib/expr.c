/*
 * expr: plain paths on the scanner, everything else through libjq.
 *
 * libjq is driven as jq's main.c does: jq_init, jq_compile once, then
 * per record jq_start + jq_next until an invalid jv; every jv consumed
 * exactly once.  Results are dumped to compact JSON text in e->out.
 */
#define _XOPEN_SOURCE 700 /* strptime, as libjq calls it (exact_date) */

#include "expr.h"

#include <dlfcn.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jq.h>
#include <jv.h>

#include "arith.h"
#include "buf.h"
#include "decimal.h"
#include "decmath.h"
#include "scan.h"
#include "timefmt.h"
#include "tz.h"
#include "value.h"
#include "xalloc.h"

/*
 * libjq is opened when the first jq program is compiled, not at every
 * start: most runs use plain paths only, and loading libjq with its
 * libonig cost each start of each tool about 0.3 ms, more than txlog
 * takes to read a checkpointed table.  Every entry point used here is
 * called through a pointer of its own declared type (so a changed
 * prototype in jq.h still fails to compile), named as in jq.h.
 */
#ifndef IDEM_LIBJQ
#define IDEM_LIBJQ "libjq.so.1"
#endif
#define JQ_FUNCS(X)                                                     \
	X(jq_init) X(jq_set_error_cb) X(jq_set_attr) X(jq_compile)      \
	X(jq_set_debug_cb) X(jq_set_input_cb)                           \
	X(jq_start) X(jq_next) X(jq_teardown) X(jv_array) X(jv_copy)    \
	X(jv_array_get) X(jv_array_length) X(jv_array_set)             \
	X(jv_dump_string) X(jv_free) X(jv_get_kind) X(jv_invalid)       \
	X(jv_invalid_get_msg) X(jv_invalid_has_msg)                     \
	X(jv_invalid_with_msg) X(jv_number) X(jv_number_value)          \
	X(jv_parse_sized) X(jv_string) X(jv_string_length_bytes)        \
	X(jv_string_value) X(jv_object_iter) X(jv_object_iter_next)     \
	X(jv_object_iter_valid) X(jv_object_iter_value)
#define JQ_MEMBER(f) __typeof__(&f) f;
static struct {
	JQ_FUNCS(JQ_MEMBER)
} jqlib;
static char jqlib_err[256]; /* why it did not load; "" when it did */
static pthread_once_t jqlib_once = PTHREAD_ONCE_INIT;

static void jqlib_open(void)
{
	void *h = dlopen(IDEM_LIBJQ, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		snprintf(jqlib_err, sizeof jqlib_err, "%s", dlerror());
		return;
	}
#define JQ_LOAD(f)                                                      \
	if (!jqlib_err[0] && !(*(void **)&jqlib.f = dlsym(h, #f)))      \
		snprintf(jqlib_err, sizeof jqlib_err, "%s: no %s",      \
			 IDEM_LIBJQ, #f);
	JQ_FUNCS(JQ_LOAD)
#undef JQ_LOAD
}

/* 0 once libjq is loaded; else -1 with why in err. */
static int jqlib_load(char *err, size_t errlen)
{
	pthread_once(&jqlib_once, jqlib_open);
	if (!jqlib_err[0])
		return 0;
	snprintf(err, errlen, "cannot load libjq, which a jq program needs: "
		 "%s", jqlib_err);
	return -1;
}

/* From here on each name is its pointer (a macro does not expand
 * itself again, so jqlib.jq_init stays the member). */
#define jq_init jqlib.jq_init
#define jq_set_error_cb jqlib.jq_set_error_cb
#define jq_set_attr jqlib.jq_set_attr
#define jq_compile jqlib.jq_compile
#define jq_set_debug_cb jqlib.jq_set_debug_cb
#define jq_set_input_cb jqlib.jq_set_input_cb
#define jv_array_get jqlib.jv_array_get
#define jv_array_length jqlib.jv_array_length
#define jv_array_set jqlib.jv_array_set
#define jv_invalid jqlib.jv_invalid
#define jv_invalid_with_msg jqlib.jv_invalid_with_msg
#define jv_number jqlib.jv_number
#define jv_number_value jqlib.jv_number_value
#define jq_start jqlib.jq_start
#define jq_next jqlib.jq_next
#define jq_teardown jqlib.jq_teardown
#define jv_array jqlib.jv_array
#define jv_copy jqlib.jv_copy
#define jv_dump_string jqlib.jv_dump_string
#define jv_free jqlib.jv_free
#define jv_get_kind jqlib.jv_get_kind
#define jv_invalid_get_msg jqlib.jv_invalid_get_msg
#define jv_invalid_has_msg jqlib.jv_invalid_has_msg
/* jv.h's own is a static function calling jv_get_kind by its symbol */
#define jv_is_valid(x) (jv_get_kind(x) != JV_KIND_INVALID)
#define jv_parse_sized jqlib.jv_parse_sized
#define jv_string jqlib.jv_string
#define jv_string_length_bytes jqlib.jv_string_length_bytes
#define jv_string_value jqlib.jv_string_value
#define jv_object_iter jqlib.jv_object_iter
#define jv_object_iter_next jqlib.jv_object_iter_next
#define jv_object_iter_valid jqlib.jv_object_iter_valid
#define jv_object_iter_value jqlib.jv_object_iter_value

/*
 * The shapes answered from the bytes, so numbers keep every digit: one
 * plain path, and arrays, objects and comma lists of plain paths
 * ([.a, .b], {a: .a, "b c": .b.c, d}, .a, .b).  Anything else is libjq.
 */
enum shape { SHAPE_PLAIN, SHAPE_ARRAY, SHAPE_OBJECT, SHAPE_TUPLE, SHAPE_JQ };

struct expr {
	char *src;
	bool plain;
	enum shape shape;
	struct path *parts; /* array, object, tuple: one path each */
	struct arith **aparts; /* or, where not NULL, an arith program */
	bool mixed;            /* an arith part: libjq when it gives up */
	struct buf piece;      /* an arith part's value */
	char **keys;        /* object: each member's name as JSON text */
	size_t nparts;
	/* libjq: the top-level members the program can reach, when it
	 * reaches no others (narrow), so only their numbers are checked */
	bool narrow;
	bool strings; /* tonumber or fromjson: strings' numbers count */
	char **refs;
	size_t nrefs;
	struct arith *arith; /* + - * / of paths and numbers: exact */
	struct path path;
	jq_state *jq;
	/* the operation the prelude handed over (debug), answered by
	 * exact_input; a failure no catch in the program may hide */
	jv pending;
	bool exact_failed;
	char exact_err[384];
	/* this record's text, and " v " for each value of more than 15
	 * digits the prelude computed exactly: not a double's noise */
	const char *rec;
	size_t rec_n;
	struct buf vouched;
	struct buf folded; /* the same for the constants jq folded */
	struct buf out;
	struct buf msg; /* compile messages from libjq */
	size_t count;   /* values the last evaluation gave */
};

static void collect_msg(void *ctx, jv msg)
{
	struct buf *b = ctx;
	if (jv_get_kind(msg) == JV_KIND_STRING) {
		if (b->len)
			buf_adds(b, "; ");
		/* One line: jq quotes the program's line after a newline
		 * ("at <top-level>, line 1:\n.a =="); a message is one
		 * line on stderr. */
		for (const char *c = jv_string_value(msg); *c; c++)
			if (*c != '\n')
				buf_addc(b, *c);
			else if (b->len && b->p[b->len - 1] != ' ')
				buf_addc(b, ' ');
		while (b->len && b->p[b->len - 1] == ' ')
			b->len--;
		if (b->p)
			b->p[b->len] = '\0';
	}
	jv_free(msg);
}

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The end of a JSON-ish string starting at s[i] == '"', or 0. */
static size_t string_end(const char *s, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\') {
			if (i + 1 < n && s[i + 1] == '(')
				return 0; /* jq string interpolation */
			i++;
		} else if (s[i] == '"') {
			return i + 1;
		}
	}
	return 0;
}

/* Split s[0..n) at the commas outside strings and brackets: the pieces'
 * bounds in at[] (start, end pairs); the count, or 0 when unbalanced or
 * more than max. */
static size_t split_commas(const char *s, size_t n, size_t *at, size_t max)
{
	size_t k = 0, start = 0;
	int depth = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i == n || (s[i] == ',' && depth == 0)) {
			if (k == max || depth != 0)
				return 0;
			at[2 * k] = start;
			at[2 * k + 1] = i;
			k++;
			start = i + 1;
			continue;
		}
		char c = s[i];
		if (c == '"') {
			size_t e = string_end(s, n, i);
			if (!e)
				return 0;
			i = e - 1;
		} else if (c == '[' || c == '(' || c == '{') {
			depth++;
		} else if (c == ']' || c == ')' || c == '}') {
			if (--depth < 0)
				return 0;
		}
	}
	return k;
}

static bool plain_piece(const char *s, size_t a, size_t b, struct path *out)
{
	char *t = xstrndup(s + a, b - a);
	int rc = path_parse(t, out);
	free(t);
	return rc == 0;
}

static const char *const keywords[] = {
	"and", "or", "not", "if", "then", "elif", "else", "end", "as",
	"def", "reduce", "foreach", "try", "catch", "label", "import",
	"include", "__loc__", NULL,
};

/* An object member's name: an identifier (not a keyword) or a plain
 * JSON string, as JSON text in *key. */
static bool member_name(const char *s, size_t a, size_t b, char **key)
{
	while (a < b && is_ws(s[a]))
		a++;
	while (b > a && is_ws(s[b - 1]))
		b--;
	if (a == b)
		return false;
	struct buf k = {0};
	if (s[a] == '"') {
		if (string_end(s, b, a) != b ||
		    scan_validate(s + a, b - a, NULL) != 0)
			return false;
		buf_add(&k, s + a, b - a);
	} else {
		for (size_t i = a; i < b; i++) {
			char c = s[i];
			bool ok = c == '_' || (c >= 'a' && c <= 'z') ||
				  (c >= 'A' && c <= 'Z') ||
				  (i > a && c >= '0' && c <= '9');
			if (!ok)
				return false;
		}
		for (const char *const *w = keywords; *w; w++)
			if (strlen(*w) == b - a && !memcmp(*w, s + a, b - a))
				return false;
		buf_addc(&k, '"');
		buf_add(&k, s + a, b - a);
		buf_addc(&k, '"');
	}
	*key = k.p;
	return true;
}

/* The ':' of "name: path" outside strings, or 0. */
static size_t member_colon(const char *s, size_t a, size_t b)
{
	for (size_t i = a; i < b; i++) {
		if (s[i] == '"') {
			size_t e = string_end(s, b, i);
			if (!e)
				return 0;
			i = e - 1;
		} else if (s[i] == ':') {
			return i;
		}
	}
	return 0;
}

#define MAX_PARTS 64

static void free_parts(struct expr *e)
{
	for (size_t i = 0; i < e->nparts; i++) {
		path_free(&e->parts[i]);
		if (e->keys)
			free(e->keys[i]);
		if (e->aparts)
			arith_free(e->aparts[i]);
	}
	free(e->parts);
	free(e->keys);
	free(e->aparts);
	e->parts = NULL;
	e->keys = NULL;
	e->aparts = NULL;
	e->nparts = 0;
	e->mixed = false;
}

/* Whether two names, as JSON string texts, decode to the same. */
static bool same_name(const char *a, const char *b)
{
	size_t an = strlen(a), bn = strlen(b);
	char *da = xmalloc(an), *db = xmalloc(bn);
	size_t la = scan_string_decode(a, an, da);
	size_t lb = scan_string_decode(b, bn, db);
	bool same = la == lb && memcmp(da, db, la) == 0;
	free(da);
	free(db);
	return same;
}

/* Whether s[a..b) has a '|' outside brackets and strings. */
static bool top_pipe(const char *s, size_t a, size_t b)
{
	int depth = 0;
	for (size_t i = a; i < b; i++) {
		char c = s[i];
		if (c == '"') {
			size_t e = string_end(s, b, i);
			if (!e)
				return true;
			i = e - 1;
		} else if (c == '(' || c == '[' || c == '{') {
			depth++;
		} else if (c == ')' || c == ']' || c == '}') {
			depth--;
		} else if (c == '|' && depth == 0) {
			return true;
		}
	}
	return false;
}

/* Whether s[a..b), blanks aside, is one parenthesised group. */
static bool one_group(const char *s, size_t a, size_t b)
{
	while (a < b && is_ws(s[a]))
		a++;
	while (b > a && is_ws(s[b - 1]))
		b--;
	if (b - a < 2 || s[a] != '(' || s[b - 1] != ')')
		return false;
	int depth = 0;
	for (size_t i = a; i < b; i++) {
		char c = s[i];
		if (c == '"') {
			size_t e = string_end(s, b, i);
			if (!e)
				return false;
			i = e - 1;
		} else if (c == '(' || c == '[' || c == '{') {
			depth++;
		} else if ((c == ')' || c == ']' || c == '}') && --depth == 0) {
			return i == b - 1; /* the first '(' closes last */
		}
	}
	return false;
}

/*
 * A part of an array, object or comma list that is arithmetic (.p * .q,
 * .ts / 3600 | floor), computed exact by arith.  jq reads a '|' in a
 * list as piping the whole list ([.a, .b | floor] floors .a too), and
 * an object's value as a term ({v: .a * 2} does not compile), so such a
 * part must stand alone or in parentheses.
 */
static bool arith_piece(struct expr *e, const char *s, size_t a, size_t b,
			size_t i, size_t k, bool object)
{
	if (object ? !one_group(s, a, b) : k > 1 && top_pipe(s, a, b))
		return false;
	char *t = xstrndup(s + a, b - a);
	struct arith *ar = arith_parse(t);
	free(t);
	if (!ar)
		return false;
	if (!e->aparts)
		e->aparts = xcalloc(k, sizeof *e->aparts);
	e->aparts[i] = ar;
	e->mixed = true;
	return true;
}

/* Recognise an array, object or comma list of plain paths (or of
 * arithmetic, see arith_piece). */
static bool compound(struct expr *e, const char *src)
{
	size_t n = strlen(src), a = 0;
	while (n > 0 && is_ws(src[n - 1]))
		n--;
	while (a < n && is_ws(src[a]))
		a++;
	if (a >= n)
		return false;
	enum shape sh = SHAPE_TUPLE;
	size_t b = n;
	if (src[a] == '[' && src[n - 1] == ']')
		sh = SHAPE_ARRAY, a++, b--;
	else if (src[a] == '{' && src[n - 1] == '}')
		sh = SHAPE_OBJECT, a++, b--;
	size_t at[2 * MAX_PARTS];
	size_t k = split_commas(src + a, b - a, at, MAX_PARTS);
	if (k == 0 || (sh == SHAPE_TUPLE && k < 2))
		return false;
	e->parts = xcalloc(k, sizeof *e->parts);
	if (sh == SHAPE_OBJECT)
		e->keys = xcalloc(k, sizeof *e->keys);
	for (size_t i = 0; i < k; i++) {
		size_t pa = a + at[2 * i], pb = a + at[2 * i + 1];
		bool ok;
		if (sh != SHAPE_OBJECT) {
			ok = plain_piece(src, pa, pb, &e->parts[i]) ||
			     arith_piece(e, src, pa, pb, i, k, false);
		} else {
			size_t colon = member_colon(src, pa, pb);
			if (colon) {
				ok = member_name(src, pa, colon, &e->keys[i]) &&
				     (plain_piece(src, colon + 1, pb,
						  &e->parts[i]) ||
				      arith_piece(e, src, colon + 1, pb, i, k,
						  true));
			} else {
				/* {a} is {a: .a} */
				ok = member_name(src, pa, pb, &e->keys[i]) &&
				     e->keys[i][0] == '"' &&
				     src[pa + strspn(src + pa, " \t\n\r")] !=
					     '"';
				if (ok) {
					struct buf t = {0};
					buf_addc(&t, '.');
					buf_add(&t, e->keys[i] + 1,
						strlen(e->keys[i]) - 2);
					ok = plain_piece(t.p, 0, t.len,
							 &e->parts[i]);
					buf_free(&t);
				}
			}
			/* a repeated name, however spelt ("a", "\u0061"):
			 * leave jq's rules to jq */
			for (size_t j = 0; ok && j < i; j++)
				if (same_name(e->keys[j], e->keys[i]))
					ok = false;
		}
		e->nparts = i + 1;
		if (!ok) {
			free_parts(e);
			return false;
		}
	}
	e->shape = sh;
	return true;
}

static bool number_exact(const char *p, size_t n);
static bool holds(const char *p, size_t pn, const char *s, size_t n);
static bool noisy(const char *t, size_t n);

/* Words that give nothing of their input's numbers, whatever it is (a
 * record: its shape, a truth value, or an error): a program built of
 * these and of .name paths reaches no top-level member it does not name.
 * select, tostring and ltrimstr are not here: on the whole record they
 * give it back, numbers and all. */
static const char *const narrow_words[] = {
	"and", "or", "not", "if", "then", "elif", "else", "end", "true",
	"false", "null", "empty", "length", "type", "keys", "keys_unsorted",
	"utf8bytelength", "ascii_downcase", "ascii_upcase", "tonumber",
	"floor", "ceil", "round", "sqrt", "fabs", "isnan", "isinfinite",
	"isnormal", "test", "startswith", "endswith", "has", "split", "sub",
	"gsub", "match", "capture", "implode", "explode", "fromjson", NULL,
};

static bool ident_char(char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9');
}

static void add_ref(struct expr *e, const char *name, size_t n)
{
	for (size_t i = 0; i < e->nrefs; i++)
		if (strlen(e->refs[i]) == n && !memcmp(e->refs[i], name, n))
			return;
	e->refs = xreallocarray(e->refs, e->nrefs + 1, sizeof *e->refs);
	e->refs[e->nrefs++] = xstrndup(name, n);
}

/*
 * A walk over a jq program's code: the characters outside strings' text
 * and comments, a string's \( ... ) being code.  depth counts the
 * brackets ( [ { open around the character (a \( counts as one).
 * The caller frees open.
 */
struct code_walk {
	const char *s;
	size_t i, depth, cap;
	bool in_str;
	char *open; /* '(' '[' '{', or '"' for a string's \( */
};

static void code_open(struct code_walk *w, char c)
{
	w->open = xgrow(w->open, &w->cap, w->depth, 1, 16);
	w->open[w->depth++] = c;
}

/* The offset of the next code character, or -1 at the end. */
static long code_next(struct code_walk *w)
{
	const char *s = w->s;
	for (; s[w->i]; w->i++) {
		char c = s[w->i];
		if (w->in_str) {
			if (c == '\\' && s[w->i + 1] == '(') {
				code_open(w, '"');
				w->in_str = false;
				w->i++;
			} else if (c == '\\' && s[w->i + 1]) {
				w->i++;
			} else if (c == '"') {
				w->in_str = false;
			}
			continue;
		}
		if (c == '"') {
			w->in_str = true;
		} else if (c == '#') {
			w->i += strcspn(s + w->i, "\n");
			if (!s[w->i])
				return -1;
		} else if (c == '(' || c == '[' || c == '{') {
			code_open(w, c);
			return (long)w->i++;
		} else if (c == ')' || c == ']' || c == '}') {
			if (w->depth && w->open[--w->depth] == '"')
				w->in_str = true; /* back into the string */
			else
				return (long)w->i++;
		} else {
			return (long)w->i++;
		}
	}
	return -1;
}

/*
 * The first number literal of program s that libjq would round, or NULL.
 * Every literal is read wherever it stands (after a variable, a word or a
 * bare `.`, and inside a string's \( )), so it is its own walk: reach()
 * stops at the first thing it cannot follow.  The text of strings and
 * comments is skipped; `.5` and `1.` are literals, as jq lexes them.
 */
static const char *inexact_literal(const char *s)
{
	size_t n = strlen(s);
	struct code_walk w = {.s = s};
	long at;
	while ((at = code_next(&w)) >= 0) {
		size_t i = (size_t)at;
		char c = s[i];
		if (!(c >= '0' && c <= '9') || (i && ident_char(s[i - 1])))
			continue;
		size_t a = i && s[i - 1] == '.' ? i - 1 : i, j = i;
		while (j < n && s[j] >= '0' && s[j] <= '9')
			j++;
		if (a == i && j < n && s[j] == '.')
			for (j++; j < n && s[j] >= '0' && s[j] <= '9';)
				j++;
		if (j < n && (s[j] == 'e' || s[j] == 'E')) {
			size_t k = j + 1;
			if (k < n && (s[k] == '+' || s[k] == '-'))
				k++;
			if (k < n && s[k] >= '0' && s[k] <= '9')
				for (j = k; j < n && s[j] >= '0' && s[j] <= '9';)
					j++;
		}
		if (!number_exact(s + a, j - a)) {
			free(w.open);
			return s + a;
		}
		w.i = j;
	}
	free(w.open);
	return NULL;
}

/*
 * Whether the string or word that ends at s[end] names an object's
 * member by itself, as in {"id"} or {length, "b"}: jq reads .id, .length
 * and .b of the input for them, with no dot to show it.  After '{' or
 * ',' and before ',' or '}' (or a comment); a string of an array or a
 * comma list that looks the same only adds a name to check.
 */
static bool shorthand_member(char last, const char *s, size_t n, size_t end)
{
	if (last != '{' && last != ',')
		return false;
	while (end < n && is_ws(s[end]))
		end++;
	return end == n || s[end] == ',' || s[end] == '}' || s[end] == '#';
}

/*
 * Read the program's text once: when it reaches its input only by .name
 * paths and the words above, e->narrow is set with the names it starts
 * paths from.  A bare `.`, `..`, `.[`, a variable, a string
 * interpolation and any other word leave it wide: then every number of
 * the record is checked.
 */
static void reach(struct expr *e, const char *s)
{
	size_t n = strlen(s);
	bool narrow = true;
	char prev = '|'; /* the last significant character */
	char last = '|'; /* the same, as written (prev is '(' after a word) */
	for (size_t i = 0; i < n; i++, last = prev == '(' ? 'a' : prev) {
		char c = s[i];
		if (is_ws(c))
			continue;
		if (c == '#') { /* a comment, to the end of the line */
			i += strcspn(s + i, "\n");
			continue;
		}
		if (c == '"') {
			size_t end = string_end(s, n, i);
			if (!end) {
				narrow = false; /* interpolation */
				break;
			}
			if (shorthand_member(last, s, n, end)) {
				if (scan_validate(s + i, end - i, NULL) != 0) {
					narrow = false; /* jq's own escapes */
					break;
				}
				char *name = xmalloc(end - i);
				size_t l = scan_string_decode(s + i, end - i,
							      name);
				add_ref(e, name, l);
				free(name);
			}
			i = end - 1;
			prev = '"';
			continue;
		}
		if (c >= '0' && c <= '9' && !ident_char(prev)) {
			size_t j = i;
			while (j < n && ((s[j] >= '0' && s[j] <= '9') ||
					 s[j] == '.' || s[j] == 'e' ||
					 s[j] == 'E' ||
					 ((s[j] == '-' || s[j] == '+') &&
					  (s[j - 1] == 'e' || s[j - 1] == 'E'))))
				j++;
			i = j - 1;
			prev = '0';
			continue;
		}
		if (c == '.') {
			bool start = !(ident_char(prev) || prev == ']' ||
				       prev == ')' || prev == '"' || prev == '?');
			char d = i + 1 < n ? s[i + 1] : '\0';
			if (start && ident_char(d) && !(d >= '0' && d <= '9')) {
				size_t j = i + 1;
				while (j < n && ident_char(s[j]))
					j++;
				add_ref(e, s + i + 1, j - i - 1);
				i = j - 1;
				prev = 'a';
				continue;
			}
			if (start && d == '"') {
				size_t end = string_end(s, n, i + 1);
				if (!end || scan_validate(s + i + 1, end - i - 1,
							  NULL) != 0) {
					narrow = false;
					break;
				}
				char *name = xmalloc(end - i);
				size_t l = scan_string_decode(s + i + 1,
							      end - i - 1, name);
				add_ref(e, name, l);
				free(name);
				i = end - 1;
				prev = '"';
				continue;
			}
			if (start || d == '.' || d == '[') {
				narrow = false; /* `.`, `..`, `.[` */
				break;
			}
			/* .b of .a.b: inside what .a reached */
			size_t j = i + 1;
			if (d == '"') {
				j = string_end(s, n, i + 1);
				if (!j) {
					narrow = false;
					break;
				}
			} else {
				while (j < n && ident_char(s[j]))
					j++;
			}
			i = j - 1;
			prev = 'a';
			continue;
		}
		if (ident_char(c) || c == '$' || c == '@') {
			size_t j = i + 1;
			while (j < n && ident_char(s[j]))
				j++;
			bool ok = false;
			for (const char *const *w = narrow_words; *w && c != '$' &&
			     c != '@'; w++)
				if (strlen(*w) == j - i && !memcmp(*w, s + i, j - i))
					ok = true;
			if (!ok) {
				narrow = false;
				break;
			}
			if (shorthand_member(last, s, n, j))
				add_ref(e, s + i, j - i); /* {length} */
			i = j - 1;
			prev = '('; /* a path may start after a word */
			continue;
		}
		prev = c;
	}
	e->narrow = narrow;
}

/* Whether word w is in program s as an identifier of its own (in a
 * string or a comment too, which only costs a check). */
static bool has_word(const char *s, const char *w)
{
	size_t wn = strlen(w);
	for (const char *p = strstr(s, w); p; p = strstr(p + 1, w))
		if ((p == s || !ident_char(p[-1])) && !ident_char(p[wn]))
			return true;
	return false;
}

/*
 * Exact arithmetic inside any program libjq runs.  jq compiles a + b to
 * a call of _plus(a; b) (and - * / % to _minus, _multiply, _divide,
 * _mod), bound like any function: a definition in the program comes
 * first.  The prelude defines them to compute jq's own answer (an error
 * stops there, as jq's), then hand both operands and it to exact_input
 * (through debug, the only way a value reaches C), which answers with
 * the exact decimal value when a double holds it, or fails.  So every number in the program stays the
 * decimal it reads as -- the record's and the program's numbers are
 * checked to be so before the run -- and [.p * 100 | floor],
 * {v: (.a * .b)}, tostring, comparisons, $x * 3 and map(.p) | add are
 * exact, not 56, 0.30000000000000004 or false.  add and range/3, which
 * jq defines with +, are defined again here so that their + is this
 * one, and range/2 from a fraction (its bytecode adds 1 in doubles:
 * 0.01 + 16 is 16.009999999999998).  now is vouched for: its 16 or 17
 * digits are the clock's, not a double's noise.  jq's other math
 * (sqrt, pow, log10...) is exact or refused the same way (math_fns).
 * floor, ceil, round, trunc, nearbyint and rint refuse a number with a
 * noise they would hide (what libjq still gives as a double's:
 * infinite), and tonumber and fromjson a text whose number a double
 * would round ($ENV.RATE of 0.10000000000000001 is 0.1 to libjq).  Operands that are not two numbers are jq's business as before.
 * The prelude is one line, so the program's lines keep their numbers.
 */
static const char prelude[] =
	"def _idem_plus(a; b): _plus(a; b); "
	"def _idem_minus(a; b): _minus(a; b); "
	"def _idem_multiply(a; b): _multiply(a; b); "
	"def _idem_divide(a; b): _divide(a; b); "
	"def _idem_mod(a; b): _mod(a; b); "
	"def _idem_range(a; b): range(a; b); "
	"def _idem_now: now; "
	"def _idem_tonumber: tonumber; "
	"def tonumber: [\"idem:text\", ., _idem_tonumber] | debug | _input; "
	"def _idem_fromjson: fromjson; "
	"def fromjson: [\"idem:text\", ., _idem_fromjson] | debug | _input; "
	"def _idem_floor: floor; "
	"def floor: [\"idem:round\", ., _idem_floor] | debug | _input; "
	"def _idem_ceil: ceil; "
	"def ceil: [\"idem:round\", ., _idem_ceil] | debug | _input; "
	"def _idem_round: round; "
	"def round: [\"idem:round\", ., _idem_round] | debug | _input; "
	"def _idem_trunc: trunc; "
	"def trunc: [\"idem:round\", ., _idem_trunc] | debug | _input; "
	"def _idem_nearbyint: nearbyint; "
	"def nearbyint: [\"idem:round\", ., _idem_nearbyint] | debug | _input; "
	"def _idem_rint: rint; "
	"def rint: [\"idem:round\", ., _idem_rint] | debug | _input; "
	"def now: [\"idem:clock\", _idem_now] | debug | _input; "
	"def _plus(a; b): b as $y | a as $x | "
	"[\"idem:exact\", $x, \"+\", $y, _idem_plus($x; $y)] | debug | _input; "
	"def _minus(a; b): b as $y | a as $x | "
	"[\"idem:exact\", $x, \"-\", $y, _idem_minus($x; $y)] | debug | _input; "
	"def _multiply(a; b): b as $y | a as $x | "
	"[\"idem:exact\", $x, \"*\", $y, _idem_multiply($x; $y)] | debug | "
	"_input; "
	"def _divide(a; b): b as $y | a as $x | "
	"[\"idem:exact\", $x, \"/\", $y, _idem_divide($x; $y)] | debug | "
	"_input; "
	"def _mod(a; b): b as $y | a as $x | "
	"[\"idem:exact\", $x, \"%\", $y, _idem_mod($x; $y)] | debug | _input; "
	"def add: reduce .[] as $x (null; . + $x); "
	"def range($from; $upto): if ($from | type) == \"number\" and "
	"($upto | type) == \"number\" and ($from | floor) != $from then "
	"$from | while(. < $upto; . + 1) else _idem_range($from; $upto) end; "
	"def range($init; $upto; $by): "
	"def _range: if ($by > 0 and . < $upto) or ($by < 0 and . > $upto) "
	"then ., ((. + $by) | _range) else . end; "
	"if $by == 0 then $init else $init | _range end | "
	"select(($by > 0 and . < $upto) or ($by < 0 and . > $upto)); ";

/*
 * jq 1.6's math (jq -n 'builtins'), but floor, ceil, round, trunc,
 * nearbyint and rint, which the prelude answers with idem:round: libm's
 * doubles (pow(0.1; 2) is 0.010000000000000002, exp10(4)
 * 10000.000000000002) would otherwise be compared, sorted and keyed
 * before any output shows their noise.  Each one the program names is
 * defined again after the prelude, as _plus is: jq's own first (its
 * errors stay its own: "a" | sqrt), then exact_math answers with the
 * exact decimal value or refuses the record.  Arguments are taken in
 * jq's order for a C function: the last one outermost.  A program that
 * names none of them gets none of this.
 */
static const struct {
	const char *name;
	int argc;
	/* libm's double is the exact value wherever idem answers (a
	 * scaling by 2, a sign, one of the operands): a state whose
	 * programs call only these keeps its keys (expr_text_has_arith) */
	bool scales;
} math_fns[] = {
	{"sqrt", 1, 0}, {"cbrt", 1, 0}, {"pow", 2, 0}, {"hypot", 2, 0},
	{"exp", 1, 0}, {"exp2", 1, 0}, {"exp10", 1, 0}, {"pow10", 1, 0},
	{"expm1", 1, 0}, {"log", 1, 0}, {"log2", 1, 0}, {"log10", 1, 0},
	{"log1p", 1, 0}, {"logb", 1, 1}, {"significand", 1, 1}, {"frexp", 1, 1},
	{"modf", 1, 0}, {"ldexp", 2, 1}, {"scalb", 2, 1}, {"scalbln", 2, 1},
	{"fabs", 1, 1}, {"fmin", 2, 1}, {"fmax", 2, 1}, {"fdim", 2, 0},
	{"copysign", 2, 1}, {"fmod", 2, 0}, {"drem", 2, 0}, {"remainder", 2, 0},
	{"fma", 3, 0}, {"nextafter", 2, 1}, {"nexttoward", 2, 1}, {"sin", 1, 0},
	{"cos", 1, 0}, {"tan", 1, 0}, {"asin", 1, 0}, {"acos", 1, 0},
	{"atan", 1, 0}, {"atan2", 2, 0}, {"sinh", 1, 0}, {"cosh", 1, 0},
	{"tanh", 1, 0}, {"asinh", 1, 0}, {"acosh", 1, 0}, {"atanh", 1, 0},
	{"erf", 1, 0}, {"erfc", 1, 0}, {"gamma", 1, 0}, {"lgamma", 1, 0},
	{"tgamma", 1, 0}, {"lgamma_r", 1, 0}, {"j0", 1, 0}, {"j1", 1, 0},
	{"y0", 1, 0}, {"y1", 1, 0}, {"jn", 2, 0}, {"yn", 2, 0},
};

/*
 * gmtime and localtime give the seconds of x truncated toward zero plus
 * x - floor(x) in doubles: 1234567.3 has 7.300000000046566 seconds and
 * -0.5 is 1970-01-01T00:00:00.5, a second late.  They are answered as
 * the math is (exact_broken_down), and strftime, strflocaltime, todate
 * and todateiso8601, which call them inside libjq, are given them.
 * strptime and mktime (and fromdate, fromdateiso8601: strptime | mktime)
 * are libjq's own but checked (exact_date): an offset or a zone name
 * strptime read and libjq's broken-down time drops, and fields mktime
 * would carry into the next one (2023-02-29, a second 60) or truncate,
 * are refused rather than read as another instant.
 */
static const char time_defs[] =
	"def _idem_gmtime: gmtime; "
	"def gmtime: [\"idem:math\", \"gmtime\", ., _idem_gmtime] | debug | "
	"_input; "
	"def _idem_localtime: localtime; "
	"def localtime: [\"idem:math\", \"localtime\", ., _idem_localtime] | "
	"debug | _input; "
	"def _idem_strftime(f): strftime(f); "
	"def strftime(f): f as $f | [\"idem:math\", \"strftime\", ., $f, "
	"if type == \"number\" then gmtime | _idem_strftime($f) "
	"else _idem_strftime($f) end] | debug | _input; "
	"def _idem_strflocaltime(f): strflocaltime(f); "
	"def strflocaltime(f): f as $f | [\"idem:math\", \"strflocaltime\", "
	"., $f, if type == \"number\" then localtime | "
	"_idem_strflocaltime($f) else _idem_strflocaltime($f) end] | debug | "
	"_input; "
	"def todate: strftime(\"%Y-%m-%dT%H:%M:%SZ\"); "
	"def todateiso8601: strftime(\"%Y-%m-%dT%H:%M:%SZ\"); "
	"def _idem_strptime(f): strptime(f); "
	"def strptime(f): f as $f | [\"idem:math\", \"strptime\", ., $f, "
	"_idem_strptime($f)] | debug | _input; "
	"def _idem_mktime: mktime; "
	"def mktime: [\"idem:math\", \"mktime\", ., _idem_mktime] | debug | "
	"_input; "
	"def fromdateiso8601: strptime(\"%Y-%m-%dT%H:%M:%SZ\") | mktime; "
	"def fromdate: fromdateiso8601; ";

/* The definitions of the math functions program src names, one line. */
static void math_defs(struct buf *b, const char *src)
{
	static const char *const time_words[] = {
		"gmtime", "localtime", "strftime", "strflocaltime", "todate",
		"todateiso8601", "strptime", "mktime", "fromdate",
		"fromdateiso8601"};
	for (size_t i = 0; i < sizeof time_words / sizeof *time_words; i++)
		if (has_word(src, time_words[i])) {
			buf_adds(b, time_defs);
			break;
		}
	static const char *const params[] = {"", "(a; b)", "(a; b; c)"};
	static const char *const args[] = {"", "($x; $y)", "($x; $y; $z)"};
	static const char *const binds[] = {
		"", "b as $y | a as $x | ", "c as $z | b as $y | a as $x | "};
	static const char *const vals[] = {".", "$x, $y", "$x, $y, $z"};
	for (size_t i = 0; i < sizeof math_fns / sizeof *math_fns; i++) {
		const char *f = math_fns[i].name;
		int k = math_fns[i].argc - 1;
		if (!has_word(src, f))
			continue;
		buf_addf(b, "def _idem_%s%s: %s%s; def %s%s: %s"
			   "[\"idem:math\", \"%s\", %s, _idem_%s%s] | debug | "
			   "_input; ", f, params[k], f, params[k], f, params[k],
			   binds[k], f, vals[k], f, args[k]);
	}
}

#define EXACT_TAG "idem:exact"

/* Whether v is the prelude's ["idem:exact", x, op, y, r],
 * ["idem:round", x, floor(x)] (and ceil, round...),
 * ["idem:text", s, tonumber(s)] (and fromjson), ["idem:clock", now] or
 * ["idem:math", name, x, (y, (z,)) name(x; y; z)] (math_defs). */
static bool exact_tagged(jv v)
{
	if (jv_get_kind(v) != JV_KIND_ARRAY)
		return false;
	int n = jv_array_length(jv_copy(v));
	jv tag = jv_array_get(jv_copy(v), 0);
	bool ok = jv_get_kind(tag) == JV_KIND_STRING &&
		  ((n == 5 && !strcmp(jv_string_value(tag), EXACT_TAG)) ||
		   (n == 3 && !strcmp(jv_string_value(tag), "idem:round")) ||
		   (n == 3 && !strcmp(jv_string_value(tag), "idem:text")) ||
		   (n == 2 && !strcmp(jv_string_value(tag), "idem:clock")) ||
		   (n >= 4 && n <= 6 &&
		    !strcmp(jv_string_value(tag), "idem:math")));
	jv_free(tag);
	return ok;
}

/* debug's message: the value itself (libjq 1.6; jq's main.c writes the
 * "DEBUG:" before it).  The program's own debug says nothing, as before. */
static void exact_debug(void *ctx, jv msg)
{
	struct expr *e = ctx;
	if (exact_tagged(msg)) {
		jv_free(e->pending);
		e->pending = msg;
	} else {
		jv_free(msg);
	}
}

/* The decimal a finite double reads as: jq's shortest text of it. */
static bool double_dec(double d, struct dec *out, char *t, size_t cap)
{
	jv s = jv_dump_string(jv_number(d), 0);
	snprintf(t, cap, "%s", jv_string_value(s));
	jv_free(s);
	return dec_parse(t, strlen(t), out) == 0;
}

static jv exact_fail(struct expr *e, const char *fmt, const char *x,
		     char op, const char *y, const char *z)
{
	char why[160];
	snprintf(why, sizeof why, fmt, z);
	snprintf(e->exact_err, sizeof e->exact_err, "%s %c %s %s", x, op, y,
		 why);
	e->exact_failed = true;
	return jv_invalid_with_msg(jv_string(e->exact_err));
}

/* Whether the number text t is no double's noise: 15 digits or fewer,
 * or written so in the record, the program, or by this arithmetic. */
static bool exact_vouched_n(const struct expr *e, const char *t, size_t n)
{
	if (n > 1 && t[0] == '-')
		t++, n--; /* -x and fabs are exact: either sign will do */
	if (!noisy(t, n) || holds(e->rec, e->rec_n, t, n) ||
	    holds(e->src, strlen(e->src), t, n))
		return true;
	char k[DEC_STRMAX + 2];
	if (n > DEC_STRMAX - 1)
		return false;
	int kn = snprintf(k, sizeof k, " %.*s ", (int)n, t);
	return holds(e->vouched.p, e->vouched.len, k, (size_t)kn) ||
	       holds(e->folded.p, e->folded.len, k, (size_t)kn);
}

static bool exact_vouched(const struct expr *e, const char *t)
{
	return exact_vouched_n(e, t, strlen(t));
}

static void vouch(struct buf *b, const char *t)
{
	if (t[0] == '-')
		t++;
	if (!noisy(t, strlen(t)))
		return;
	buf_addc(b, ' ');
	buf_adds(b, t);
	buf_addc(b, ' ');
}

static void exact_vouch(struct expr *e, const char *t)
{
	vouch(&e->vouched, t);
}

static void exact_vouch_folded(struct expr *e, const char *t)
{
	vouch(&e->folded, t);
}

static jv noise_fail(struct expr *e, const char *t)
{
	snprintf(e->exact_err, sizeof e->exact_err, "libjq computed %s in "
		 "doubles, which may not be the exact value (idem(7))", t);
	e->exact_failed = true;
	return jv_invalid_with_msg(jv_string(e->exact_err));
}

/* floor, ceil, round, trunc, nearbyint, rint of x (v is [tag, x, r]):
 * r, unless x carries a double's noise that r would hide
 * (pow(0.1; 2) * 100 | floor, sqrt | floor). */
static jv exact_rounded(struct expr *e, jv v)
{
	jv x = jv_array_get(jv_copy(v), 1);
	jv r = jv_array_get(v, 2);
	char xt[DEC_STRMAX];
	struct dec dx;
	if (jv_get_kind(x) == JV_KIND_NUMBER && isfinite(jv_number_value(x)) &&
	    double_dec(jv_number_value(x), &dx, xt, sizeof xt) &&
	    !exact_vouched(e, xt)) {
		jv_free(x);
		jv_free(r);
		return noise_fail(e, xt);
	}
	jv_free(x);
	return r;
}

static bool inexact_number(const char *p, size_t n, bool strings, char *num,
			   size_t numcap);

/* tonumber or fromjson of s (v is [tag, s, r]): r, unless a number in s
 * is one libjq would round ("0.10000000000000001" is 0.1 to it).  The
 * record's strings are checked before the run; this is for the rest:
 * $ENV, the program's own strings, text the program built. */
static bool has_nan(jv v);
static void date_text(jv x, char *out, size_t cap);

static jv exact_text(struct expr *e, jv v)
{
	jv s = jv_array_get(jv_copy(v), 1);
	jv r = jv_array_get(v, 2);
	char bad[48];
	/* "nan" | tonumber: a number no JSON text holds, which libjq
	 * writes as null, and tostring as "null" */
	if (jv_get_kind(s) == JV_KIND_STRING && has_nan(r)) {
		char st[64];
		date_text(s, st, sizeof st);
		jv_free(r);
		snprintf(e->exact_err, sizeof e->exact_err, "%s reads as a nan (not "
			 "a number), which JSON has no value for: libjq writes "
			 "it as null, another value", st);
		e->exact_failed = true;
		return jv_invalid_with_msg(jv_string(e->exact_err));
	}
	if (jv_get_kind(s) == JV_KIND_STRING &&
	    inexact_number(jv_string_value(s),
			   (size_t)jv_string_length_bytes(jv_copy(s)), false,
			   bad, sizeof bad)) {
		jv_free(s);
		jv_free(r);
		snprintf(e->exact_err, sizeof e->exact_err, "%s would be "
			 "rounded by libjq, which holds numbers as doubles "
			 "(a number made of text by tonumber or fromjson)", bad);
		e->exact_failed = true;
		return jv_invalid_with_msg(jv_string(e->exact_err));
	}
	jv_free(s);
	return r;
}

static jv math_fail(struct expr *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->exact_err, sizeof e->exact_err, fmt, ap);
	va_end(ap);
	e->exact_failed = true;
	return jv_invalid_with_msg(jv_string(e->exact_err));
}

/* r when libjq's double r reads as d (its -0 too), else the double
 * that does; NULL-valued (invalid, *ok false) when no double does. */
static jv math_value(struct expr *e, const struct dec *d, jv r, bool *ok,
		     char *dt)
{
	char rt[DEC_STRMAX];
	struct dec dr;
	*ok = true;
	if (jv_get_kind(r) == JV_KIND_NUMBER &&
	    isfinite(jv_number_value(r)) &&
	    double_dec(jv_number_value(r), &dr, rt, sizeof rt) &&
	    dec_cmp(d, &dr) == 0) {
		exact_vouch(e, rt);
		return r;
	}
	jv_free(r);
	size_t n = dec_format(d, dt);
	if (!number_exact(dt, n)) {
		*ok = false;
		return jv_invalid();
	}
	jv v = jv_number(strtod(dt, NULL));
	double_dec(jv_number_value(v), &dr, rt, sizeof rt);
	exact_vouch(e, rt);
	return v;
}

/*
 * A math function's answer (v is ["idem:math", name, x, (y, (z,)) r]):
 * its exact value, as libjq's r when r is it, else as the double that
 * is it; or a failure naming the call.  Roots, powers, remainders, fma
 * and the like are computed (decmath); a transcendental function has a
 * decimal value only at its exact points (sin 0, cos 0, log 1, exp 0):
 * anywhere else its value is irrational and libjq's only a double near
 * it.
 */
/*
 * gmtime or localtime of x (call names it; r is libjq's): the fields of
 * floor(x), with x's fraction added to the seconds exactly.
 */
static jv exact_broken_down(struct expr *e, const char *call,
			    const struct dec *dx, bool local, jv r)
{
	struct dec n = dec_integral(dx, DEC_FLOOR), frac = *dx;
	int64_t t = 0;
	int fits = 0;
	struct tm tm;
	time_t tt;
	if (jv_get_kind(r) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(r)) != 8)
		return r;
	if (dec_sub(&frac, &n) || !dm_integer(&n, &t, &fits) || !fits ||
	    (tt = (time_t)t, !(local ? localtime_r(&tt, &tm)
				     : gmtime_r(&tt, &tm)))) {
		jv_free(r);
		return math_fail(e, "%s has no date the C library gives", call);
	}
	int64_t f[8] = {tm.tm_year + 1900LL, tm.tm_mon, tm.tm_mday,
			tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_wday,
			tm.tm_yday};
	for (int i = 0; i < 8; i++) {
		struct dec d = dec_from_i64(f[i]);
		char dt[DEC_STRMAX];
		bool ok = i != 5 || dec_add(&d, &frac) == 0;
		jv a = ok ? math_value(e, &d, jv_array_get(jv_copy(r), i), &ok,
				       dt)
			  : jv_invalid();
		if (!ok) {
			jv_free(r);
			return math_fail(e, "%s has %s seconds, which a double "
					 "cannot hold (libjq holds numbers as "
					 "doubles)", call, dt);
		}
		r = jv_array_set(r, i, a);
	}
	return r;
}

/* x's JSON text for a message, cut to fit one. */
static void date_text(jv x, char *out, size_t cap)
{
	jv s = jv_dump_string(x, 0);
	const char *t = jv_string_value(s);
	size_t n = strlen(t);
	if (n < cap)
		memcpy(out, t, n + 1);
	else
		snprintf(out, cap, "%.*s...", (int)(cap - 4), t);
	jv_free(s);
}

/* The zone names a %Z may read without moving the time: UTC's, and
 * a zero offset ("+00:00", "GMT+0"). */
static bool utc_name(const char *w, size_t n)
{
	static const char *const names[] = {"UTC", "GMT", "UT", "Z"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		size_t k = strlen(names[i]);
		if (k <= n && !strncasecmp(w, names[i], k)) {
			w += k;
			n -= k;
			break;
		}
	}
	if (n && (*w == '+' || *w == '-')) {
		size_t zeros = 0;
		for (size_t i = 1; i < n; i++)
			if (w[i] == '0')
				zeros++;
			else if (w[i] != ':')
				return false;
		return zeros > 0;
	}
	return n == 0;
}

/*
 * strptime(f) of s (libjq's answer r): r, unless s held what r cannot
 * say.  libjq's broken-down time is UTC and has no offset: glibc's
 * strptime reads a %z offset into tm_gmtoff, which libjq drops, and
 * skips a %Z name without reading it, so "13:55:36 -0700" and "... PST"
 * would be read 7 or 8 hours off by mktime.  strptime is run again here
 * as libjq ran it, to see them.
 */
static jv exact_strptime(struct expr *e, jv s, jv f, jv r)
{
	char call[160], st[96], ft[48];
	if (jv_get_kind(s) != JV_KIND_STRING ||
	    jv_get_kind(f) != JV_KIND_STRING ||
	    jv_get_kind(r) != JV_KIND_ARRAY) {
		jv_free(s);
		jv_free(f);
		return r;
	}
	const char *in = jv_string_value(s), *fmt = jv_string_value(f);
	date_text(jv_copy(s), st, sizeof st);
	date_text(jv_copy(f), ft, sizeof ft);
	snprintf(call, sizeof call, "%s | strptime(%s)", st, ft);
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	const char *why = NULL;
	char what[64];
	if (strptime(in, fmt, &tm) && tm.tm_gmtoff != 0) {
		long off = tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff;
		snprintf(what, sizeof what, "the offset %c%02ld:%02ld",
			 tm.tm_gmtoff < 0 ? '-' : '+', off / 3600,
			 off / 60 % 60);
		why = what;
	}
	/* each %Z: where its name starts is where the format before it
	 * ends */
	for (size_t i = 0; !why && fmt[i]; i++) {
		if (fmt[i] != '%' || !fmt[i + 1])
			continue;
		if (fmt[++i] != 'Z')
			continue;
		char *head = xmalloc(i);
		memcpy(head, fmt, i - 1);
		head[i - 1] = '\0';
		memset(&tm, 0, sizeof tm);
		const char *w = strptime(in, head, &tm);
		free(head);
		if (!w)
			continue;
		while (*w == ' ' || (*w >= '\t' && *w <= '\r'))
			w++;
		size_t n = 0;
		while (w[n] && w[n] != ' ' && !(w[n] >= '\t' && w[n] <= '\r'))
			n++;
		if (n && !utc_name(w, n)) {
			snprintf(what, sizeof what, "the zone name %.*s",
				 (int)(n < 32 ? n : 32), w);
			why = what;
		}
	}
	jv_free(s);
	jv_free(f);
	if (!why)
		return r;
	jv_free(r);
	return math_fail(e, "%s read %s, which libjq's broken-down time "
			 "(UTC fields, no offset) drops: mktime would take the "
			 "time as UTC, another instant (idem reads an RFC 3339 "
			 "string at its offset itself: give it as it is)",
			 call, why);
}

/*
 * mktime of x (libjq's answer r): the seconds of x's first six fields
 * taken as UTC, when they name a time exactly as they are.  libjq
 * takes each field toward zero (7.3 seconds, as gmtime gives them, are
 * 7) and timegm carries any field past its range into the next (2023-02-29 is March 1st, a leap second
 * :60 the next minute's :00, a day 0 the month before's last): another
 * instant, said by nothing.
 */
static jv exact_mktime(struct expr *e, jv x, jv r)
{
	static const char *const names[6] = {"year", "month", "day", "hour",
					     "minute", "second"};
	char call[160], xt[140];
	double fv[6];
	if (jv_get_kind(x) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(x)) < 6 ||
	    jv_get_kind(r) != JV_KIND_NUMBER) {
		jv_free(x);
		return r;
	}
	for (int i = 0; i < 6; i++) {
		jv a = jv_array_get(jv_copy(x), i);
		bool num = jv_get_kind(a) == JV_KIND_NUMBER;
		fv[i] = num ? jv_number_value(a) : 0;
		jv_free(a);
		if (!num) {
			jv_free(x);
			return r; /* jq's own */
		}
	}
	date_text(x, xt, sizeof xt);
	snprintf(call, sizeof call, "%s | mktime", xt);
	for (int i = 0; i < 6; i++)
		if (!isfinite(fv[i]) || fv[i] != floor(fv[i]) ||
		    fabs(fv[i]) > 1e8) {
			char ft[40];
			date_text(jv_number(fv[i]), ft, sizeof ft);
			jv_free(r);
			return math_fail(e, "%s: its %s %s is not a whole number "
					 "in range, which libjq would take "
					 "toward zero: another instant "
					 "(floor it first)", call, names[i],
					 ft);
		}
	int64_t y = (int64_t)fv[0];
	int64_t v[6];
	for (int i = 0; i < 6; i++)
		v[i] = (int64_t)fv[i];
	int64_t days_in = 0;
	if (v[1] >= 0 && v[1] <= 11)
		days_in = (v[1] == 11 ? time_days_from_civil(y + 1, 1, 1)
				      : time_days_from_civil(y, (int)v[1] + 2,
							     1)) -
			  time_days_from_civil(y, (int)v[1] + 1, 1);
	const int64_t lo[6] = {INT64_MIN, 0, 1, 0, 0, 0};
	const int64_t hi[6] = {INT64_MAX, 11, days_in, 23, 59, 59};
	for (int i = 1; i < 6; i++)
		if (v[i] < lo[i] || v[i] > hi[i]) {
			jv_free(r);
			if (i == 5 && v[i] == 60)
				return math_fail(e, "%s: a second 60 (a leap "
						 "second) has no epoch second "
						 "of its own: libjq would give "
						 "the next minute's :00",
						 call);
			return math_fail(e, "%s: %s %lld is outside %lld to "
					 "%lld, which libjq would carry into "
					 "the next field: another instant",
					 call, names[i],
					 (long long)v[i], (long long)lo[i],
					 (long long)hi[i]);
		}
	int64_t t = time_days_from_civil(y, (int)v[1] + 1, (int)v[2]) *
			    86400 +
		    v[3] * 3600 + v[4] * 60 + v[5];
	if (t > (1LL << 53) || t < -(1LL << 53)) {
		jv_free(r);
		return math_fail(e, "%s is %lld seconds, which a double cannot "
				 "hold (libjq holds numbers as doubles)", call,
				 (long long)t);
	}
	/* jq's mktime is timegm, the inverse of gmtime; this libjq (1.6)
	 * calls mktime with no DST and adds the offset it finds, so
	 * under a TZ on summer time it answered an hour late:
	 * "2024-07-01T00:00:00Z" | fromdate under America/New_York */
	if ((double)t != jv_number_value(r)) {
		jv_free(r);
		return jv_number((double)t);
	}
	return r;
}

/*
 * f formatted over tm as strftime does, but %z, %Z and %s, which glibc
 * takes from tm_gmtoff, tm_zone (else TZ's standard name) and a local
 * mktime, written from what the time is: the offset off, the zone name
 * zone, the epoch second sec.  0 when it does not fit out.
 */
static size_t zoned_strftime(char *out, size_t cap, const char *f,
			     const struct tm *tm, long off, const char *zone,
			     long long sec)
{
	size_t n = 0;
	for (size_t i = 0; f[i]; i++) {
		char piece[64];
		size_t k;
		if (f[i] != '%' || !f[i + 1]) {
			piece[0] = f[i];
			piece[1] = '\0';
		} else {
			size_t j = i + 1; /* flags, width, E and O */
			while (f[j] && j - i < 16 && strchr("_-0^#", f[j]))
				j++;
			while (f[j] >= '0' && f[j] <= '9' && j - i < 16)
				j++;
			if (f[j] == 'E' || f[j] == 'O')
				j++;
			if (!f[j] || j - i >= 16)
				return 0;
			if (f[j] == 'z')
				snprintf(piece, sizeof piece, "%c%02ld%02ld",
					 off < 0 ? '-' : '+', labs(off) / 3600,
					 labs(off) / 60 % 60);
			else if (f[j] == 'Z')
				snprintf(piece, sizeof piece, "%s", zone);
			else if (f[j] == 's')
				snprintf(piece, sizeof piece, "%lld", sec);
			else {
				char spec[20];
				memcpy(spec, f + i, j - i + 1);
				spec[j - i + 1] = '\0';
				/* "%p" of some locales is empty: 0 is no error */
				if (strftime(piece, sizeof piece, spec, tm) == 0)
					piece[0] = '\0';
			}
			i = j;
		}
		k = strlen(piece);
		if (n + k >= cap)
			return 0;
		memcpy(out + n, piece, k + 1);
		n += k;
	}
	return n;
}

/*
 * The instants whose local time is the fields of tm (year to second, as
 * timegm reads them): 0 in a gap the clock skipped, 2 in an hour it
 * went back over, else 1, that instant in *t and its local time in
 * *out.  Every offset in force within a day of the fields is tried, so
 * a change of standard time counts as a change of DST does.
 */
static int local_instants(const struct tm *tm, time_t *t, struct tm *out)
{
	struct tm c = *tm;
	time_t L = timegm(&c), seen[5];
	int n = 0;
	for (int i = -2; i <= 2; i++) {
		time_t probe = L + (time_t)i * 43200, cand;
		struct tm lt;
		if (!localtime_r(&probe, &lt))
			continue;
		cand = L - (time_t)lt.tm_gmtoff;
		if (!localtime_r(&cand, &lt) || lt.tm_gmtoff != L - cand)
			continue;
		bool dup = false;
		for (int j = 0; j < n; j++)
			dup |= seen[j] == cand;
		if (dup)
			continue;
		seen[n++] = cand;
		*t = cand;
		*out = lt;
	}
	return n > 2 ? 2 : n;
}

/*
 * strftime or strflocaltime(f) of x (libjq's text r): r, unless f asks
 * for the zone (%z, %Z) or the epoch second (%s), which glibc takes from
 * the struct tm libjq makes of the broken-down time: no offset, no zone
 * name (so TZ's standard one) and a local mktime.  So under TZ=CET,
 * strftime("%Z") of a UTC time said CET, and strflocaltime("%H:%M%z")
 * 23:13+0000 for 22:13Z, another instant.
 */
static jv exact_strftime(struct expr *e, bool local, jv x, jv f, jv r)
{
	if (jv_get_kind(f) != JV_KIND_STRING ||
	    jv_get_kind(r) != JV_KIND_STRING) {
		jv_free(x);
		jv_free(f);
		return r;
	}
	const char *fmt = jv_string_value(f);
	bool zoned = false;
	for (size_t i = 0; fmt[i]; i++)
		if (fmt[i] == '%' && fmt[i + 1]) {
			size_t j = i + 1;
			while (fmt[j] && strchr("_-0^#123456789EO", fmt[j]))
				j++;
			zoned |= fmt[j] == 'z' || fmt[j] == 'Z' || fmt[j] == 's';
			i = fmt[j] ? j : j - 1;
		}
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	bool ok = zoned;
	long long sec = 0;
	if (ok && jv_get_kind(x) == JV_KIND_NUMBER) {
		/* the fields idem's gmtime and localtime give: floor(x)'s */
		time_t tt = (time_t)floor(jv_number_value(x));
		sec = (long long)tt;
		ok = local ? localtime_r(&tt, &tm) != NULL
			   : gmtime_r(&tt, &tm) != NULL;
	} else if (ok && jv_get_kind(x) == JV_KIND_ARRAY &&
		   jv_array_length(jv_copy(x)) >= 6) {
		int *fld[8] = {&tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			       &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
			       &tm.tm_wday, &tm.tm_yday};
		int n = jv_array_length(jv_copy(x));
		for (int i = 0; ok && i < 8 && i < n; i++) {
			jv a = jv_array_get(jv_copy(x), i);
			ok = jv_get_kind(a) == JV_KIND_NUMBER &&
			     fabs(jv_number_value(a)) < 1e9;
			if (ok) /* toward zero, as libjq's jv2tm */
				*fld[i] = (int)jv_number_value(a);
			jv_free(a);
		}
		tm.tm_year -= 1900;
		struct tm z = tm;
		z.tm_isdst = -1;
		time_t tt = local ? mktime(&z) : timegm(&z);
		sec = (long long)tt;
		if (ok && local) {
			int k = local_instants(&tm, &tt, &z);
			if (k != 1) {
				char xt[140], ft[48];
				date_text(x, xt, sizeof xt);
				date_text(f, ft, sizeof ft);
				jv_free(r);
				return math_fail(e, "%s | strflocaltime(%s): "
						 "%04d-%02d-%02dT%02d:%02d:%02d "
						 "is %s in TZ's zone (%s): "
						 "its %s",
						 xt, ft, tm.tm_year + 1900,
						 tm.tm_mon + 1, tm.tm_mday,
						 tm.tm_hour, tm.tm_min,
						 tm.tm_sec,
						 k ? "two instants" : "no instant",
						 k ? "the clock went back over it"
						   : "the clock skipped it",
						 "%z, %Z or %s would be a guess");
			}
			sec = (long long)tt;
			tm.tm_gmtoff = z.tm_gmtoff;
			tm.tm_zone = z.tm_zone;
			tm.tm_isdst = z.tm_isdst;
		}
	} else {
		ok = false;
	}
	jv_free(x);
	char want[512], want_gmt[512];
	size_t n = 0, n_gmt = 0;
	if (ok) {
		const char *zone = local && tm.tm_zone ? tm.tm_zone : "UTC";
		long off = local ? tm.tm_gmtoff : 0;
		n = zoned_strftime(want, sizeof want, fmt, &tm, off, zone, sec);
		n_gmt = local ? 0
			      : zoned_strftime(want_gmt, sizeof want_gmt, fmt,
					       &tm, 0, "GMT", sec);
	}
	const char *got = jv_string_value(r);
	if (!ok || (n && !strcmp(got, want)) ||
	    (n_gmt && !strcmp(got, want_gmt)) || !n) {
		jv_free(f);
		return r;
	}
	char ft[48], gt[96];
	date_text(f, ft, sizeof ft);
	date_text(r, gt, sizeof gt);
	return math_fail(e, "%s(%s) gives %s in libjq, whose broken-down time "
			 "has no zone (%%z, %%Z and %%s come from TZ's standard "
			 "time or a local mktime): the time is \"%.96s\"",
			 local ? "strflocaltime" : "strftime", ft, gt, want);
}

/* ["idem:math", "strptime", s, f, r], ["idem:math", "mktime", x, r] or
 * ["idem:math", "strftime" or "strflocaltime", x, f, r] */
static jv exact_date(struct expr *e, jv v)
{
	jv name = jv_array_get(jv_copy(v), 1);
	char f[16];
	snprintf(f, sizeof f, "%s", jv_string_value(name));
	jv_free(name);
	if (!strcmp(f, "mktime")) {
		jv x = jv_array_get(jv_copy(v), 2);
		jv r = jv_array_get(v, 3);
		return exact_mktime(e, x, r);
	}
	jv s = jv_array_get(jv_copy(v), 2), fm = jv_array_get(jv_copy(v), 3);
	jv r = jv_array_get(v, 4);
	if (!strcmp(f, "strptime"))
		return exact_strptime(e, s, fm, r);
	return exact_strftime(e, !strcmp(f, "strflocaltime"), s, fm, r);
}

static jv exact_math(struct expr *e, jv v)
{
	int argc = jv_array_length(jv_copy(v)) - 3;
	jv jname = jv_array_get(jv_copy(v), 1);
	char f[16];
	snprintf(f, sizeof f, "%s", jv_string_value(jname));
	jv_free(jname);
	if (!strcmp(f, "strptime") || !strcmp(f, "mktime") ||
	    !strcmp(f, "strftime") || !strcmp(f, "strflocaltime"))
		return exact_date(e, v);
	jv r = jv_array_get(jv_copy(v), argc + 2);
	double x[3] = {0, 0, 0};
	struct dec d[3];
	char t[3][DEC_STRMAX];
	for (int i = 0; i < argc; i++) {
		jv a = jv_array_get(jv_copy(v), 2 + i);
		if (jv_get_kind(a) != JV_KIND_NUMBER) {
			jv_free(a);
			jv_free(v);
			return r; /* jq's own (its function failed first) */
		}
		x[i] = jv_number_value(a);
		jv_free(a);
		if (!isfinite(x[i]))
			snprintf(t[i], sizeof t[i], "%s", isnan(x[i]) ? "nan" :
				 x[i] > 0 ? "infinite" : "-infinite");
		else if (!double_dec(x[i], &d[i], t[i], sizeof t[i]))
			snprintf(t[i], sizeof t[i], "%g", x[i]);
	}
	jv_free(v);
	char call[3 * DEC_STRMAX + 32];
	if (argc == 1)
		snprintf(call, sizeof call, "%s | %s", t[0], f);
	else
		snprintf(call, sizeof call, "%s(%s; %s%s%s)", f, t[0], t[1],
			 argc == 3 ? "; " : "", argc == 3 ? t[2] : "");
	for (int i = 0; i < argc; i++) {
		if (!isfinite(x[i])) {
			jv_free(r);
			return math_fail(e, "%s has no exact value: nan and "
					 "infinite are not numbers a record "
					 "holds", call);
		}
		if (!exact_vouched(e, t[i])) {
			jv_free(r);
			return noise_fail(e, t[i]);
		}
	}
	if (!strcmp(f, "gmtime") || !strcmp(f, "localtime"))
		return exact_broken_down(e, call, &d[0], f[0] == 'l', r);
	struct dec out = DEC_ZERO, out2 = DEC_ZERO, one = dec_from_i64(1);
	struct dec zero = DEC_ZERO, two = dec_from_i64(2);
	bool pair = false; /* frexp, modf, lgamma_r: [out, out2] */
	int rc = DM_EXACT;
	int64_t n = 0;
	int fits = 0;
	bool isint = argc == 2 && dm_integer(&d[1], &n, &fits);
	int c0 = dec_cmp(&d[0], &zero);
#define IS(name) (!strcmp(f, name))
#define AT(point, value)                                                \
	(dec_cmp(&d[0], &(point)) == 0 ? (out = (value), DM_EXACT) : DM_NODEC)
	if (IS("sqrt")) {
		rc = dm_root(&d[0], 2, &out);
	} else if (IS("cbrt")) {
		rc = dm_root(&d[0], 3, &out);
	} else if (IS("pow")) {
		rc = dm_pow(&d[0], &d[1], &out);
	} else if (IS("hypot")) {
		struct dec a, b;
		rc = dec_mul(&d[0], &d[0], &a) || dec_mul(&d[1], &d[1], &b) ||
		     dec_add(&a, &b) ? DM_OVERFLOW : dm_root(&a, 2, &out);
	} else if (IS("exp2") || IS("exp10") || IS("pow10")) {
		int64_t k;
		if (!dm_integer(&d[0], &k, &fits))
			rc = DM_NODEC; /* 2^(p/q) is irrational */
		else if (!fits || k > 100000 || k < -100000)
			rc = DM_OVERFLOW;
		else if (IS("exp2"))
			rc = dm_ldexp(&one, k, &out);
		else
			out = (struct dec){1, (int32_t)k};
	} else if (IS("log2")) {
		int64_t k;
		rc = dm_log2(&d[0], &k);
		out = dec_from_i64(k);
	} else if (IS("log10")) {
		struct dec m = dec_normalize(d[0]);
		rc = c0 <= 0 ? DM_DOMAIN : m.coef != 1 ? DM_NODEC : DM_EXACT;
		out = dec_from_i64(m.exp);
	} else if (IS("logb")) {
		/* the double's exponent is the decimal's: both sit on the
		 * same side of every power of 2, a double itself */
		rc = c0 == 0 ? DM_DOMAIN : DM_EXACT;
		out = dec_from_i64(c0 ? ilogb(x[0]) : 0);
	} else if (IS("significand") || IS("frexp")) {
		int64_t k;
		rc = dm_frexp(&d[0], &out, &k);
		out2 = dec_from_i64(k);
		pair = IS("frexp");
		if (!pair && rc == DM_EXACT && dec_mul(&out, &two, &out))
			rc = DM_OVERFLOW;
	} else if (IS("modf")) {
		out2 = dec_integral(&d[0], DEC_TRUNC);
		out = d[0];
		rc = dec_sub(&out, &out2) ? DM_OVERFLOW : DM_EXACT;
		pair = true;
	} else if (IS("ldexp") || IS("scalb") || IS("scalbln")) {
		if (!isint) /* ldexp and scalbln: jq truncates it */
			rc = IS("scalb") ? DM_DOMAIN : -10;
		else if (!fits)
			rc = c0 ? DM_OVERFLOW : (out = zero, DM_EXACT);
		else
			rc = dm_ldexp(&d[0], n, &out);
	} else if (IS("fabs")) {
		out = d[0];
		out.coef = c0 < 0 ? -out.coef : out.coef;
	} else if (IS("fmin") || IS("fmax")) {
		int c = dec_cmp(&d[0], &d[1]);
		out = (c < 0) == IS("fmin") ? d[0] : d[1];
	} else if (IS("copysign")) {
		out = d[0];
		out.coef = (out.coef < 0) != (signbit(x[1]) != 0) ? -out.coef
								  : out.coef;
	} else if (IS("fdim")) {
		out = d[0];
		if (dec_cmp(&d[0], &d[1]) <= 0)
			out = zero;
		else if (dec_sub(&out, &d[1]))
			rc = DM_OVERFLOW;
	} else if (IS("fmod")) {
		rc = dm_fmod(&d[0], &d[1], &out);
	} else if (IS("drem") || IS("remainder")) {
		rc = dm_remainder(&d[0], &d[1], &out);
	} else if (IS("fma")) {
		rc = dec_mul(&d[0], &d[1], &out) || dec_add(&out, &d[2]) ||
		     !dec_fits(&out) ? DM_OVERFLOW : DM_EXACT;
	} else if (IS("nextafter") || IS("nexttoward")) {
		out = d[1];
		rc = dec_cmp(&d[0], &d[1]) ? -11 : DM_EXACT;
	} else if (IS("sin") || IS("tan") || IS("asin") || IS("atan") ||
		   IS("sinh") || IS("tanh") || IS("asinh") || IS("atanh") ||
		   IS("erf") || IS("expm1") || IS("log1p") || IS("j1")) {
		rc = AT(zero, zero);
	} else if (IS("cos") || IS("cosh") || IS("erfc") || IS("j0") ||
		   IS("exp")) {
		rc = AT(zero, one);
	} else if (IS("acos") || IS("acosh") || IS("log")) {
		rc = AT(one, zero);
	} else if (IS("gamma") || IS("lgamma") || IS("lgamma_r")) {
		rc = dec_cmp(&d[0], &one) && dec_cmp(&d[0], &two) ? DM_NODEC
								 : DM_EXACT;
		out2 = one; /* lgamma_r's sign of gamma(1) and gamma(2) */
		pair = IS("lgamma_r");
	} else if (IS("tgamma")) {
		/* (k-1)! at a positive integer k */
		int64_t k;
		rc = DM_NODEC;
		if (c0 > 0 && dm_integer(&d[0], &k, &fits) && fits && k < 40)
			for (rc = DM_EXACT, out = one; rc == DM_EXACT && --k > 0;) {
				struct dec m = dec_from_i64(k);
				rc = dec_mul(&out, &m, &out) ? DM_OVERFLOW : rc;
			}
	} else if (IS("atan2")) {
		/* atan2(±0; x) is ±0 for x > 0 and +0, else ±pi */
		rc = c0 == 0 && !signbit(x[1]) ? DM_EXACT : DM_NODEC;
	} else if (IS("jn") || IS("yn")) {
		/* jn(n; 0) is 1 for n = 0, else 0; yn(n; 0) is -infinite */
		bool ok = dm_integer(&d[0], &n, &fits);
		rc = !ok ? -10 : IS("jn") && dec_cmp(&d[1], &zero) == 0 ?
			DM_EXACT : DM_NODEC;
		out = d[0].coef == 0 ? one : zero;
	} else { /* y0, y1: -infinite at 0, irrational elsewhere */
		rc = DM_NODEC;
	}
#undef AT
#undef IS
	char dt[DEC_STRMAX], rt[DEC_STRMAX];
	/* libjq's value: a number, or frexp's [m, e]: its first */
	jv r0 = jv_get_kind(r) == JV_KIND_ARRAY ? jv_array_get(jv_copy(r), 0)
						: jv_copy(r);
	double rv = jv_get_kind(r0) == JV_KIND_NUMBER ? jv_number_value(r0) : 0;
	jv_free(r0);
	if (rc == DM_EXACT && pair) {
		bool ok = true, ok2 = true;
		jv a = math_value(e, &out, jv_array_get(jv_copy(r), 0), &ok, dt);
		if (ok) {
			r = jv_array_set(r, 0, a);
			a = math_value(e, &out2, jv_array_get(jv_copy(r), 1),
				       &ok2, dt);
			if (ok2)
				return jv_array_set(r, 1, a);
		}
		jv_free(r);
		return math_fail(e, "%s has %s, which a double cannot hold "
				 "(libjq holds numbers as doubles)", call, dt);
	}
	if (rc == DM_EXACT) {
		bool ok;
		jv a = math_value(e, &out, r, &ok, dt);
		if (ok)
			return a;
		return math_fail(e, "%s is %s, which a double cannot hold "
				 "(libjq holds numbers as doubles)", call, dt);
	}
	jv_free(r);
	if (rc == -10)
		return math_fail(e, "%s: jq would take %s as an integer, "
				 "dropping its fraction; write an integer",
				 call, t[strcmp(f, "jn") && strcmp(f, "yn") ? 1 : 0]);
	if (rc == -11)
		return math_fail(e, "%s is the double next to %s, and a "
				 "decimal has no next number (idem(7))", call,
				 t[0]);
	if (rc == DM_OVERFLOW)
		return math_fail(e, "%s cannot be computed exactly in %d "
				 "digits", call, DEC_DIGITS);
	if (!isfinite(rv))
		return math_fail(e, "%s has no finite value (libjq gives %s)",
				 call, isnan(rv) ? "nan" : rv > 0 ?
				 "infinite" : "-infinite");
	if (rc == DM_DOMAIN)
		return math_fail(e, "%s has no real value", call);
	double_dec(rv, &out, rt, sizeof rt);
	return math_fail(e, "%s has no exact decimal value (libjq would give "
			 "%s%s, a double near it); jq's math is exact or "
			 "refused (idem(7))", call, rt, pair ? ", ..." : "");
}

/* input's answer to the prelude: the exact value of x op y, as the
 * double r libjq computed when r is it, else as the double that is it;
 * or a failure when no double is. */
static jv exact_input(jq_state *jq, void *ctx)
{
	(void)jq;
	struct expr *e = ctx;
	if (!jv_is_valid(e->pending))
		return jv_invalid(); /* the program's own input: none */
	jv v = e->pending;
	e->pending = jv_invalid();
	jv tag0 = jv_array_get(jv_copy(v), 0);
	bool math = !strcmp(jv_string_value(tag0), "idem:math");
	jv_free(tag0);
	if (math)
		return exact_math(e, v);
	if (jv_array_length(jv_copy(v)) == 2) {
		/* now: the clock's double is the instant it names, digits
		 * and all, not a computation's noise */
		jv t = jv_array_get(v, 1);
		char tt[DEC_STRMAX];
		struct dec dt0;
		if (jv_get_kind(t) == JV_KIND_NUMBER &&
		    isfinite(jv_number_value(t)) &&
		    double_dec(jv_number_value(t), &dt0, tt, sizeof tt))
			exact_vouch(e, tt);
		return t;
	}
	if (jv_array_length(jv_copy(v)) == 3) {
		jv tag = jv_array_get(jv_copy(v), 0);
		bool text = !strcmp(jv_string_value(tag), "idem:text");
		jv_free(tag);
		return text ? exact_text(e, v) : exact_rounded(e, v);
	}
	jv jop = jv_array_get(jv_copy(v), 2);
	char op = jv_string_value(jop)[0];
	jv_free(jop);
	jv jx = jv_array_get(jv_copy(v), 1), jy = jv_array_get(jv_copy(v), 3);
	jv r = jv_array_get(v, 4);
	if (jv_get_kind(jx) != JV_KIND_NUMBER ||
	    jv_get_kind(jy) != JV_KIND_NUMBER) {
		jv_free(jx);
		jv_free(jy);
		return r; /* strings, arrays, objects, null: jq's own */
	}
	double x = jv_number_value(jx), y = jv_number_value(jy);
	jv_free(jx);
	jv_free(jy);
	char xt[DEC_STRMAX], yt[DEC_STRMAX], rt[DEC_STRMAX], dt[DEC_STRMAX];
	struct dec dx, dy, d, dr;
	if (!isfinite(x) || !isfinite(y)) {
		jv_free(r);
		snprintf(xt, sizeof xt, "%s", isnan(x) ? "nan" : isinf(x) ?
			 "infinite" : "x");
		snprintf(yt, sizeof yt, "%s", isnan(y) ? "nan" : isinf(y) ?
			 "infinite" : "y");
		return exact_fail(e, "has no exact value: nan and infinite "
				  "are not numbers a record holds%s", xt, op,
				  yt, "");
	}
	if (!double_dec(x, &dx, xt, sizeof xt) ||
	    !double_dec(y, &dy, yt, sizeof yt)) {
		jv_free(r);
		return exact_fail(e, "has an operand past %s digits", xt, op,
				  yt, "38");
	}
	/* an operand of more than 15 digits that neither the record,
	 * the program nor this arithmetic wrote came from a computation
	 * in doubles: its noise would pass as exact from here on */
	const char *noise = !exact_vouched(e, xt) ? xt
			  : !exact_vouched(e, yt) ? yt : NULL;
	if (noise) {
		jv_free(r);
		return noise_fail(e, noise);
	}
	int rc = 0;
	switch (op) {
	case '+':
		d = dx;
		rc = dec_add(&d, &dy);
		break;
	case '-':
		d = dx;
		rc = dec_sub(&d, &dy);
		break;
	case '*':
		rc = dec_mul(&dx, &dy, &d);
		break;
	case '/':
		rc = dec_div(&dx, &dy, &d);
		if (rc == DEC_ENDLESS) {
			jv_free(r);
			return exact_fail(e, "has no exact decimal value (libjq "
					  "would round it to a double%s)", xt,
					  op, yt, "");
		}
		break;
	default: { /* %: jq's is of integers, truncating what is not one */
		struct dec big = dec_from_i64(9007199254740992);
		struct dec ax = dx, ay = dy;
		ax.coef = ax.coef < 0 ? -ax.coef : ax.coef;
		ay.coef = ay.coef < 0 ? -ay.coef : ay.coef;
		struct dec ix = dec_integral(&dx, DEC_TRUNC);
		struct dec iy = dec_integral(&dy, DEC_TRUNC);
		if (dec_cmp(&ix, &dx) || dec_cmp(&iy, &dy) ||
		    dec_cmp(&ax, &big) >= 0 || dec_cmp(&ay, &big) >= 0) {
			jv_free(r);
			return exact_fail(e, "is jq's %% of integers, which "
					  "truncates its operands first; use "
					  "integers below 2^53%s", xt, op, yt,
					  "");
		}
		return r;
	}
	}
	if (rc != 0 || !dec_fits(&d)) {
		jv_free(r);
		return exact_fail(e, "cannot be computed exactly in %s digits",
				  xt, op, yt, "38");
	}
	double rv = jv_number_value(r);
	if (isfinite(rv) && double_dec(rv, &dr, rt, sizeof rt) &&
	    dec_cmp(&d, &dr) == 0) {
		exact_vouch(e, rt);
		return r; /* libjq's double is the exact value (and its -0) */
	}
	size_t n = dec_format(&d, dt);
	if (number_exact(dt, n)) {
		jv_free(r);
		jv v2 = jv_number(strtod(dt, NULL));
		double_dec(jv_number_value(v2), &dr, rt, sizeof rt);
		exact_vouch(e, rt);
		return v2;
	}
	jv_free(r);
	return exact_fail(e, "is %s, which a double cannot hold (libjq "
			  "holds numbers as doubles)", xt, op, yt, dt);
}

/*
 * A token of a jq program for folded(): a number literal, one of the
 * operators + - * / (not += //, not a comparison), a bracket, or other.
 */
struct ftok {
	char kind; /* 'n' number, the operator or bracket itself, 'x' other */
	size_t a, b;
};

static int fold_prec(char c)
{
	return c == '*' || c == '/' || c == '%' ? 2 : c == '+' || c == '-' ? 1
									   : 0;
}

/* Tokens of s: those folded() looks at, the rest as 'x' (one per code
 * character; a word's letters, which never stand by a number, count as
 * several). The caller frees the array. */
static struct ftok *fold_tokens(const char *s, size_t *count)
{
	size_t n = strlen(s), k = 0, cap = 0;
	struct ftok *t = NULL;
	struct code_walk w = {.s = s};
	long at;
	while ((at = code_next(&w)) >= 0) {
		size_t i = (size_t)at;
		char c = s[i];
		if (is_ws(c))
			continue;
		t = xgrow(t, &cap, k, sizeof *t, 16);
		struct ftok *x = &t[k++];
		x->kind = 'x';
		x->a = i;
		x->b = i + 1;
		bool digit = c >= '0' && c <= '9';
		bool dot_num = c == '.' && s[i + 1] >= '0' && s[i + 1] <= '9' &&
			       !(i && (ident_char(s[i - 1]) || s[i - 1] == ']' ||
				       s[i - 1] == ')' || s[i - 1] == '"'));
		if ((digit && !(i && (ident_char(s[i - 1]) || s[i - 1] == '.'))) ||
		    dot_num) {
			size_t j = i + 1;
			while (j < n && ((s[j] >= '0' && s[j] <= '9') ||
					 (s[j] == '.' && c != '.')))
				j++;
			if (j < n && (s[j] == 'e' || s[j] == 'E')) {
				size_t e = j + 1;
				if (e < n && (s[e] == '+' || s[e] == '-'))
					e++;
				if (e < n && s[e] >= '0' && s[e] <= '9')
					for (j = e; j < n && s[j] >= '0' &&
						    s[j] <= '9';)
						j++;
			}
			x->kind = 'n';
			x->b = j;
			w.i = j;
		} else if (fold_prec(c) && s[i + 1] != '=' &&
			   !(c == '/' && (s[i + 1] == '/' ||
					  (i && s[i - 1] == '/')))) {
			x->kind = c;
		} else if (strchr("()", c)) {
			x->kind = c;
		}
	}
	free(w.open);
	*count = k;
	return t;
}

/*
 * jq computes an operation of two constants (0.57 * 100, and 2 * 3 * 0.1
 * step by step) when it parses the program, in doubles, before any
 * definition is bound: the prelude never sees it.  So the program's
 * + - * / are read here as jq's grammar groups them -- * / % before + -,
 * left to right, a unary minus taking what * / take, parentheses --
 * with anything else an operand that is no constant, and each operation
 * of two constants checked as exact_input checks the others.  A result
 * of more than 15 digits that is exact is vouched for, as the record's
 * own numbers are.
 */
struct fold {
	const char *s;
	struct ftok *t;
	size_t k, i;
	struct expr *e;
	char *err;
	size_t errlen;
	bool bad;
};

struct fval {
	bool constant;
	double d;
};

static struct fval fold_expr(struct fold *f, int min);

/* Expressions up to the ')' that closes the caller's '(' (or the end):
 * a constant when it is one expression that is one. */
static struct fval fold_seq(struct fold *f)
{
	struct fval v = {0};
	size_t n = 0;
	while (!f->bad && f->i < f->k && f->t[f->i].kind != ')') {
		size_t at = f->i;
		v = fold_expr(f, 0);
		n++;
		if (f->i == at)
			f->i++, v.constant = false; /* a lone operator */
	}
	if (n != 1)
		v.constant = false;
	return v;
}

static struct fval fold_primary(struct fold *f)
{
	struct ftok *x = &f->t[f->i++];
	struct fval v = {0};
	if (x->kind == 'n') {
		v.constant = true;
		v.d = strtod(f->s + x->a, NULL);
	} else if (x->kind == '(') {
		v = fold_seq(f);
		if (f->i < f->k)
			f->i++; /* ) */
	} else if (x->kind == '-' && f->i < f->k) {
		fold_expr(f, 2); /* jq's _negate: a call, no constant */
	}
	return v;
}

static bool fold_check(struct fold *f, double x, char op, double y,
		       double v)
{
	char xt[DEC_STRMAX], yt[DEC_STRMAX], vt[DEC_STRMAX], dt[DEC_STRMAX];
	struct dec dx, dy, d, dv;
	if (!double_dec(x, &dx, xt, sizeof xt) ||
	    !double_dec(y, &dy, yt, sizeof yt) || (op == '/' && y == 0 && x != 0))
		return true; /* libjq's own "Division by zero?" */
	int rc = op == '+' ? (d = dx, dec_add(&d, &dy))
	       : op == '-' ? (d = dx, dec_sub(&d, &dy))
	       : op == '*' ? dec_mul(&dx, &dy, &d)
			   : dec_div(&dx, &dy, &d);
	bool exact = rc == 0 && dec_fits(&d);
	if (!isfinite(v)) {
		snprintf(vt, sizeof vt, "%s", isnan(v) ? "nan" : "infinity");
	} else if (double_dec(v, &dv, vt, sizeof vt) && exact &&
		   dec_cmp(&d, &dv) == 0) {
		exact_vouch_folded(f->e, vt);
		return true;
	}
	if (exact && number_exact(dt, dec_format(&d, dt)))
		snprintf(f->err, f->errlen, "'%s': libjq computes %s %c %s in "
			 "doubles as it compiles the program, giving %s; write "
			 "its exact value, %s", f->s, xt, op, yt, vt, dt);
	else
		snprintf(f->err, f->errlen, "'%s': libjq computes %s %c %s in "
			 "doubles as it compiles the program, giving %s, and no "
			 "double holds its exact value", f->s, xt, op, yt, vt);
	f->bad = true;
	return false;
}

static struct fval fold_expr(struct fold *f, int min)
{
	struct fval l = fold_primary(f);
	while (!f->bad && f->i < f->k) {
		char op = f->t[f->i].kind;
		int prec = fold_prec(op);
		if (!prec || prec < min)
			break;
		f->i++;
		if (f->i >= f->k)
			break;
		struct fval r = fold_expr(f, prec + 1);
		if (!l.constant || !r.constant || op == '%') {
			l.constant = false;
			continue;
		}
		double v = op == '+' ? l.d + r.d : op == '-' ? l.d - r.d
			 : op == '*' ? l.d * r.d : l.d / r.d;
		fold_check(f, l.d, op, r.d, v);
		l.d = v;
	}
	return l;
}

static bool folded_exact(struct expr *e, const char *s, char *err,
			 size_t errlen)
{
	struct fold f = {.s = s, .e = e, .err = err, .errlen = errlen};
	f.t = fold_tokens(s, &f.k);
	while (!f.bad && f.i < f.k) {
		fold_seq(&f);
		f.i++; /* a ')' without its '(' */
	}
	free(f.t);
	return !f.bad;
}

struct expr *expr_compile(const char *src, char *err, size_t errlen)
{
	/* jq runs an empty program as '.', so -k "$UNSET" keyed on the
	 * whole record and delete --where "$UNSET" matched every row */
	if (!src[strspn(src, " \t\r\n")]) {
		snprintf(err, errlen, "an empty expression; write . for the "
			 "whole record");
		return NULL;
	}
	struct expr *e = xcalloc(1, sizeof *e);
	e->src = xstrdup(src);
	/* e->pending, all zero bytes, is jv_invalid(): libjq is not
	 * loaded yet, and a plain path never loads it */
	if (path_parse(src, &e->path) == 0) {
		e->plain = true;
		e->shape = SHAPE_PLAIN;
		return e;
	}
	if (compound(e, src)) {
		if (!e->mixed)
			return e;
		/* arith parts: libjq answers when an operand is no number */
	} else {
		e->shape = SHAPE_JQ;
		e->arith = arith_parse(src);
	}
	reach(e, src);
	e->strings = has_word(src, "tonumber") || has_word(src, "fromjson");
	/* localtime and strflocaltime read TZ, which glibc takes for UTC
	 * when it names no zone: refused here, not run as UTC */
	if (expr_text_reads_local(src)) {
		char why[512];
		if (tz_env_check(why, sizeof why) != 0) {
			snprintf(err, errlen, "'%s' reads local time: %s", src,
				 why);
			expr_free(e);
			return NULL;
		}
	}
	const char *bad = inexact_literal(src);
	if (bad) {
		snprintf(err, errlen, "'%s': the number %.*s would be rounded "
			 "by libjq, which holds numbers as doubles", src,
			 (int)strcspn(bad, " \t\n)]},|;<>=!+*/%"), bad);
		expr_free(e);
		return NULL;
	}
	if (jqlib_load(err, errlen) != 0) {
		expr_free(e);
		return NULL;
	}
	if (!e->arith && !folded_exact(e, src, err, errlen)) {
		expr_free(e);
		return NULL;
	}
	e->jq = jq_init();
	if (!e->jq) {
		snprintf(err, errlen, "cannot initialise libjq");
		expr_free(e);
		return NULL;
	}
	jq_set_error_cb(e->jq, collect_msg, &e->msg);
	jq_set_debug_cb(e->jq, exact_debug, e);
	jq_set_input_cb(e->jq, exact_input, e);
	/* Modules are not offered: with no library path set, libjq 1.6
	 * aborts on import/include (an assertion, exit 134).  An empty
	 * path makes every module "not found", a compile error. */
	jq_set_attr(e->jq, jv_string("JQ_LIBRARY_PATH"), jv_array());
	struct buf full = {0};
	buf_adds(&full, prelude);
	math_defs(&full, src);
	buf_adds(&full, src);
	bool compiled = jq_compile(e->jq, full.p);
	buf_free(&full);
	if (!compiled) {
		/* the program's own words, without the prelude's text */
		buf_reset(&e->msg);
		jq_teardown(&e->jq);
		e->jq = jq_init();
		if (e->jq) {
			jq_set_error_cb(e->jq, collect_msg, &e->msg);
			jq_set_attr(e->jq, jv_string("JQ_LIBRARY_PATH"),
				    jv_array());
			if (jq_compile(e->jq, src)) {
				buf_reset(&e->msg);
				buf_adds(&e->msg, "does not compile with "
					 "idem's exact arithmetic (a "
					 "definition of _plus, _minus, "
					 "_multiply, _divide or _mod?)");
			}
		}
		if (e->msg.len && strstr(e->msg.p, "module not found"))
			snprintf(err, errlen, "'%s': jq modules (import, "
				 "include) are not supported; write the "
				 "definitions into the program", src);
		else
			snprintf(err, errlen, "'%s': %s", src,
				 e->msg.len ? e->msg.p : "does not compile");
		expr_free(e);
		return NULL;
	}
	return e;
}

/*
 * Where the value of jq program s is made by an assignment ('.a = 1',
 * '.x | .a |= 2'): one of = |= += -= *= /= %= //= outside brackets and
 * strings after the last top-level pipe (or definition).  Its value is the record with
 * the member set, always true: a condition the user meant with ==.
 * Returns the operator's offset (its length in *len), or -1.
 */
static long top_assignment(const char *s, size_t *len)
{
	struct code_walk w = {.s = s};
	long found = -1, at;
	while ((at = code_next(&w)) >= 0) {
		size_t i = (size_t)at;
		if (w.depth != 0)
			continue; /* (an open bracket counts itself) */
		if ((s[i] == '|' && s[i + 1] != '=') || s[i] == ';') {
			found = -1; /* the value is the next part's (or def's) */
		} else if (s[i] == '=' && s[i + 1] == '=') {
			w.i++; /* == */
		} else if (s[i] == '=' && !(i > 0 && strchr("!<>=", s[i - 1]))) {
			size_t a = i;
			if (a > 0 && strchr("|+-*%", s[a - 1]))
				a--;
			else if (a > 0 && s[a - 1] == '/')
				a -= a > 1 && s[a - 2] == '/' ? 2 : 1;
			found = (long)a;
			*len = i + 1 - a;
		}
	}
	free(w.open);
	return found;
}

struct expr *expr_condition_compile(const char *src, char *err,
				    size_t errlen)
{
	size_t n = 0;
	long at = top_assignment(src, &n);
	if (at >= 0) {
		if (n == 1)
			snprintf(err, errlen, "'%s': '=' sets a member, and the "
				 "record it gives is always true; did you mean "
				 "'%.*s==%s'? (in parentheses the assignment is "
				 "taken as written)", src, (int)at, src,
				 src + at + 1);
		else
			snprintf(err, errlen, "'%s': '%.*s' updates a member, "
				 "and the record it gives is always true (in "
				 "parentheses it is taken as written)", src,
				 (int)n, src + at);
		return NULL;
	}
	return expr_compile(src, err, errlen);
}

void expr_free(struct expr *e)
{
	if (!e)
		return;
	if (e->jq) { /* else pending never left its zero bytes */
		jq_teardown(&e->jq);
		jv_free(e->pending);
	}
	buf_free(&e->vouched);
	buf_free(&e->folded);
	buf_free(&e->piece);
	path_free(&e->path);
	arith_free(e->arith);
	free_parts(e);
	for (size_t i = 0; i < e->nrefs; i++)
		free(e->refs[i]);
	free(e->refs);
	buf_free(&e->out);
	buf_free(&e->msg);
	free(e->src);
	free(e);
}

const char *expr_source(const struct expr *e)
{
	return e->src;
}

/* Whether program s calls one of jq's math functions whose value libm
 * gave inexactly: a word of its code, not a .member, a $variable or a
 * string's text. */
static bool calls_inexact_math(const char *s)
{
	struct code_walk w = {.s = s};
	long at;
	bool found = false;
	while (!found && (at = code_next(&w)) >= 0) {
		size_t i = (size_t)at, n = 0;
		if (!ident_char(s[i]) || (i && (ident_char(s[i - 1]) ||
						 s[i - 1] == '.' || s[i - 1] == '$')))
			continue;
		while (ident_char(s[i + n]))
			n++;
		w.i = i + n;
		for (size_t k = 0; k < sizeof math_fns / sizeof *math_fns; k++)
			if (!math_fns[k].scales && strlen(math_fns[k].name) == n &&
			    !memcmp(math_fns[k].name, s + i, n))
				found = true;
	}
	free(w.open);
	return found;
}

bool expr_text_reads_local(const char *src)
{
	size_t n = strlen(src);
	for (size_t i = 0; i < n; i++) {
		if (src[i] == '"') {
			size_t e = string_end(src, n, i);
			if (e) /* an interpolation's code is looked at */
				i = e - 1;
			continue;
		}
		if (!ident_char(src[i]))
			continue;
		size_t k = i;
		while (k < n && ident_char(src[k]))
			k++;
		size_t p = i, q = k;
		while (p > 0 && src[p - 1] == ' ')
			p--;
		while (q < n && src[q] == ' ')
			q++;
		/* a call, not a member (.localtime), a variable
		 * ($localtime) or an object's key ({localtime: 1}) */
		bool word = (k - i == 9 && !memcmp(src + i, "localtime", 9)) ||
			    (k - i == 13 &&
			     !memcmp(src + i, "strflocaltime", 13));
		if (word && !(p > 0 && (src[p - 1] == '.' || src[p - 1] == '$')) &&
		    !(q < n && src[q] == ':'))
			return true;
		i = k - 1;
	}
	return false;
}

bool expr_text_has_arith(const char *src)
{
	if (calls_inexact_math(src))
		return true;
	size_t n = strlen(src);
	for (size_t i = 0; i < n; i++) {
		if (src[i] == '"') {
			size_t e = string_end(src, n, i);
			/* an interpolation holds code: look at all the rest */
			if (!e)
				return strpbrk(src + i, "+-*/%") != NULL;
			i = e - 1;
		} else if (strchr("+-*/%", src[i])) {
			return true;
		}
	}
	return false;
}

bool expr_is_plain(const struct expr *e)
{
	return e->plain;
}

/* Whether v (borrowed) holds a nan: JSON has no value for it, and
 * libjq writes it as null ("nan" | tonumber, nan, [nan] | sort). */
static bool has_nan(jv v)
{
	bool found = false;
	switch (jv_get_kind(v)) {
	case JV_KIND_NUMBER:
		return isnan(jv_number_value(v));
	case JV_KIND_ARRAY:
		for (int i = 0; !found && i < jv_array_length(jv_copy(v)); i++) {
			jv x = jv_array_get(jv_copy(v), i);
			found = has_nan(x);
			jv_free(x);
		}
		return found;
	case JV_KIND_OBJECT:
		for (int i = jv_object_iter(v); !found &&
		     jv_object_iter_valid(v, i); i = jv_object_iter_next(v, i)) {
			jv x = jv_object_iter_value(v, i);
			found = has_nan(x);
			jv_free(x);
		}
		return found;
	default:
		return false;
	}
}

static void dump(struct buf *out, jv v)
{
	jv s = jv_dump_string(v, 0);
	buf_adds(out, jv_string_value(s));
	jv_free(s);
}

static enum expr_status eval_compound(struct expr *e,
				      const struct scan_record *rec,
				      const char **val, size_t *vlen,
				      char *err, size_t errlen)
{
	buf_reset(&e->out);
	buf_addc(&e->out, e->shape == SHAPE_OBJECT ? '{' : '[');
	for (size_t i = 0; i < e->nparts; i++) {
		const char *v, *why = NULL;
		size_t vn;
		if (i)
			buf_addc(&e->out, ',');
		if (e->keys) {
			buf_adds(&e->out, e->keys[i]);
			buf_addc(&e->out, ':');
		}
		if (e->aparts && e->aparts[i]) {
			enum arith_status as = arith_eval(e->aparts[i], rec,
							  &e->piece, err, errlen);
			if (as == ARITH_VALUE)
				buf_add(&e->out, e->piece.p, e->piece.len);
			if (as == ARITH_ERROR)
				return EXPR_ERROR;
			if (as == ARITH_OTHER)
				return EXPR_MISSING; /* to libjq: see expr_eval */
			continue;
		}
		switch (path_lookup_record(&e->parts[i], rec, &v, &vn, &why)) {
		case PATH_FOUND:
			buf_add(&e->out, v, vn);
			break;
		case PATH_MISSING: /* jq gives null */
			buf_adds(&e->out, "null");
			break;
		case PATH_TYPE_ERROR:
			snprintf(err, errlen, "%s", why);
			return EXPR_ERROR;
		}
	}
	buf_addc(&e->out, e->shape == SHAPE_OBJECT ? '}' : ']');
	*val = e->out.p;
	*vlen = e->out.len;
	return EXPR_VALUE;
}

/*
 * Does the number at p[0..n) survive libjq unchanged?  libjq parses it to
 * the nearest double and writes that back as the shortest text that
 * reads as the same double; the number is safe when that text has its
 * value.  15 significant digits always do (DBL_DIG), within the normal
 * range, which is nearly every number met; the rest are checked.
 */
static bool number_exact(const char *p, size_t n)
{
	size_t i = 0, digits = 0, lead = 0;
	long exp = 0;
	if (p[i] == '-')
		i++;
	bool nonzero = false;
	for (; i < n && p[i] >= '0' && p[i] <= '9'; i++) {
		if (p[i] != '0' || nonzero) {
			nonzero = true;
			digits++;
		}
		if (nonzero)
			lead++;
	}
	if (i < n && p[i] == '.')
		for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			if (p[i] != '0' || nonzero) {
				nonzero = true;
				digits++;
			}
	if (i < n && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		bool neg = i < n && p[i] == '-';
		if (i < n && (p[i] == '+' || p[i] == '-'))
			i++;
		for (; i < n && p[i] >= '0' && p[i] <= '9'; i++)
			if (exp < 100000)
				exp = exp * 10 + (p[i] - '0');
		if (neg)
			exp = -exp;
	}
	if (!nonzero)
		return true; /* zero, -0: exact */
	if (digits <= 15 && exp + (long)lead < 300 && exp + (long)lead > -300)
		return true;
	char tmp[64], txt[400];
	if (n >= sizeof txt)
		return false; /* more digits than a double has */
	memcpy(txt, p, n);
	txt[n] = '\0';
	double d = strtod(txt, NULL);
	if (d != d || d - d != 0)
		return false; /* out of range: inf */
	for (int prec = 1; prec <= 17; prec++) {
		int len = snprintf(tmp, sizeof tmp, "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			return value_number_compare(tmp, (size_t)len, p, n) ==
			       0;
	}
	return false;
}

/* The first number in the JSON text p[0..n) that libjq would change. */
static bool inexact_number(const char *p, size_t n, bool strings, char *num,
			   size_t numcap)
{
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (c == '"') {
			size_t a = i;
			for (i++; i < n && p[i] != '"'; i++)
				if (p[i] == '\\')
					i++;
			/* tonumber and fromjson make numbers of a string's
			 * text: its numbers are checked too */
			if (strings && i < n &&
			    scan_validate(p + a, i + 1 - a, NULL) == 0) {
				char *d = xmalloc(i + 1 - a);
				size_t dn = scan_string_decode(p + a, i + 1 - a, d);
				bool found = inexact_number(d, dn, true, num,
							    numcap);
				free(d);
				if (found)
					return true;
			}
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			size_t j = i;
			while (j < n && (p[j] == '-' || p[j] == '+' ||
					 p[j] == '.' || p[j] == 'e' ||
					 p[j] == 'E' || (p[j] >= '0' && p[j] <= '9')))
				j++;
			if (!number_exact(p + i, j - i)) {
				size_t k = j - i;
				snprintf(num, numcap, "%.*s%s",
					 (int)(k > 40 ? 40 : k), p + i,
					 k > 40 ? "..." : "");
				return true;
			}
			i = j - 1;
		}
	}
	return false;
}

/* Whether s[0..n) occurs in p[0..pn). */
static bool holds(const char *p, size_t pn, const char *s, size_t n)
{
	if (!p)
		return false; /* an empty buf */
	for (const char *q = p; n && (size_t)(p + pn - q) >= n; q++) {
		q = memchr(q, s[0], (size_t)(p + pn - q) - n + 1);
		if (!q)
			return false;
		if (!memcmp(q, s, n))
			return true;
	}
	return false;
}

/*
 * Whether the number t[0..n) carries a double's noise: more than 15
 * significant digits (DBL_DIG: every decimal of 15 survives a double),
 * as 0.1 + 0.2 gives 0.30000000000000004, unless it is an integer below
 * 2^53.
 */
static bool noisy(const char *t, size_t n)
{
	size_t sig = 0, zeros = 0;
	bool lead = true, integer = true;
	for (size_t i = 0; i < n; i++) {
		char c = t[i];
		if (c == 'e' || c == 'E')
			return sig > 15;
		if (c == '.')
			integer = false;
		if (c < '0' || c > '9' || (c == '0' && lead))
			continue;
		lead = false;
		if (c == '0') {
			zeros++;
		} else {
			sig += zeros + 1;
			zeros = 0;
		}
	}
	if (sig <= 15)
		return false;
	if (!integer || n > 17)
		return true;
	double v = strtod(t, NULL);
	return v >= 9007199254740992.0 || v <= -9007199254740992.0;
}

/*
 * A number libjq computed with a double's noise in its value p[0..n),
 * written as a number or as a string (tostring) -- unless the record or
 * the program holds it as written, a value passed through.  Its text in
 * num.
 */
static bool double_noise(const struct expr *e, const char *p, size_t n,
			 char *num, size_t numcap)
{
	for (size_t i = 0; i < n; i++) {
		size_t a = i, len;
		if (p[i] == '"') {
			for (i++; i < n && p[i] != '"'; i++)
				if (p[i] == '\\')
					i++;
			a++;
			len = i - a;
			if (!len || len != strspn(p + a, "-+.eE0123456789"))
				continue; /* not a number's text */
		} else if (p[i] == '-' || (p[i] >= '0' && p[i] <= '9')) {
			len = strspn(p + a, "-+.eE0123456789");
			i += len - 1;
		} else {
			continue;
		}
		if (exact_vouched_n(e, p + a, len))
			continue;
		snprintf(num, numcap, "%.*s", (int)(len > 40 ? 40 : len), p + a);
		return true;
	}
	return false;
}

enum expr_status expr_eval(struct expr *e, const struct scan_record *rec,
			   const char **val, size_t *vlen, char *err,
			   size_t errlen)
{
	size_t n = rec->n;
	e->count = e->shape == SHAPE_TUPLE ? e->nparts : 1;
	if (e->plain) {
		const char *why = NULL;
		switch (path_lookup_record(&e->path, rec, val, vlen, &why)) {
		case PATH_FOUND:
			return EXPR_VALUE;
		case PATH_MISSING:
			return EXPR_MISSING;
		case PATH_TYPE_ERROR:
			snprintf(err, errlen, "%s", why);
			return EXPR_ERROR;
		}
	}
	if (e->shape != SHAPE_JQ) {
		enum expr_status st = eval_compound(e, rec, val, vlen, err,
						    errlen);
		if (st != EXPR_MISSING)
			return st;
		/* an arith part met an operand that is no number: jq's */
	}
	if (e->arith) {
		switch (arith_eval(e->arith, rec, &e->out, err, errlen)) {
		case ARITH_VALUE:
			*val = e->out.p;
			*vlen = e->out.len;
			return EXPR_VALUE;
		case ARITH_ERROR:
			return EXPR_ERROR;
		case ARITH_OTHER: /* strings, objects...: jq's own rules */
			break;
		}
	}
	if (n > 0x7fffffff) {
		snprintf(err, errlen, "record too large for libjq");
		return EXPR_ERROR;
	}
	char bad[48];
	bool inexact = false;
	if (e->narrow) {
		for (size_t m = 0; !inexact && m < rec->nmembers; m++) {
			const struct scan_member *mb = &rec->members[m];
			if (mb->parent != SCAN_TOP)
				continue;
			for (size_t r = 0; r < e->nrefs; r++)
				if (scan_string_equals(rec->p + mb->key,
						       mb->key_len, e->refs[r],
						       strlen(e->refs[r]))) {
					inexact = inexact_number(
						rec->p + mb->val,
						mb->val_end - mb->val,
						e->strings, bad, sizeof bad);
					break;
				}
		}
	} else {
		inexact = inexact_number(rec->p, n, e->strings, bad,
					 sizeof bad);
	}
	if (inexact) {
		snprintf(err, errlen, "%s would be rounded by libjq, which "
			 "holds numbers as doubles; plain paths and arrays or "
			 "objects of them ([.a, .b], {a: .a}) keep every digit",
			 bad);
		return EXPR_ERROR;
	}
	jv input = jv_parse_sized(rec->p, (int)n);
	if (!jv_is_valid(input)) {
		jv msg = jv_invalid_get_msg(input);
		snprintf(err, errlen, "libjq: %s",
			 jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg)
							    : "cannot parse");
		jv_free(msg);
		return EXPR_ERROR;
	}
	e->exact_failed = false;
	jv_free(e->pending);
	e->pending = jv_invalid();
	e->rec = rec->p;
	e->rec_n = n;
	buf_reset(&e->vouched);
	jq_start(e->jq, input, 0);
	buf_reset(&e->out);
	size_t count = 0, first_end = 0;
	enum expr_status st = EXPR_VALUE;
	for (;;) {
		jv r = jq_next(e->jq);
		if (!jv_is_valid(r)) {
			if (jv_invalid_has_msg(jv_copy(r))) {
				jv msg = jv_invalid_get_msg(r);
				if (jv_get_kind(msg) == JV_KIND_STRING)
					snprintf(err, errlen, "%s",
						 jv_string_value(msg));
				else {
					jv s = jv_dump_string(jv_copy(msg), 0);
					snprintf(err, errlen, "%s (not a string)",
						 jv_string_value(s));
					jv_free(s);
				}
				jv_free(msg);
				st = EXPR_ERROR;
			} else {
				jv_free(r);
			}
			break;
		}
		if (has_nan(r)) {
			jv_free(r);
			snprintf(err, errlen, "a nan (not a number), which JSON "
				 "has no value for: libjq writes it as null, "
				 "another value");
			st = EXPR_ERROR;
			break;
		}
		if (count == 0) {
			dump(&e->out, r);
			first_end = e->out.len;
		} else {
			if (count == 1) {
				/* Several values: make them one array. */
				struct buf t = {0};
				buf_addc(&t, '[');
				buf_add(&t, e->out.p, first_end);
				buf_free(&e->out);
				e->out = t;
			}
			buf_addc(&e->out, ',');
			dump(&e->out, r);
		}
		count++;
	}
	if (e->exact_failed) {
		/* said even when the program caught it (try, ?, //): its
		 * value would be a double's guess */
		snprintf(err, errlen, "%s", e->exact_err);
		return EXPR_ERROR;
	}
	if (st == EXPR_ERROR)
		return st;
	if (count == 0)
		return EXPR_EMPTY;
	if (count > 1)
		buf_addc(&e->out, ']');
	if (double_noise(e, e->out.p, e->out.len, bad, sizeof bad)) {
		snprintf(err, errlen, "libjq computed %s in doubles, which "
			 "may not be the exact value (idem(7))", bad);
		return EXPR_ERROR;
	}
	e->count = count;
	*val = e->out.p;
	*vlen = e->out.len;
	return EXPR_VALUE;
}

size_t expr_count(const struct expr *e)
{
	return e->count;
}

enum expr_status expr_condition(struct expr *e, const struct scan_record *rec,
				const char **val, size_t *vlen, bool *holds,
				char *err, size_t errlen)
{
	*holds = false;
	enum expr_status st = expr_eval(e, rec, val, vlen, err, errlen);
	if (st != EXPR_VALUE)
		return st;
	if (e->count > 1) {
		snprintf(err, errlen, "gave %zu values; a condition gives one "
			 "(join them with and, or, any or all)", e->count);
		return EXPR_ERROR;
	}
	*holds = expr_truthy(*val, *vlen);
	return st;
}

bool expr_truthy(const char *v, size_t n)
{
	return !(n == 5 && memcmp(v, "false", 5) == 0) &&
	       !(n == 4 && memcmp(v, "null", 4) == 0);
}

const char *expr_failure(const struct expr *e, enum expr_status st,
			 const char *what, const char *err, char *msg,
			 size_t msglen)
{
	switch (st) {
	case EXPR_MISSING:
		snprintf(msg, msglen, "missing %s %s", what, e->src);
		return "missing_field";
	case EXPR_EMPTY:
		snprintf(msg, msglen, "%s %s produced no value", what, e->src);
		return "missing_field";
	default:
		snprintf(msg, msglen, "%s %s: %s", what, e->src, err);
		return e->plain ? "wrong_type" : "expression_error";
	}
}
