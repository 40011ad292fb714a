/*
 * scan: the validating JSON scanner and plain-path lookup.
 *
 * scan_validate() accepts exactly RFC 8259: one value, optional
 * surrounding whitespace, UTF-8 checked (no overlongs, no surrogates
 * encoded in UTF-8, nothing above U+10FFFF), escapes checked (a \u
 * surrogate must be a proper pair).  Nesting deeper than SCAN_MAX_DEPTH
 * is refused rather than risked.  It allocates nothing and does not
 * recurse.
 *
 * Everything else here assumes text that scan_validate() accepted and
 * walks it without checking again: that is what makes lookups cheap.
 *
 * A plain path is the jq subset `.`, `.a`, `.a.b`, `."x y"`, `.["x"]`,
 * `.a[0]`, `.[-1]`.  path_lookup() answers it on the raw bytes with
 * jq's semantics (the last duplicate member wins; a negative index counts
 * from the end), except that where jq would answer null because a member
 * or element is absent, or because an intermediate value is null, it
 * answers PATH_MISSING so that tools can tell "absent" from "null".
 */
#ifndef IDEM_SCAN_H
#define IDEM_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCAN_MAX_DEPTH 1024

struct scan_error {
	size_t offset;    /* byte offset of the problem in the text */
	const char *what; /* static text, e.g. "unterminated string" */
};

/* 0 when p[0..n) is one valid JSON text, else -1 with *err filled. */
int scan_validate(const char *p, size_t n, struct scan_error *err);

/*
 * A validated record.  When it is an object, its top-level members are
 * noted during validation, so looking up a top-level name costs a few
 * compares instead of a second pass over the text.  Reuse one struct
 * scan_record for every record: its member array is kept and grown.
 */
struct scan_member {
	size_t key;     /* offset of the name's opening quote */
	size_t key_len; /* the name literal's length, quotes included */
	size_t val;     /* offset of the value */
	size_t val_end; /* offset just past the value */
	size_t parent;  /* scan_record_nested(): the member whose value
			   holds this one's object, or SCAN_TOP */
};
#define SCAN_TOP ((size_t)-1)

struct scan_record {
	const char *p;
	size_t n;
	size_t start; /* offset of the value (after leading whitespace) */
	struct scan_member *members;
	size_t nmembers, cap;
};

/* scan_validate() that also fills r (which points into p). */
int scan_record(struct scan_record *r, const char *p, size_t n,
		struct scan_error *err);
/*
 * scan_record() that also notes the members of objects that are values
 * of top-level members (depth 2), each after its parent, so that a
 * reader of nested records (a Delta log action) needs no second walk.
 * Members are in text order; a top-level one has parent SCAN_TOP.
 */
int scan_record_nested(struct scan_record *r, const char *p, size_t n,
		       struct scan_error *err);
void scan_record_free(struct scan_record *r);

/*
 * A scan that also types the record as it validates (txlog's schema
 * check, in the same pass: lib/delta/schema.c's ds_typer makes one).
 * scan answers as scan_record() does, and *fits whether the record had
 * the shape (false for a line that is no JSON).
 */
struct scan_typer {
	int (*scan)(struct scan_record *r, const char *p, size_t n,
		    struct scan_error *err, void *ctx, bool *fits);
	void *ctx;
};


/* Index of the first non-whitespace byte at or after i. */
static inline size_t scan_ws(const char *p, size_t n, size_t i)
{
	/* inline: the walks over scanned text call it between every two
	 * tokens */
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' ||
			 p[i] == '\r'))
		i++;
	return i;
}

/* Index just past the (valid) value starting at p[i]. */
size_t scan_skip(const char *p, size_t n, size_t i);

/* JSON type of the valid value starting at p[0]: one of "null",
 * "boolean", "number", "string", "array", "object" (jq's names). */
const char *scan_type(const char *p);

/*
 * Decode the valid JSON string literal p[0..n) (quotes included) into
 * out (UTF-8, escapes resolved).  out needs at most n bytes.  Returns the
 * decoded length.
 */
size_t scan_string_decode(const char *p, size_t n, char *out);

/* True when the string literal p[0..n) (quotes included) decodes to
 * exactly name[0..name_len). */
bool scan_string_equals(const char *p, size_t n, const char *name,
			size_t name_len);

/*
 * Walking the members of an object on the raw text (scan_obj.c), for
 * code that reads known documents (the Delta log, its stats, a schema)
 * rather than records by path.  Valid JSON only, as everything here.
 */
struct scan_obj {
	const char *p;
	size_t n, i;
};
/* p[0..n) is an object; false when it is not. */
bool scan_obj_begin(struct scan_obj *o, const char *p, size_t n);
/* Next member: key is the string literal (quotes included). */
bool scan_obj_next(struct scan_obj *o, const char **key, size_t *klen,
		   const char **val, size_t *vlen);
/* Value of member name in object p[0..n) (the last one wins). */
bool scan_get(const char *p, size_t n, const char *name, const char **val,
	      size_t *vlen);
/* A string member decoded into a new NUL-terminated string, or NULL. */
char *scan_get_str(const char *p, size_t n, const char *name);
/* An integer literal that fits an int64 (no fraction, no exponent). */
bool scan_parse_i64(const char *v, size_t vn, int64_t *out);
/* An integer member; false when absent or not an integer. */
bool scan_get_i64(const char *p, size_t n, const char *name, int64_t *out);
/* Decode a JSON string literal into a new string. */
char *scan_strdup_lit(const char *lit, size_t n);
/* The same, with its decoded length in *len: a "\u0000" makes it more
 * than the strlen, and a name, pattern or time is used whole. */
char *scan_strdup_lit_len(const char *lit, size_t n, size_t *len);

enum path_step_kind { PATH_MEMBER, PATH_INDEX };

struct path_step {
	enum path_step_kind kind;
	char *name; /* PATH_MEMBER: decoded member name (owned) */
	size_t name_len;
	long long index; /* PATH_INDEX */
};

struct path {
	struct path_step *steps;
	size_t n; /* 0 means `.`, the whole value */
};

/* 0 when src is a plain path (then *out is filled and must be freed with
 * path_free), -1 when it is not (not an error: use libjq instead). */
int path_parse(const char *src, struct path *out);
void path_free(struct path *p);

enum path_result {
	PATH_FOUND,
	PATH_MISSING,   /* absent member/element, or null on the way */
	PATH_TYPE_ERROR /* jq would raise "Cannot index T with ..." */
};

/*
 * Look path up in the valid JSON text p[0..n).  PATH_FOUND: *val and
 * *vlen are the raw bytes of the value inside p.  PATH_TYPE_ERROR: *why
 * is the jq-style message (static storage, overwritten by the next call).
 */
enum path_result path_lookup(const struct path *path, const char *p,
			     size_t n, const char **val, size_t *vlen,
			     const char **why);

/* path_lookup() on a scanned record, using its member index. */
enum path_result path_lookup_record(const struct path *path,
				    const struct scan_record *r,
				    const char **val, size_t *vlen,
				    const char **why);

#endif
