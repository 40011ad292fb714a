#include "delta/protocol.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "errbuf.h"
#include "jsonw.h"
#include "scan.h"

/* Reader features txlog honours: v2Checkpoint (JSON V2 checkpoints are
 * read; sidecars are refused where met), typeWidening (the changes are
 * checked below), timestampNtz (a type it reads as text),
 * vacuumProtocolCheck (vacuum is a write and checks the writer side),
 * columnMapping (only in mode none: see dl_check_snapshot). */
static const char *const read_features[] = {
	"v2Checkpoint", "typeWidening", "timestampNtz", "vacuumProtocolCheck",
	"columnMapping", NULL,
};

static bool in_list(const char *s, size_t n, const char *const *l)
{
	for (; *l; l++)
		if (strlen(*l) == n && memcmp(*l, s, n) == 0)
			return true;
	return false;
}

/* Whether the JSON array of strings a[0..an) holds name. */
static bool array_has(const char *a, size_t an, const char *name)
{
	if (!an || a[0] != '[')
		return false;
	size_t i = scan_ws(a, an, 1), nl = strlen(name);
	while (i < an && a[i] == '"') {
		size_t e = scan_skip(a, an, i);
		if (scan_string_equals(a + i, e - i, name, nl))
			return true;
		i = scan_ws(a, an, e);
		if (i < an && a[i] == ',')
			i = scan_ws(a, an, i + 1);
	}
	return false;
}

bool dl_has_feature(const struct dl_snapshot *s, const char *member,
		    const char *feature)
{
	const char *v;
	size_t vn;
	return s->protocol &&
	       scan_get(s->protocol, strlen(s->protocol), member, &v, &vn) &&
	       array_has(v, vn, feature);
}

char *dl_config(const struct dl_snapshot *s, const char *key)
{
	const char *cf;
	size_t cn;
	if (!s->metadata ||
	    !scan_get(s->metadata, strlen(s->metadata), "configuration", &cf, &cn))
		return NULL;
	return scan_get_str(cf, cn, key);
}

bool dl_config_true(const struct dl_snapshot *s, const char *key)
{
	char *v = dl_config(s, key);
	bool t = v && strcasecmp(v, "true") == 0;
	free(v);
	return t;
}

static const struct {
	const char *unit;
	int64_t us;
} interval_units[] = {
	{"week", 7LL * 86400 * 1000000}, {"day", 86400LL * 1000000},
	{"hour", 3600LL * 1000000},      {"minute", 60LL * 1000000},
	{"second", 1000000},             {"millisecond", 1000},
	{"microsecond", 1},
};

/* "[interval] N unit [N unit]..." in microseconds; -1 if not that. */
static int interval_parse(const char *s, int64_t *us)
{
	int64_t total = 0;
	int parts = 0;
	while (*s == ' ')
		s++;
	if (strncasecmp(s, "interval", 8) == 0 && (s[8] == ' ' || !s[8]))
		s += 8;
	for (;;) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		if (*s < '0' || *s > '9')
			return -1;
		int64_t n = 0;
		for (; *s >= '0' && *s <= '9'; s++) {
			if (n > (INT64_MAX - 9) / 10)
				return -1;
			n = n * 10 + (*s - '0');
		}
		while (*s == ' ')
			s++;
		size_t len = 0;
		while (s[len] && s[len] != ' ')
			len++;
		size_t base = len && (s[len - 1] == 's' || s[len - 1] == 'S')
				      ? len - 1
				      : len;
		size_t u = 0, nu = sizeof interval_units / sizeof *interval_units;
		while (u < nu && !(strlen(interval_units[u].unit) == base &&
				   strncasecmp(s, interval_units[u].unit, base) == 0))
			u++;
		if (u == nu || n > (INT64_MAX - total) / interval_units[u].us)
			return -1;
		total += n * interval_units[u].us;
		s += len;
		parts++;
	}
	if (!parts)
		return -1;
	*us = total;
	return 0;
}

int dl_config_interval(const struct dl_snapshot *s, const char *key,
		       int64_t *ms)
{
	char *v = dl_config(s, key);
	if (!v)
		return 1;
	int64_t us;
	int rc = interval_parse(v, &us);
	free(v);
	if (rc == 0)
		*ms = us / 1000;
	return rc;
}

/* The table settings txlog reads, each by the syntax Delta gives it
 * (Spark's toBoolean, toInt, toLong): one that does not parse is
 * refused, never read as something near it ("10x" as 10, "yes" as
 * not true, so that a table its owner made append-only took deletes).
 * The retention intervals are here only for a \u0000, which would cut
 * the C string short: each verb that reads one says what it does when
 * it cannot parse it (see dl_config_interval's callers). */
static const struct {
	const char *key;
	char kind; /* b: true or false, i: a positive integer that is an
		    * Int (at most 2^31-1), n: >= 0, s: any string without
		    * a \u0000 to cut it short */
} settings[] = {
	{"delta.appendOnly", 'b'},
	{"delta.enableChangeDataFeed", 'b'},
	{"delta.enableDeletionVectors", 'b'},
	{"delta.enableExpiredLogCleanup", 'b'},
	{"delta.enableInCommitTimestamps", 'b'},
	{"delta.enableRowTracking", 'b'},
	{"delta.enableTypeWidening", 'b'},
	{"delta.checkpoint.writeStatsAsJson", 'b'},
	{"delta.checkpoint.writeStatsAsStruct", 'b'},
	/* Delta's DeltaConfigs reads it with toInt: 3000000000 is no
	 * interval to Delta, and not one every 3e9 commits here */
	{"delta.checkpointInterval", 'i'},
	{"delta.inCommitTimestampEnablementVersion", 'n'},
	{"delta.columnMapping.mode", 's'},
	{"delta.deletedFileRetentionDuration", 's'},
	{"delta.logRetentionDuration", 's'},
};

static int check_settings(const struct dl_snapshot *s, char *err,
			  size_t errlen)
{
	const char *cf, *lit;
	size_t cn, ln, len = 0;
	if (!scan_get(s->metadata, strlen(s->metadata), "configuration", &cf,
		      &cn))
		return 0;
	for (size_t i = 0; i < sizeof settings / sizeof *settings; i++) {
		/* by its bytes: "true\u0000x" is not true */
		char *v = scan_get(cf, cn, settings[i].key, &lit, &ln)
				  ? scan_strdup_lit_len(lit, ln, &len)
				  : NULL;
		int64_t n;
		bool ok = !v;
		char kind = settings[i].kind;
		if (v && strlen(v) == len && kind == 'b')
			ok = !strcasecmp(v, "true") || !strcasecmp(v, "false");
		else if (v && strlen(v) == len)
			ok = kind == 's' || (dl_setting_long(v, &n) &&
					     (kind == 'n' || n > 0) &&
					     (kind != 'i' || n <= 2147483647));
		if (!ok) {
			errbuf_set(err, errlen, "%s: metaData configuration "
				"%s is %.*s, not %s; refusing", s->table,
				settings[i].key, ln > 40 ? 40 : (int)ln, lit,
				kind == 'b'   ? "true or false"
				: kind == 'i' ? "a positive integer up to "
						"2147483647 (an Int)"
				: kind == 'n' ? "a version (an integer from 0)"
					      : "a string without \\u0000");
			free(v);
			return -1;
		}
		free(v);
	}
	return 0;
}

int64_t dl_tombstone_retention_ms(const struct dl_snapshot *s)
{
	int64_t ms = 7LL * 86400 * 1000;
	if (dl_config_interval(s, "delta.deletedFileRetentionDuration", &ms) < 0)
		return INT64_MAX;
	return ms;
}

static bool config_is(const struct dl_snapshot *s, const char *key,
		      const char *want)
{
	char *v = dl_config(s, key);
	bool t = v && strcasecmp(v, want) == 0;
	free(v);
	return t;
}

void dl_versions(const struct dl_snapshot *s, int64_t *r, int64_t *w)
{
	*r = *w = -1;
	if (!s->protocol)
		return;
	size_t n = strlen(s->protocol);
	if (!scan_get_i64(s->protocol, n, "minReaderVersion", r))
		*r = -1;
	if (!scan_get_i64(s->protocol, n, "minWriterVersion", w))
		*w = -1;
}

bool dl_widening_allowed(const char *from, const char *to)
{
	return ds_widening_allowed(from, to);
}

/* Every delta.typeChanges entry of t (nested fields too) allowed. */
static int check_type_changes(const struct ds_type *t, const char *table,
			      char *err, size_t errlen)
{
	if (!t)
		return 0;
	if (t->kind == DT_ARRAY || t->kind == DT_MAP)
		return check_type_changes(t->elem, table, err, errlen);
	if (t->kind != DT_STRUCT)
		return 0;
	for (size_t i = 0; i < t->nfields; i++) {
		const struct ds_field *f = &t->fields[i];
		const char *tc;
		size_t tn;
		if (f->metadata &&
		    scan_get(f->metadata, strlen(f->metadata),
			     "delta.typeChanges", &tc, &tn) &&
		    tc[0] == '[') {
			size_t j = scan_ws(tc, tn, 1);
			while (j < tn && tc[j] == '{') {
				size_t e = scan_skip(tc, tn, j);
				char *from = scan_get_str(tc + j, e - j,
							  "fromType");
				char *to = scan_get_str(tc + j, e - j, "toType");
				bool ok = from && to &&
					  dl_widening_allowed(from, to);
				if (!ok)
					errbuf_set(err, errlen,
						"%s: column %s: type change "
						"%s -> %s (delta.typeChanges) "
						"is not one the typeWidening "
						"feature allows; refusing to "
						"read", table, f->name,
						from ? from : "?",
						to ? to : "?");
				free(from);
				free(to);
				if (!ok)
					return -1;
				j = scan_ws(tc, tn, e);
				if (j < tn && tc[j] == ',')
					j = scan_ws(tc, tn, j + 1);
			}
		}
		if (check_type_changes(f->type, table, err, errlen))
			return -1;
	}
	return 0;
}

/*
 * What every verb needs before it trusts a snapshot: the protocol and
 * metaData a Delta log must have (PROTOCOL.md: "The first version of a
 * table must contain a metaData action"; a snapshot consists of "A
 * single protocol action" and "A single metaData action"), a reader
 * version and reader features txlog implements ("to read a table,
 * readers must implement and respect all features listed in
 * readerFeatures"), a schema it can parse, and type changes it can
 * honour.  One message naming the reason.
 */
/* Is the JSON value p[0..n) an array of strings only? */
static bool string_array(const char *p, size_t n)
{
	if (n == 0 || p[0] != '[')
		return false;
	size_t i = scan_ws(p, n, 1);
	if (i < n && p[i] == ']')
		return true;
	while (i < n && p[i] == '"') {
		i = scan_ws(p, n, scan_skip(p, n, i));
		if (i < n && p[i] == ']')
			return true;
		if (i >= n || p[i] != ',')
			return false;
		i = scan_ws(p, n, i + 1);
	}
	return false;
}

int dl_check_snapshot(const struct dl_snapshot *s, char *err,
		      size_t errlen)
{
	if (!s->protocol || !s->metadata) {
		errbuf_set(err, errlen, "%s: the log up to version %lld has no %s "
			"action; not a Delta table txlog can read", s->table,
			(long long)s->version,
			s->protocol ? "metaData" : "protocol");
		return -1;
	}
	int64_t r, w;
	dl_versions(s, &r, &w);
	const char *pv;
	size_t pvn;
	if (r == -1 || w == -1) {
		/* "1", 1.0 or nothing: no version to compare, and not the
		 * reader version -1 it would be reported as */
		const char *m = r == -1 ? "minReaderVersion" : "minWriterVersion";
		bool has = scan_get(s->protocol, strlen(s->protocol), m, &pv,
				    &pvn);
		errbuf_set(err, errlen, "%s: the protocol's %s is %s%.*s%s; "
			"refusing", s->table, m,
			has ? "" : "missing", has ? (pvn > 40 ? 40 : (int)pvn) : 0,
			has ? pv : "", has ? ", not a whole number" : "");
		return -1;
	}
	if (r < 1 || r > 3) {
		errbuf_set(err, errlen, "%s: reader version %lld is not supported "
			"(txlog reads protocol reader versions 1 to 3); "
			"refusing", s->table, (long long)r);
		return -1;
	}
	if (w < 1) {
		errbuf_set(err, errlen, "%s: the protocol has no minWriterVersion; "
			"refusing", s->table);
		return -1;
	}
	const char *rf = NULL, *wf = NULL;
	size_t rfn = 0, wfn = 0;
	size_t pn = strlen(s->protocol);
	bool has_rf = scan_get(s->protocol, pn, "readerFeatures", &rf, &rfn) &&
		      rf[0] == '[';
	bool has_wf = scan_get(s->protocol, pn, "writerFeatures", &wf, &wfn) &&
		      wf[0] == '[';
	/* "When the table's Reader Version is 3, readerFeatures must exist
	 * in the protocol action, and when the Writer Version is 7,
	 * writerFeatures must exist"; "Creating a table with a Reader
	 * Version 3 and Writer Version less than 7 is not allowed." */
	if ((r == 3 && (!has_rf || w != 7)) || (w == 7 && !has_wf)) {
		errbuf_set(err, errlen, "%s: protocol (reader %lld, writer %lld) "
			"is not a valid table-features protocol: %s; refusing",
			s->table, (long long)r, (long long)w,
			r == 3 && w != 7 ? "reader version 3 needs writer "
			"version 7" : "the features list is missing");
		return -1;
	}
	/* "Table features must only exist on tables that have a supported
	 * protocol version": a table on Reader Version 1 or 2 lists its
	 * features in writerFeatures only; and "It is not allowed to list a
	 * feature only in readerFeatures but not in writerFeatures" (as
	 * delta-kernel refuses both) */
	if (r != 3 && has_rf) {
		errbuf_set(err, errlen, "%s: protocol (reader %lld, writer %lld) "
			"is not a valid table-features protocol: readerFeatures "
			"with reader version %lld (only 3 has them); refusing",
			s->table, (long long)r, (long long)w, (long long)r);
		return -1;
	}
	if (r == 3 && string_array(rf, rfn) && string_array(wf, wfn)) {
		size_t i = scan_ws(rf, rfn, 1);
		while (i < rfn && rf[i] == '"') {
			size_t e = scan_skip(rf, rfn, i);
			char *f = scan_strdup_lit(rf + i, e - i);
			if (!array_has(wf, wfn, f)) {
				errbuf_set(err, errlen, "%s: protocol (reader "
					"%lld, writer %lld) is not a valid "
					"table-features protocol: reader "
					"feature '%s' is not in writerFeatures; "
					"refusing", s->table, (long long)r,
					(long long)w, f);
				free(f);
				return -1;
			}
			free(f);
			i = scan_ws(rf, rfn, e);
			if (i < rfn && rf[i] == ',')
				i = scan_ws(rf, rfn, i + 1);
		}
	}
	/* a list with anything but names in it ([null, "rowTracking"]) is
	 * no list of features: read up to the first non-name, the
	 * features after it would go unseen, and unrefused */
	if ((r == 3 && !string_array(rf, rfn)) ||
	    (w == 7 && !string_array(wf, wfn))) {
		errbuf_set(err, errlen, "%s: the protocol's %s is not an array "
			"of feature names; refusing", s->table,
			r == 3 && !string_array(rf, rfn) ? "readerFeatures"
							 : "writerFeatures");
		return -1;
	}
	if (r == 3) {
		size_t i = scan_ws(rf, rfn, 1);
		while (i < rfn && rf[i] == '"') {
			size_t e = scan_skip(rf, rfn, i);
			char *f = scan_strdup_lit(rf + i, e - i);
			if (!in_list(f, strlen(f), read_features)) {
				errbuf_set(err, errlen, "%s: table feature '%s' "
					"is not supported for reading",
					s->table, f);
				free(f);
				return -1;
			}
			free(f);
			i = scan_ws(rf, rfn, e);
			if (i < rfn && rf[i] == ',')
				i = scan_ws(rf, rfn, i + 1);
		}
	}
	/* "If the table is on Reader Version 2, or if the table is on
	 * Reader Version 3 and the feature columnMapping is present in
	 * readerFeatures, readers and writers must read the table property
	 * delta.columnMapping.mode": data files would carry physical names
	 * txlog does not map, so only mode none is read. */
	if (r == 2 || (r == 3 && array_has(rf, rfn, "columnMapping"))) {
		char *mode = dl_config(s, "delta.columnMapping.mode");
		if (mode && strcmp(mode, "none") != 0) {
			errbuf_set(err, errlen, "%s: column mapping mode '%s' is "
				"not supported (txlog does not map physical "
				"column names); refusing", s->table, mode);
			free(mode);
			return -1;
		}
		free(mode);
	}
	if (!s->schema) {
		char e[256] = "no schemaString";
		char *ss = scan_get_str(s->metadata, strlen(s->metadata),
					"schemaString");
		if (ss) {
			struct ds_type *t = ds_parse(ss, strlen(ss), e, sizeof e);
			ds_free(t);
			free(ss);
		}
		errbuf_set(err, errlen, "%s: metaData has no readable schema (%s); "
			"refusing", s->table, e);
		return -1;
	}
	if (check_type_changes(s->schema, s->table, err, errlen))
		return -1;
	/* PROTOCOL.md's metaData: id ("Unique identifier for this table")
	 * and format (its provider) are required, as delta-kernel and
	 * Spark read them: without them it is not a table's metaData */
	const char *mid, *fmt, *prov;
	size_t midn, fmtn, provn;
	size_t mn = strlen(s->metadata);
	bool has_id = scan_get(s->metadata, mn, "id", &mid, &midn) &&
		      mid[0] == '"';
	if (!has_id || !scan_get(s->metadata, mn, "format", &fmt, &fmtn) ||
	    fmt[0] != '{' || !scan_get(fmt, fmtn, "provider", &prov, &provn) ||
	    prov[0] != '"') {
		errbuf_set(err, errlen, "%s: metaData has no %s, which the "
			"protocol requires; refusing", s->table,
			has_id ? "format with a provider (a string)"
			       : "id (a string)");
		return -1;
	}
	/* PROTOCOL.md: partitionColumns is a required field of metaData,
	 * an array of column names; without it, or with anything but
	 * names in it, which columns partition the files is not known */
	const char *pcols;
	size_t pcn;
	if (!scan_get(s->metadata, strlen(s->metadata), "partitionColumns",
		      &pcols, &pcn) || !string_array(pcols, pcn)) {
		errbuf_set(err, errlen, "%s: metaData has no partitionColumns "
			"array of column names, which the protocol requires; "
			"refusing", s->table);
		return -1;
	}
	/* configuration is a Map[String, String] (null: none): a value of
	 * another type ("delta.appendOnly": true) is what Spark reads as
	 * the string, and what a string lookup here would miss, so that a
	 * table its owner made append-only would take deletes */
	const char *cf, *ck, *cv;
	size_t cfn, ckn, cvn;
	struct scan_obj co;
	if (scan_get(s->metadata, strlen(s->metadata), "configuration", &cf,
		     &cfn) && cf[0] != 'n') {
		if (!scan_obj_begin(&co, cf, cfn)) {
			errbuf_set(err, errlen, "%s: metaData configuration is "
				"not an object of strings; refusing", s->table);
			return -1;
		}
		while (scan_obj_next(&co, &ck, &ckn, &cv, &cvn))
			if (cv[0] != '"') {
				char *k = scan_strdup_lit(ck, ckn);
				errbuf_set(err, errlen, "%s: metaData configuration "
					"%s is %.*s, not a string (the protocol's "
					"configuration is a map of strings); "
					"refusing", s->table, k,
					cvn > 40 ? 40 : (int)cvn, cv);
				free(k);
				return -1;
			}
	}
	if (check_settings(s, err, errlen))
		return -1;
	/* partitionColumns name "columns by which the data should be
	 * partitioned": a name the schema lacks has no type to read its
	 * values by, and a struct has no partition value (a schema with
	 * no column at all is an --infer table of an older txlog before
	 * its first write, which declares them) */
	for (size_t i = 0; s->schema->nfields && i < s->npart; i++) {
		const char *c = s->part_cols[i];
		const struct ds_field *f = ds_field(s->schema, c, strlen(c));
		if (!f || !ds_primitive(f->type)) {
			errbuf_set(err, errlen, "%s: partition column '%s' is %s "
				"of the schema; refusing", s->table, c,
				f ? "not a primitive column" : "not a column");
			return -1;
		}
	}
	return 0;
}

int dl_check_partition_values(const struct dl_snapshot *s, char *err,
			      size_t errlen)
{
	/* "Values for all partition columns present in the schema MUST
	 * be present for all files in the table": a file without one was
	 * read as null, its rows then matching neither p = null (by their
	 * own column) nor p = "a" (by the file's); one naming a column
	 * that is no partition column has values of another layout */
	for (size_t i = 0; i < s->nfiles; i++) {
		const struct dl_file *f = &s->files[i];
		if (!f->live)
			continue;
		for (size_t c = 0; c < s->npart; c++) {
			size_t k = 0;
			while (k < f->npv &&
			       strcmp(f->pv[k].name, s->part_cols[c]) != 0)
				k++;
			if (k == f->npv) {
				errbuf_set(err, errlen, "%s: version %lld: %s "
					"has no partition value for %s, which "
					"every file must have; refusing",
					s->table, (long long)f->version,
					f->path, s->part_cols[c]);
				return -1;
			}
		}
		if (f->npv > s->npart) {
			errbuf_set(err, errlen, "%s: version %lld: %s has "
				"partition values for columns that are not "
				"the table's partition columns; refusing",
				s->table, (long long)f->version, f->path);
			return -1;
		}
	}
	return 0;
}

/* ---- protocol ---- */


/*
 * Writer features (writer version 7) txlog can write under: each either
 * needs nothing of a writer that never uses it (v2Checkpoint,
 * timestampNtz, vacuumProtocolCheck, domainMetadata: domains are kept
 * through checkpoints), is honoured (typeWidening, appendOnly), or is
 * refused below only when active.  The legacy writer versions 2 to 6
 * imply the features of PROTOCOL.md's Writer Version Requirements
 * table, checked the same way.
 */
static const char *const write_features[] = {
	"v2Checkpoint", "typeWidening", "timestampNtz", "vacuumProtocolCheck",
	"domainMetadata", "appendOnly", "invariants", "checkConstraints",
	"generatedColumns", "changeDataFeed", "identityColumns",
	"columnMapping", "inCommitTimestamp", NULL,
};

/* Whether the key literal k[0..kn) starts with prefix once decoded: a
 * key is its meaning, "delta\u002einvariants" is delta.invariants. */
static bool key_has_prefix(const char *k, size_t kn, const char *prefix)
{
	size_t len, pl = strlen(prefix);
	char *d = scan_strdup_lit_len(k, kn, &len);
	bool has = len >= pl && memcmp(d, prefix, pl) == 0;
	free(d);
	return has;
}

/* The first column (nested ones too) whose metadata has a key starting
 * with prefix, or NULL. */
static const char *meta_key(const struct ds_type *t, const char *prefix)
{
	if (!t)
		return NULL;
	if (t->kind == DT_ARRAY || t->kind == DT_MAP)
		return meta_key(t->elem, prefix);
	if (t->kind != DT_STRUCT)
		return NULL;
	for (size_t i = 0; i < t->nfields; i++) {
		const struct ds_field *f = &t->fields[i];
		struct scan_obj o;
		const char *k, *v;
		size_t kn, vn;
		if (f->metadata &&
		    scan_obj_begin(&o, f->metadata, strlen(f->metadata)))
			while (scan_obj_next(&o, &k, &kn, &v, &vn))
				if (key_has_prefix(k, kn, prefix))
					return f->name;
		const char *in = meta_key(f->type, prefix);
		if (in)
			return in;
	}
	return NULL;
}

/* Whether the configuration has a key starting with prefix. */
static bool config_prefix(const struct dl_snapshot *s, const char *prefix)
{
	const char *cf, *k, *v;
	size_t cn, kn, vn;
	struct scan_obj o;
	if (!s->metadata ||
	    !scan_get(s->metadata, strlen(s->metadata), "configuration", &cf,
		      &cn) ||
	    !scan_obj_begin(&o, cf, cn))
		return false;
	while (scan_obj_next(&o, &k, &kn, &v, &vn))
		if (key_has_prefix(k, kn, prefix))
			return true;
	return false;
}

static bool uses_kind(const struct ds_type *t, enum dt_kind k);

/* Feature name is supported by the table: listed (writer version 7) or
 * implied by a legacy writer version at or above since (0: never). */
static bool supports(const struct dl_snapshot *s, int64_t w,
		     const char *name, int since)
{
	if (w == 7)
		return dl_has_feature(s, "writerFeatures", name);
	return since && w >= since;
}

bool dl_append_only(const struct dl_snapshot *s)
{
	int64_t r, w;
	dl_versions(s, &r, &w);
	/* "The table must be on a Writer Version starting from 2 up to 7
	 * ... The table property delta.appendOnly must be set to true." */
	return supports(s, w, "appendOnly", 2) &&
	       dl_config_true(s, "delta.appendOnly");
}

int dl_can_read(const struct dl_snapshot *s, char *err, size_t errlen)
{
	if (dl_check_snapshot(s, err, errlen))
		return -1;
	if (!s->provider || strcmp(s->provider, "json") != 0) {
		errbuf_set(err, errlen,
			"%s: data files are in format '%s'; txlog reads only "
			"its own NDJSON+zstd data files (no Parquet)", s->table,
			s->provider ? s->provider : "?");
		return -1;
	}
	return 0;
}

int dl_can_write(const struct dl_snapshot *s, char *err, size_t errlen)
{
	if (dl_can_read(s, err, errlen))
		return -1;
	int64_t r, w;
	dl_versions(s, &r, &w);
	if (w < 1 || w > 7) {
		errbuf_set(err, errlen,
			"%s: writer version %lld is not supported; refusing "
			"to write", s->table, (long long)w);
		return -1;
	}
	if (w == 7) {
		/* "to write a table, writers must implement and respect all
		 * features listed in writerFeatures" */
		const char *v;
		size_t vn;
		scan_get(s->protocol, strlen(s->protocol), "writerFeatures", &v,
			 &vn);
		size_t i = scan_ws(v, vn, 1);
		while (i < vn && v[i] == '"') {
			size_t e = scan_skip(v, vn, i);
			char *f = scan_strdup_lit(v + i, e - i);
			if (!in_list(f, strlen(f), write_features)) {
				errbuf_set(err, errlen, "%s: table feature '%s' "
					"is not supported for writing",
					s->table, f);
				free(f);
				return -1;
			}
			free(f);
			i = scan_ws(v, vn, e);
			if (i < vn && v[i] == ',')
				i = scan_ws(v, vn, i + 1);
		}
	}
	/* Metadata that needs a feature the protocol does not support: by
	 * the letter not active, so no rule binds, but the owner's word
	 * (delta.appendOnly=true on a table whose writer features lack
	 * appendOnly) is plain, and Delta refuses such a table ("table
	 * features enabled in metadata but not listed in protocol"):
	 * refused too, never written as if the setting were absent. */
	const char *unlisted = NULL, *col0;
	char set[160] = "";
	if (dl_config_true(s, "delta.appendOnly") &&
	    !supports(s, w, "appendOnly", 2)) {
		unlisted = "appendOnly";
		snprintf(set, sizeof set, "delta.appendOnly=true");
	} else if ((col0 = meta_key(s->schema, "delta.invariants")) &&
		   !supports(s, w, "invariants", 2)) {
		unlisted = "invariants";
		snprintf(set, sizeof set, "delta.invariants on column %s", col0);
	} else if (config_prefix(s, "delta.constraints.") &&
		   !supports(s, w, "checkConstraints", 3)) {
		unlisted = "checkConstraints";
		snprintf(set, sizeof set, "delta.constraints.*");
	} else if (dl_config_true(s, "delta.enableChangeDataFeed") &&
		   !supports(s, w, "changeDataFeed", 4)) {
		unlisted = "changeDataFeed";
		snprintf(set, sizeof set, "delta.enableChangeDataFeed=true");
	} else if ((col0 = meta_key(s->schema, "delta.generationExpression")) &&
		   !supports(s, w, "generatedColumns", 4)) {
		unlisted = "generatedColumns";
		snprintf(set, sizeof set, "delta.generationExpression on column "
			 "%s", col0);
	} else if (config_prefix(s, "delta.columnMapping.mode") &&
		   !config_is(s, "delta.columnMapping.mode", "none") &&
		   !supports(s, w, "columnMapping", 5)) {
		unlisted = "columnMapping";
		snprintf(set, sizeof set, "delta.columnMapping.mode");
	} else if ((col0 = meta_key(s->schema, "delta.identity.")) &&
		   !supports(s, w, "identityColumns", 6)) {
		unlisted = "identityColumns";
		snprintf(set, sizeof set, "delta.identity.* on column %s", col0);
	} else if (dl_config_true(s, "delta.enableInCommitTimestamps") &&
		   !supports(s, w, "inCommitTimestamp", 0)) {
		unlisted = "inCommitTimestamp";
		snprintf(set, sizeof set, "delta.enableInCommitTimestamps=true");
	} else if (dl_config_true(s, "delta.enableDeletionVectors") &&
		   !supports(s, w, "deletionVectors", 0)) {
		unlisted = "deletionVectors";
		snprintf(set, sizeof set, "delta.enableDeletionVectors=true");
	} else if (dl_config_true(s, "delta.enableRowTracking") &&
		   !supports(s, w, "rowTracking", 0)) {
		unlisted = "rowTracking";
		snprintf(set, sizeof set, "delta.enableRowTracking=true");
	} else if ((col0 = meta_key(s->schema, "CURRENT_DEFAULT")) &&
		   !supports(s, w, "allowColumnDefaults", 0)) {
		unlisted = "allowColumnDefaults";
		snprintf(set, sizeof set, "CURRENT_DEFAULT on column %s", col0);
	} else if ((col0 = meta_key(s->schema, "delta.typeChanges")) &&
		   !supports(s, w, "typeWidening", 0)) {
		unlisted = "typeWidening";
		snprintf(set, sizeof set, "delta.typeChanges on column %s", col0);
	} else if (uses_kind(s->schema, DT_TIMESTAMP_NTZ) &&
		   !supports(s, w, "timestampNtz", 0)) {
		unlisted = "timestampNtz";
		snprintf(set, sizeof set, "a timestamp_ntz column");
	}
	if (unlisted) {
		errbuf_set(err, errlen, "%s: the metaData has %s, but the "
			"protocol (writer version %lld) does not support the "
			"'%s' feature it needs: an inconsistent table; refusing "
			"to write", s->table, set, (long long)w, unlisted);
		return -1;
	}
	/* The features txlog does not implement, refused where active
	 * (PROTOCOL.md: "A feature is active on a table when it is
	 * supported and its metadata requirements are satisfied"). */
	const char *col, *why = NULL;
	char what[160] = "";
	if (supports(s, w, "invariants", 2) &&
	    (col = meta_key(s->schema, "delta.invariants"))) {
		/* "Writers MUST abort any transaction that adds a row to
		 * the table, where an invariant evaluates to false or null"
		 * -- txlog cannot evaluate the SQL expression */
		why = "column invariants (delta.invariants)";
		snprintf(what, sizeof what, " on column %s", col);
	} else if (supports(s, w, "checkConstraints", 3) &&
		   config_prefix(s, "delta.constraints.")) {
		why = "CHECK constraints (delta.constraints.*)";
	} else if (supports(s, w, "changeDataFeed", 4) &&
		   dl_config_true(s, "delta.enableChangeDataFeed")) {
		why = "the change data feed (delta.enableChangeDataFeed)";
	} else if (supports(s, w, "generatedColumns", 4) &&
		   (col = meta_key(s->schema, "delta.generationExpression"))) {
		why = "generated columns (delta.generationExpression)";
		snprintf(what, sizeof what, " on column %s", col);
	} else if (supports(s, w, "columnMapping", 5) &&
		   config_prefix(s, "delta.columnMapping.mode") &&
		   !config_is(s, "delta.columnMapping.mode", "none")) {
		why = "column mapping (delta.columnMapping.mode)";
	} else if (supports(s, w, "identityColumns", 6) &&
		   (col = meta_key(s->schema, "delta.identity."))) {
		why = "identity columns (delta.identity.*)";
		snprintf(what, sizeof what, " on column %s", col);
	} else if (supports(s, w, "inCommitTimestamp", 0) &&
		   dl_config_true(s, "delta.enableInCommitTimestamps")) {
		why = "in-commit timestamps (delta.enableInCommitTimestamps)";
	}
	if (why) {
		errbuf_set(err, errlen, "%s: the table uses %s%s, which txlog "
			"does not enforce (writer version %lld); refusing to "
			"write", s->table, why, what, (long long)w);
		return -1;
	}
	return 0;
}

int dl_check_commit(const struct dl_snapshot *s, const char *actions,
		    size_t n, char *err, size_t errlen)
{
	if (!dl_append_only(s))
		return 0;
	/* Append-only Tables: "New log entries MUST NOT change or remove
	 * data from the table. New log entries may rearrange data (i.e.
	 * add and remove actions where dataChange=false)." */
	for (size_t i = 0; i < n;) {
		const char *nl = memchr(actions + i, '\n', n - i);
		size_t e = nl ? (size_t)(nl - actions) : n;
		const char *rm, *dc;
		size_t rn, dn;
		if (scan_get(actions + i, e - i, "remove", &rm, &rn) &&
		    (!scan_get(rm, rn, "dataChange", &dc, &dn) || dc[0] != 'f')) {
			errbuf_set(err, errlen, "%s: the table is append-only "
				"(delta.appendOnly=true): this commit would "
				"remove data; nothing committed", s->table);
			return -1;
		}
		i = e + 1;
	}
	return 0;
}

static bool uses_kind(const struct ds_type *t, enum dt_kind k)
{
	if (!t)
		return false;
	if (t->kind == k)
		return true;
	if (t->kind == DT_ARRAY || t->kind == DT_MAP)
		return uses_kind(t->elem, k);
	for (size_t i = 0; t->kind == DT_STRUCT && i < t->nfields; i++)
		if (uses_kind(t->fields[i].type, k))
			return true;
	return false;
}

void dl_protocol_action(struct buf *b, bool type_widening,
			const struct ds_type *schema)
{
	/* "timestamp without time zone ... To use this type, a table must
	 * support a feature timestampNtz" (a reader-writer feature) */
	const char *extra = uses_kind(schema, DT_TIMESTAMP_NTZ)
				    ? ",\"timestampNtz\""
				    : "";
	buf_adds(b, "{\"protocol\":{\"minReaderVersion\":3,"
		    "\"minWriterVersion\":7,\"readerFeatures\":[\"v2Checkpoint\"");
	if (type_widening)
		buf_adds(b, ",\"typeWidening\"");
	buf_adds(b, extra);
	buf_adds(b, "],\"writerFeatures\":[\"v2Checkpoint\"");
	if (type_widening)
		buf_adds(b, ",\"typeWidening\"");
	buf_adds(b, extra);
	buf_adds(b, "]}}\n");
}

/* The members of JSON array a[0..an), plus feature when absent (then
 * false). */
static bool features_plus(struct buf *b, const char *a, size_t an,
			  const char *feature)
{
	bool has = false;
	size_t fl = strlen(feature);
	buf_addc(b, '[');
	size_t i = scan_ws(a, an, 1), k = 0;
	while (i < an && a[i] == '"') {
		size_t e = scan_skip(a, an, i);
		if (scan_string_equals(a + i, e - i, feature, fl))
			has = true;
		if (k++)
			buf_addc(b, ',');
		buf_add(b, a + i, e - i);
		i = scan_ws(a, an, e);
		if (i < an && a[i] == ',')
			i = scan_ws(a, an, i + 1);
	}
	if (!has) {
		if (k)
			buf_addc(b, ',');
		jw_str(b, feature);
	}
	buf_addc(b, ']');
	return has;
}

int dl_protocol_add_feature(struct buf *b, const char *protocol,
			    const char *feature)
{
	size_t pn = strlen(protocol), rn, wn;
	const char *r, *w;
	if (!scan_get(protocol, pn, "readerFeatures", &r, &rn) || r[0] != '[' ||
	    !scan_get(protocol, pn, "writerFeatures", &w, &wn) || w[0] != '[')
		return -1;
	struct buf nr = {0}, nw = {0};
	bool in_r = features_plus(&nr, r, rn, feature);
	bool in_w = features_plus(&nw, w, wn, feature);
	int rc = 0;
	if (!in_r || !in_w) {
		buf_adds(b, "{\"protocol\":{\"minReaderVersion\":3,"
			    "\"minWriterVersion\":7,\"readerFeatures\":");
		buf_add(b, nr.p, nr.len);
		buf_adds(b, ",\"writerFeatures\":");
		buf_add(b, nw.p, nw.len);
		buf_adds(b, "}}\n");
		rc = 1;
	}
	buf_free(&nr);
	buf_free(&nw);
	return rc;
}

void dl_metadata_action(struct buf *b, const char *id,
			const char *kept_members,
			const struct ds_type *schema, char *const *part,
			size_t npart, const char *config_members,
			int64_t created_ms)
{
	struct buf ss = {0};
	ds_write(&ss, schema);
	buf_adds(b, "{\"metaData\":{\"id\":");
	jw_str(b, id);
	if (kept_members && *kept_members) {
		buf_addc(b, ',');
		buf_adds(b, kept_members);
	}
	buf_adds(b, ",\"format\":{\"provider\":\"json\",\"options\":"
		    "{\"compression\":\"zstd\"}},\"schemaString\":");
	jw_string(b, ss.p, ss.len);
	buf_adds(b, ",\"partitionColumns\":[");
	for (size_t i = 0; i < npart; i++) {
		if (i)
			buf_addc(b, ',');
		jw_str(b, part[i]);
	}
	buf_adds(b, "],\"configuration\":{");
	buf_adds(b, config_members ? config_members : "");
	buf_adds(b, "},\"createdTime\":");
	buf_add_i64(b, created_ms);
	buf_adds(b, "}}\n");
	buf_free(&ss);
}
