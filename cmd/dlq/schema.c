/*
 * The JSON Schema subset of dlq check: type (a name or a list; "integer"
 * is a number without a fractional part), required, properties (nested),
 * enum, minimum, maximum, pattern (Oniguruma with Perl syntax, the
 * engine jq uses and close to JSON Schema's ECMA 262; unanchored); the
 * annotations that check nothing pass, any other keyword is refused.
 * The schema is read with libidem's own scanner, so its
 * numbers and enum values keep every digit, and each record is checked
 * on its raw bytes.
 */
#include <errno.h>
#include <oniguruma.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "badrec.h"
#include "cli.h"
#include "dlqtool.h"
#include "xalloc.h"

enum { T_NULL = 1, T_BOOL = 2, T_NUM = 4, T_INT = 8, T_STR = 16,
       T_ARR = 32, T_OBJ = 64 };

struct prop {
	struct path path; /* one member step */
	char *name;
	struct schema *s;
};

struct schema {
	unsigned types; /* 0: any */
	struct path *required;
	char **req_names;
	size_t nrequired;
	struct prop *props;
	size_t nprops;
	char **enums; /* JSON texts */
	size_t *enum_lens;
	size_t nenums;
	char *min, *max; /* number texts, or NULL */
	char *at;        /* where it applies: "" (the record), ".a.b" */
	size_t min_len, max_len;
	OnigRegex re;
	bool has_re;
	char *pattern;
	struct buf text; /* the top one: the file's JSON, for schema_copy */
};

static const struct { const char *name; unsigned bit; } type_names[] = {
	{"null", T_NULL}, {"boolean", T_BOOL}, {"number", T_NUM},
	{"integer", T_INT}, {"string", T_STR}, {"array", T_ARR},
	{"object", T_OBJ},
};

/* Call fn on each element of the array at p[i]. */
static void each_elem(const char *p, size_t n, size_t i,
		      void (*fn)(void *ctx, const char *v, size_t vl),
		      void *ctx)
{
	i = scan_ws(p, n, i + 1);
	while (i < n && p[i] != ']') {
		size_t e = scan_skip(p, n, i);
		fn(ctx, p + i, e - i);
		i = scan_ws(p, n, e);
		if (i < n && p[i] == ',')
			i = scan_ws(p, n, i + 1);
	}
}

static void member_path(struct path *path, const char *name, size_t len)
{
	path->n = 1;
	path->steps = xcalloc(1, sizeof *path->steps);
	path->steps[0].kind = PATH_MEMBER;
	path->steps[0].name = xmalloc(len + 1);
	memcpy(path->steps[0].name, name, len + 1);
	path->steps[0].name_len = len;
}

struct ctx {
	struct schema *s;
	const char *what;
	char *err;
	size_t errlen;
	int failed;
};

static void add_type(void *vc, const char *v, size_t vl)
{
	struct ctx *c = vc;
	const char *sep = *c->what ? ": " : "";
	if (c->failed)
		return; /* the first error is the one said */
	if (v[0] != '"') {
		c->failed = snprintf(c->err, c->errlen, "%s%stype: want a "
				     "name, not %s", c->what, sep,
				     scan_type(v)) > 0;
		return;
	}
	size_t len;
	char *name = scan_strdup_lit_len(v, vl, &len);
	static const char *const names[] = {"null", "boolean", "number",
					    "integer", "string", "array",
					    "object", NULL};
	for (size_t k = 0; k < sizeof type_names / sizeof *type_names; k++)
		if (strlen(name) == len && /* "string\u0000" is none */
		    !strcmp(name, type_names[k].name)) {
			c->s->types |= type_names[k].bit;
			free(name);
			return;
		}
	bool nul = strlen(name) != len;
	const char *near = nul ? NULL : cli_nearest(name, names);
	for (size_t k = 0; !nul && !near && strlen(name) >= 3 && names[k]; k++)
		if (!strncmp(names[k], name, strlen(name)))
			near = names[k]; /* int, bool, str: shortened */
	snprintf(c->err, c->errlen, "%s%stype: unknown type '%s%s'%s%s%s",
		 c->what, sep, name, nul ? "\\u0000..." : "",
		 near ? "; did you mean " : "", near ? near : "",
		 near ? "?" : "");
	c->failed = 1;
	free(name);
}

static void add_required(void *vc, const char *v, size_t vl)
{
	struct ctx *c = vc;
	struct schema *s = c->s;
	if (v[0] != '"') {
		if (!c->failed)
			c->failed = snprintf(c->err, c->errlen, "%s%s"
					     "required: want an array of member "
					     "names, not %s in it", c->what,
					     *c->what ? ": " : "",
					     scan_type(v)) > 0;
		return;
	}
	s->required = xreallocarray(s->required, s->nrequired + 1,
				    sizeof *s->required);
	s->req_names = xreallocarray(s->req_names, s->nrequired + 1,
				     sizeof *s->req_names);
	size_t len;
	s->req_names[s->nrequired] = scan_strdup_lit_len(v, vl, &len);
	member_path(&s->required[s->nrequired], s->req_names[s->nrequired],
		    len);
	s->nrequired++;
}

static void add_enum(void *vc, const char *v, size_t vl)
{
	struct schema *s = ((struct ctx *)vc)->s;
	s->enums = xreallocarray(s->enums, s->nenums + 1, sizeof *s->enums);
	s->enum_lens = xreallocarray(s->enum_lens, s->nenums + 1,
				     sizeof *s->enum_lens);
	s->enums[s->nenums] = xstrndup(v, vl);
	s->enum_lens[s->nenums++] = vl;
}

/* The keywords checked, and what each one's value must start with. */
static const char *const checked[] = {
	"type", "required", "properties", "enum", "minimum", "maximum",
	"pattern", NULL,
};
static const char *const checked_start[] = {
	"[\"", "[", "{", "[", "-0123456789", "-0123456789", "\"",
};
static const char *const checked_want[] = {
	"a type name or an array of them", "an array of member names",
	"an object", "an array", "a number", "a number", "a string",
};
/* Keywords that only describe (JSON Schema's annotations): no check is
 * lost by passing over them.  $defs and definitions hold schemas only a
 * $ref would use, and $ref is refused. */
static const char *const annotations[] = {
	"$schema", "$id", "$comment", "$defs", "definitions", "title",
	"description", "default", "examples", "deprecated", "readOnly",
	"writeOnly", NULL,
};

/* A keyword this subset checks, with a value of the right type, or one
 * that only describes: any other (maxLength, additionalProperties, a
 * misspelt required) would let pass a record the schema fails, so it is
 * refused, with err set.  first: the value's first byte. */
static bool keyword_usable(const char *key, char first, const char *at,
			   char *err, size_t errlen)
{
	const char *sep = *at ? ": " : "";
	for (size_t k = 0; annotations[k]; k++)
		if (!strcmp(key, annotations[k]))
			return true;
	for (size_t k = 0; checked[k]; k++) {
		if (strcmp(key, checked[k]))
			continue;
		if (first && strchr(checked_start[k], first))
			return true;
		snprintf(err, errlen, "%s%s%s: want %s, not %s", at, sep, key,
			 checked_want[k], scan_type(&first));
		return false;
	}
	const char *near = cli_nearest(key, checked);
	snprintf(err, errlen, "%s%s%s is not a keyword dlq check checks "
		 "(type, required, properties, enum, minimum, maximum, "
		 "pattern): a record it should fail would pass%s%s%s", at,
		 sep, key, near ? "; did you mean " : "", near ? near : "",
		 near ? "?" : "");
	return false;
}

static struct schema *compile(const char *p, size_t n, const char *at,
			      char *err, size_t errlen)
{
	struct scan_record r = {0};
	struct scan_error se;
	struct schema *s = xcalloc(1, sizeof *s);
	if (scan_record(&r, p, n, &se) != 0 || p[r.start] != '{') {
		snprintf(err, errlen, "%s%sa schema must be an object", at,
			 *at ? ": " : "");
		scan_record_free(&r);
		s->at = xstrdup(at);
		return s;
	}
	s->at = xstrdup(at);
	struct ctx c = {.s = s, .what = at, .err = err, .errlen = errlen};
	for (size_t m = 0; m < r.nmembers && !c.failed; m++) {
		size_t klen, olen;
		char *key = scan_strdup_lit_len(p + r.members[m].key,
						r.members[m].key_len, &klen);
		size_t v = r.members[m].val;
		size_t ve = scan_skip(p, n, v);
		bool twice = false; /* by name, not spelling: \u0074ype */
		for (size_t o = 0; o < m && !twice; o++) {
			char *ok = scan_strdup_lit_len(p + r.members[o].key,
						       r.members[o].key_len,
						       &olen);
			twice = olen == klen && !memcmp(ok, key, klen);
			free(ok);
		}
		if (strlen(key) != klen) {
			/* "type\u0000x" is no keyword, not type */
			snprintf(err, errlen, "%s%s%s\\u0000...: a name with a "
				 "NUL is not a keyword dlq check checks: a "
				 "record it should fail would pass", at,
				 *at ? ": " : "", key);
			c.failed = 1;
		} else if (twice) {
			/* JSON keeps the last; this subset would add them up */
			snprintf(err, errlen, "%s%s%s given twice: give it once",
				 at, *at ? ": " : "", key);
			c.failed = 1;
		} else if (!keyword_usable(key, p[v], at, err, errlen)) {
			c.failed = 1;
		} else if (!strcmp(key, "type")) {
			if (p[v] == '[')
				each_elem(p, n, v, add_type, &c);
			else
				add_type(&c, p + v, ve - v);
			if (!c.failed && !s->types) { /* 0 would be any */
				snprintf(err, errlen, "%s%stype: an empty list, "
					 "so no record could pass", at,
					 *at ? ": " : "");
				c.failed = 1;
			}
		} else if (!strcmp(key, "required") && p[v] == '[') {
			each_elem(p, n, v, add_required, &c);
		} else if (!strcmp(key, "enum") && p[v] == '[') {
			each_elem(p, n, v, add_enum, &c);
			if (!s->nenums) { /* no value is one of none */
				snprintf(err, errlen, "%s%senum: empty, so no "
					 "record could pass", at,
					 *at ? ": " : "");
				c.failed = 1;
			}
		} else if ((!strcmp(key, "minimum") || !strcmp(key, "maximum")) &&
			   (p[v] == '-' || (p[v] >= '0' && p[v] <= '9'))) {
			*(key[1] == 'i' ? &s->min : &s->max) =
				xstrndup(p + v, ve - v);
		} else if (!strcmp(key, "pattern") && p[v] == '"') {
			size_t len;
			s->pattern = scan_strdup_lit_len(p + v, ve - v, &len);
			OnigErrorInfo ei;
			const UChar *pat = (const UChar *)s->pattern;
			int rc = onig_new(&s->re, pat, pat + len,
					  ONIG_OPTION_CAPTURE_GROUP,
					  ONIG_ENCODING_UTF8, ONIG_SYNTAX_PERL,
					  &ei);
			if (rc != ONIG_NORMAL) {
				snprintf(err, errlen, "pattern '%s' is not a "
					 "valid regular expression", s->pattern);
				c.failed = 1;
			}
			s->has_re = rc == ONIG_NORMAL;
		} else if (!strcmp(key, "properties") && p[v] == '{') {
			struct scan_record pr = {0};
			scan_record(&pr, p + v, ve - v, &se);
			size_t first = s->nprops;
			for (size_t k = 0; k < pr.nmembers && !c.failed; k++) {
				const char *q = p + v;
				struct prop pp;
				size_t len;
				pp.name = scan_strdup_lit_len(q + pr.members[k].key,
						   pr.members[k].key_len, &len);
				member_path(&pp.path, pp.name, len);
				for (size_t o = first; o < s->nprops; o++)
					if (s->props[o].path.steps[0].name_len ==
						    len &&
					    !memcmp(s->props[o].name, pp.name,
						    len)) {
						snprintf(err, errlen, "%s.%s: "
							 "given twice in "
							 "properties: give it "
							 "once", at, pp.name);
						c.failed = 1;
					}
				size_t pv = pr.members[k].val;
				struct buf sub = {0};
				buf_addf(&sub, "%s.%s", at, pp.name);
				pp.s = compile(q + pv,
					       scan_skip(q, ve - v, pv) - pv,
					       sub.p, err, errlen);
				buf_free(&sub);
				if (err[0])
					c.failed = 1;
				s->props = xreallocarray(s->props,
							 s->nprops + 1,
							 sizeof *s->props);
				s->props[s->nprops++] = pp;
			}
			scan_record_free(&pr);
		}
		free(key);
	}
	scan_record_free(&r);
	s->min_len = s->min ? strlen(s->min) : 0;
	s->max_len = s->max ? strlen(s->max) : 0;
	return s; /* whole even when err says it is wrong: no leak */
}

struct schema *schema_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rbe"); /* close-on-exec */
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	struct buf b = {0};
	char chunk[8192];
	size_t r;
	while ((r = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, r);
	fclose(f);
	struct scan_error se;
	if (!b.p || scan_validate(b.p, b.len, &se) != 0) {
		snprintf(err, errlen, "%s: invalid JSON: %s", path,
			 b.p ? se.what : "empty file");
		buf_free(&b);
		return NULL;
	}
	char why[256] = "";
	struct schema *loaded = compile(b.p, b.len, "", why, sizeof why);
	loaded->text = b;
	if (why[0]) {
		snprintf(err, errlen, "%s: %s", path, why);
		schema_free(loaded);
		return NULL;
	}
	return loaded;
}

struct schema *schema_copy(const struct schema *s, char *err, size_t errlen)
{
	char why[256] = "";
	struct schema *c = compile(s->text.p, s->text.len, "", why,
				   sizeof why);
	if (why[0]) {
		snprintf(err, errlen, "schema: %s", why);
		schema_free(c);
		return NULL;
	}
	return c;
}

void schema_free(struct schema *s)
{
	if (!s)
		return;
	for (size_t k = 0; k < s->nrequired; k++) {
		path_free(&s->required[k]);
		free(s->req_names[k]);
	}
	free(s->required);
	free(s->req_names);
	for (size_t k = 0; k < s->nprops; k++) {
		path_free(&s->props[k].path);
		free(s->props[k].name);
		schema_free(s->props[k].s);
	}
	free(s->props);
	for (size_t k = 0; k < s->nenums; k++)
		free(s->enums[k]);
	free(s->enums);
	free(s->enum_lens);
	free(s->min);
	free(s->max);
	free(s->at);
	if (s->has_re)
		onig_free(s->re);
	free(s->pattern);
	buf_free(&s->text);
	free(s);
}

/* Whether the JSON number v[0..n) has no fractional part, by value: 1,
 * 1.0, 1e0, 1.5e1, 100e-2 and 1e400 are integers; 0.5 and 1e-1 are not.
 * Its significant digits, trailing zeros dropped, times ten to the
 * exponent left: an integer when that exponent is not negative. */
static bool is_integer(const char *v, size_t n)
{
	size_t i = v[0] == '-';
	int64_t exp10 = 0, trailing = 0;
	bool nonzero = false;
	for (bool frac = false; i < n && v[i] != 'e' && v[i] != 'E'; i++) {
		if (v[i] == '.') {
			frac = true;
			continue;
		}
		if (frac)
			exp10--;
		if (v[i] != '0') {
			nonzero = true;
			trailing = 0;
		} else {
			trailing++;
		}
	}
	if (!nonzero)
		return true; /* 0, -0.0, 0e-5 */
	exp10 += trailing;
	if (i < n) { /* the exponent, saturating: its sign decides past it */
		bool neg = v[++i] == '-';
		if (v[i] == '-' || v[i] == '+')
			i++;
		int64_t e = 0;
		for (; i < n; i++)
			e = e > INT64_MAX / 20 ? INT64_MAX / 2
					       : e * 10 + (v[i] - '0');
		exp10 += neg ? -e : e;
	}
	return exp10 >= 0;
}

static unsigned type_of(const char *v, size_t n)
{
	switch (v[0]) {
	case 'n': return T_NULL;
	case 't': case 'f': return T_BOOL;
	case '"': return T_STR;
	case '[': return T_ARR;
	case '{': return T_OBJ;
	default: return is_integer(v, n) ? T_NUM | T_INT : T_NUM;
	}
}

static void want_types(struct buf *msg, unsigned t)
{
	bool first = true;
	for (size_t k = 0; k < sizeof type_names / sizeof *type_names; k++)
		if (t & type_names[k].bit) {
			buf_adds(msg, first ? "" : " or ");
			buf_adds(msg, type_names[k].name);
			first = false;
		}
}

static void where(struct buf *msg, const char *at)
{
	buf_adds(msg, *at ? at : ".");
}

/* Check the value v[0..n) (valid JSON) at path `at` against s. */
static int check_value(const struct schema *s, const char *v, size_t n,
		       const struct scan_record *rec, const char **type,
		       struct buf *msg)
{
	const char *at = s->at;
	const char *val, *why;
	size_t vl;
	if (s->types) {
		unsigned t = type_of(v, n);
		if (!(t & s->types)) {
			*type = "wrong_type";
			where(msg, at);
			buf_addf(msg, " is %s, want ", scan_type(v));
			want_types(msg, s->types);
			return -1;
		}
	}
	if (v[0] == '{') {
		for (size_t k = 0; k < s->nrequired; k++) {
			enum path_result r = rec
				? path_lookup_record(&s->required[k], rec, &val,
						     &vl, &why)
				: path_lookup(&s->required[k], v, n, &val, &vl,
					      &why);
			if (r != PATH_FOUND) {
				*type = "missing_field";
				buf_addf(msg, "missing required member %s.%s",
					 at, s->req_names[k]);
				/* a member a typo away is named, as every
				 * tool names it for a missing key: of the
				 * record, or of the object below it that
				 * lacks it (scanned on this error path only) */
				char pool[4096];
				struct scan_record sub = {0};
				struct scan_error se;
				const struct scan_record *in = rec;
				if (!in && scan_record(&sub, v, n, &se) == 0)
					in = &sub;
				const char *near = in ? badrec_near_name(
					s->req_names[k], in, pool, sizeof pool)
					: NULL;
				if (near)
					buf_addf(msg, " (did you mean %s.%s?)",
						 at, near);
				scan_record_free(&sub);
				return -1;
			}
		}
		for (size_t k = 0; k < s->nprops; k++) {
			const struct prop *pp = &s->props[k];
			enum path_result r = rec
				? path_lookup_record(&pp->path, rec, &val, &vl,
						     &why)
				: path_lookup(&pp->path, v, n, &val, &vl, &why);
			if (r != PATH_FOUND)
				continue;
			int rc = check_value(pp->s, val, vl, NULL, type, msg);
			if (rc)
				return rc;
		}
	}
	if (s->nenums) {
		size_t k;
		for (k = 0; k < s->nenums; k++)
			if (value_compare_jq(v, n, s->enums[k],
					     s->enum_lens[k]) == 0)
				break;
		if (k == s->nenums) {
			*type = "schema_violation";
			where(msg, at);
			buf_adds(msg, ": ");
			buf_add(msg, v, n < 60 ? n : 60);
			buf_adds(msg, " is not one of the enum values");
			return -1;
		}
	}
	if (type_of(v, n) & T_NUM) {
		if (s->min && value_number_compare(v, n, s->min,
						   s->min_len) < 0) {
			*type = "schema_violation";
			where(msg, at);
			buf_addf(msg, ": %.*s is less than minimum %s",
				 (int)n, v, s->min);
			return -1;
		}
		if (s->max && value_number_compare(v, n, s->max,
						   s->max_len) > 0) {
			*type = "schema_violation";
			where(msg, at);
			buf_addf(msg, ": %.*s is greater than maximum %s",
				 (int)n, v, s->max);
			return -1;
		}
	}
	if (s->has_re && v[0] == '"') {
		size_t len;
		char *str = scan_strdup_lit_len(v, n, &len);
		const UChar *a = (const UChar *)str, *e = a + len;
		int rc = onig_search(s->re, a, e, a, e, NULL, ONIG_OPTION_NONE);
		free(str);
		if (rc < 0 && rc != ONIG_MISMATCH) {
			/* The engine gave up (its retry limit on a pattern
			 * that backtracks without end): no answer, which is
			 * not "does not match", as jq's test() says too. */
			UChar ew[ONIG_MAX_ERROR_MESSAGE_LEN];
			onig_error_code_to_str(ew, rc);
			*type = "expression_error";
			where(msg, at);
			buf_addf(msg, ": pattern %s could not be decided: %s",
				 s->pattern, (const char *)ew);
			return -1;
		}
		if (rc < 0) {
			*type = "schema_violation";
			where(msg, at);
			buf_addf(msg, ": does not match pattern %s", s->pattern);
			return -1;
		}
	}
	return 0;
}

int schema_check(const struct schema *s, const struct scan_record *rec,
		 const char **type, struct buf *msg)
{
	return check_value(s, rec->p + rec->start,
			   scan_skip(rec->p, rec->n, rec->start) - rec->start,
			   rec, type, msg);
}
