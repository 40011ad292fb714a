/*
 * delta/schema: the table schema of a Delta table, as the protocol's
 * schemaString spells it -- {"type":"struct","fields":[{"name":..,
 * "type":..,"nullable":..,"metadata":{}}]} with primitive types named by
 * a string ("string", "long", "integer", "short", "byte", "double",
 * "float", "decimal(P,S)", "boolean", "date", "timestamp",
 * "timestamp_ntz", "binary") and nested ones as objects ("struct",
 * "array" with elementType/containsNull, "map" with keyType/valueType/
 * valueContainsNull).
 *
 * What a JSON record must be to fit (ds_check):
 *   string, binary            a JSON string
 *   date                      a string YYYY-MM-DD
 *   timestamp(_ntz)           an RFC 3339 string
 *   long/integer/short/byte   an integer number within the type's range
 *   double/float/decimal      a number
 *   boolean                   true or false
 *   struct                    an object: no member outside the fields, no
 *                             non-nullable field absent or null
 *   array / map               an array / an object of fitting values;
 *                             a map's keys are strings (its keyType
 *                             must be string to take one), each once
 *
 * Evolution (ds_check with evolve set): an unknown member becomes a new
 * nullable field of the inferred type (an integer is inferred integer,
 * or long when it does not fit, or decimal(38,0) past 64 bits); an
 * integer column meeting a wider integer or a fraction widens (byte <
 * short < integer < long < double, or to decimal(38,0) for an integer
 * past 64 bits), but not to double once it took an integer no double
 * holds (9007199254740993: double has 53 bits), and a double or float
 * takes only a number it holds at the number's own digits (0.1, not
 * 9007199254740993);
 * ds_check_widening then refuses what Delta's typeWidening does not
 * allow (long to double).
 * Anything else -- another type, narrowing, renaming -- is refused.
 * An inferred type starts as DT_NULL ("no value seen yet") and is
 * written as "string" if it never sees one.
 */
#ifndef IDEM_DELTA_SCHEMA_H
#define IDEM_DELTA_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum dt_kind {
	DT_NULL, /* inferred, nothing seen yet */
	DT_BYTE, DT_SHORT, DT_INTEGER, DT_LONG, /* widening order */
	DT_FLOAT, DT_DOUBLE, DT_DECIMAL,
	DT_STRING, DT_BINARY, DT_BOOLEAN, DT_DATE, DT_TIMESTAMP,
	DT_TIMESTAMP_NTZ,
	DT_STRUCT, DT_ARRAY, DT_MAP,
	DT_OTHER /* a type this reader does not know: accepted as-is on
		  * read, refused on write */
};

struct ds_field;

struct ds_type {
	enum dt_kind kind;
	char *name; /* primitive: the protocol's name ("decimal(10,2)") */
	struct ds_field *fields; /* struct */
	size_t nfields, cap;
	struct ds_type *elem; /* array element, map value */
	bool contains_null;   /* array containsNull / map valueContainsNull */
	char *raw;            /* DT_OTHER: the type's JSON text */
	char *key;            /* map: keyType's JSON text, kept as given */
	/* A number type this write's evolution made (inferred or
	 * widened), not one read from the log, whose long may hold
	 * anything: inexact is the first integer it took that no double
	 * holds ("9007199254740993"), NULL while none.  Such a column
	 * does not become double (ds_check refuses the fraction): its
	 * integers would change. */
	bool inferred;
	char *inexact;
};

struct ds_field {
	char *name;
	size_t name_len;
	bool plain; /* name is its own JSON literal's text (no escapes) */
	struct ds_type *type;
	bool nullable;
	char *metadata; /* JSON text, "{}" by default */
};

/* Parse a schemaString (the decoded JSON text).  NULL with err. */
struct ds_type *ds_parse(const char *p, size_t n, char *err, size_t errlen);
/* An empty struct, for a table whose schema is inferred on first write. */
struct ds_type *ds_new_struct(void);
void ds_free(struct ds_type *t);
struct ds_type *ds_copy(const struct ds_type *t);
/* Append the compact schema JSON (the schemaString's content). */
void ds_write(struct buf *b, const struct ds_type *t);

/* Field of a struct by name, or NULL. */
struct ds_field *ds_field(const struct ds_type *t, const char *name,
			  size_t len);

/*
 * Check the valid JSON value p[0..n) against t.  evolve: extend or widen
 * t (then *changed is set) instead of refusing.  0 ok, -1 with a message
 * naming the column path in err.
 */
int ds_check(struct ds_type *t, const char *p, size_t n, bool evolve,
	     bool *changed, char *err, size_t errlen);

/*
 * ds_check of a scanned object record, faster: the top-level members
 * come from r (no second parse), found through m (zeroed at first, kept
 * from record to record, ds_memo_free at the end).  Same answers and
 * messages as ds_check on the record's text.
 */
struct scan_record;
struct ds_memo_entry {
	size_t field;    /* index in the struct's fields */
	struct buf lit;  /* the member name's raw literal it was found by */
};
struct ds_memo {
	struct ds_memo_entry *e;
	size_t cap;
	unsigned char *seen;
	size_t seencap;
};
int ds_check_record(struct ds_type *t, const struct scan_record *r,
		    bool evolve, bool *changed, struct ds_memo *m, char *err,
		    size_t errlen);
void ds_memo_free(struct ds_memo *m);
/*
 * True when r passes t as it is: nothing to add, widen or infer, no
 * fault.  t is only read, so threads may share it (each with its own m).
 * A record that conforms to t conforms to any widening of it, so a
 * thread may check against a copy of a schema that has since widened;
 * false says only "ask ds_check_record" (no message).
 */
bool ds_conforms(const struct ds_type *t, const struct scan_record *r,
		 struct ds_memo *m);

/*
 * ds_conforms in the scan's own pass: ds_typer_init(d, t, &ty) makes ty
 * a typer for scan_record_typed(), whose *fits is then ds_conforms' answer
 * for t, or false where the typer does not follow the record (a map,
 * an escaped name, a struct of more than 64 fields: ask ds_conforms).
 * t is only read; one d per thread.
 */
#define DS_TYPER_DEPTH 32
#define DS_TYPER_STRUCTS 16
struct ds_typer_frame {
	const struct ds_type *t;   /* the struct or array the level is in */
	const struct ds_type *exp; /* the type of the value being read */
	bool exp_nullable;
	uint64_t seen;             /* struct: fields met, by index */
	uint64_t req;              /* struct: fields that must be met */
	size_t next;               /* struct: the field expected next */
};
struct ds_typer_req {
	const struct ds_type *t;
	uint64_t mask;
};
struct ds_typer {
	const struct ds_type *root;
	struct ds_typer_frame fr[DS_TYPER_DEPTH + 1];
	struct ds_typer_req req[DS_TYPER_STRUCTS]; /* required fields */
	size_t nreq;
};
struct scan_typer;
void ds_typer_init(struct ds_typer *d, const struct ds_type *t,
		   struct scan_typer *ty);

/* True when type t is primitive (a partition column must be). */
bool ds_primitive(const struct ds_type *t);
/* True when the type is an integer or floating kind. */
bool ds_numeric(const struct ds_type *t);
/* Does the decoded time text s[0..n) say a wall-clock time a
 * timestamp_ntz can hold: no zone, Z or a zero offset?  (An offset
 * names an instant whose wall-clock time is another's guess.) */
bool ds_ntz_zone_ok(const char *s, size_t n);
/* Is the instant of sec seconds since the epoch in the years 0000 to
 * 9999 UTC, which a timestamp column holds? */
bool ds_timestamp_in_range(int64_t sec);
/* Replace every DT_NULL left by inference with "string". */
void ds_settle(struct ds_type *t);

/*
 * Record in evolved what ds_check widened since old, as the protocol's
 * typeWidening feature asks: each field whose type (or array element or
 * map value type, named by fieldPath) became wider gets a
 * {"fromType","toType"} entry appended to the delta.typeChanges list of
 * its metadata.  True when there was one: the commit must then declare
 * the feature (see dl_protocol_action) and delta.enableTypeWidening.
 */
bool ds_note_widening(const struct ds_type *old, struct ds_type *evolved);
/* Whether the typeWidening feature allows the change from -> to (type
 * names as the protocol spells them): integer kinds to wider ones,
 * float to double, byte/short/integer to double, date to
 * timestamp_ntz, a decimal to a wider one, an integer to a decimal
 * with room for its digits. */
bool ds_widening_allowed(const char *from, const char *to);
/* 0, or -1 with err naming the first column whose type changed from
 * old to evolved in a way ds_widening_allowed refuses. */
int ds_check_widening(const struct ds_type *old, const struct ds_type *evolved,
		      char *err, size_t errlen);

#endif
