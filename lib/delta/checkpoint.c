#include "delta/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <unistd.h>

#include "commit.h"
#include "delta/log.h"
#include "delta/logsum.h"
#include "delta/paths.h"
#include "delta/protocol.h"
#include "errbuf.h"
#include "jsonw.h"
#include "scan.h"
#include "timefmt.h"

static const char *const tombstone_drop[] = {"tags", "stats", NULL};

/* Object p[0..n) without the members named in drop. */
static void obj_without(struct buf *b, const char *p, size_t n,
			const char *const *drop)
{
	struct scan_obj o;
	const char *k, *v;
	size_t kn, vn, k0 = 0;
	buf_addc(b, '{');
	if (scan_obj_begin(&o, p, n))
		while (scan_obj_next(&o, &k, &kn, &v, &vn)) {
			bool skip = false;
			for (const char *const *d = drop; *d && !skip; d++)
				skip = scan_string_equals(k, kn, *d, strlen(*d));
			if (skip)
				continue;
			if (k0++)
				buf_addc(b, ',');
			buf_add(b, k, kn);
			buf_addc(b, ':');
			buf_add(b, v, vn);
		}
	buf_addc(b, '}');
}

int dl_checkpoint(const struct dl_snapshot *s, int64_t retain_ms, char *err,
		  size_t errlen)
{
	if (!s->protocol || !s->metadata) {
		/* a Delta log must have both: say so rather than crash */
		errbuf_set(err, errlen, "%s: version %lld has no %s; no "
			"checkpoint written", s->table, (long long)s->version,
			s->protocol ? "metaData" : "protocol");
		return -1;
	}
	if (!dl_has_feature(s, "writerFeatures", "v2Checkpoint")) {
		/* PROTOCOL.md: "Writers are allowed to create v2 spec
		 * checkpoints ... if v2 checkpoint table feature is
		 * enabled"; the classic one would be Parquet */
		errbuf_set(err, errlen, "%s: the protocol lacks the v2Checkpoint "
			"feature, and txlog writes only JSON V2 checkpoints (a "
			"classic checkpoint is Parquet); no checkpoint written",
			s->table);
		return 1;
	}
	/* Checkpoints: stats "should be omitted from the checkpoint" when
	 * delta.checkpoint.writeStatsAsJson is false, and stats_parsed
	 * (partitionValues_parsed too) "needs to be written" when
	 * writeStatsAsStruct is true, whatever the writer version.  A
	 * JSON checkpoint carries the adds as the commits made them: none
	 * is written rather than one the table's settings forbid. */
	static const struct {
		const char *key, *value;
	} stats_cfg[] = {
		{"delta.checkpoint.writeStatsAsJson", "false"},
		{"delta.checkpoint.writeStatsAsStruct", "true"},
	};
	for (size_t i = 0; i < 2; i++) {
		char *v = dl_config(s, stats_cfg[i].key);
		bool set = v && strcasecmp(v, stats_cfg[i].value) == 0;
		free(v);
		if (set) {
			errbuf_set(err, errlen, "%s: %s is %s, and txlog's JSON "
				"checkpoints keep each add's stats as JSON; no "
				"checkpoint written", s->table,
				stats_cfg[i].key, stats_cfg[i].value);
			return 1;
		}
	}
	struct buf b = {0};
	size_t actions = 0, adds = 0;
	buf_addf(&b, "{\"checkpointMetadata\":{\"version\":%lld,\"tags\":{",
		 (long long)s->version);
	size_t sum_at = dl_sum_member(&b);
	buf_adds(&b, "}}}\n");
	buf_adds(&b, "{\"protocol\":");
	buf_adds(&b, s->protocol);
	buf_adds(&b, "}\n{\"metaData\":");
	buf_adds(&b, s->metadata);
	buf_adds(&b, "}\n");
	actions = 3;
	for (size_t i = 0; i < s->ntxns; i++) {
		buf_adds(&b, "{\"txn\":{\"appId\":");
		jw_string(&b, s->txns[i].app_id, s->txns[i].app_len);
		buf_addf(&b, ",\"version\":%lld,\"lastUpdated\":%lld}}\n",
			 (long long)s->txns[i].version,
			 (long long)s->txns[i].last_updated);
		actions++;
	}
	/* "The checkpoint must contain all information regarding ...
	 * Domain Metadata" */
	for (size_t i = 0; i < s->ndomains; i++) {
		buf_adds(&b, "{\"domainMetadata\":");
		buf_adds(&b, s->domains[i].action);
		buf_adds(&b, "}\n");
		actions++;
	}
	int64_t now = time_now() / 1000000;
	size_t n;
	struct dl_file **live = dl_live_files_committed(s, &n);
	for (size_t i = 0; i < n; i++) {
		buf_adds(&b, "{\"add\":");
		buf_add(&b, live[i]->action, live[i]->action_len);
		buf_adds(&b, "}\n");
		actions++;
		adds++;
	}
	free(live);
	for (size_t i = 0; i < s->nfiles; i++) {
		const struct dl_file *f = &s->files[i];
		if (f->live || now - f->mtime > retain_ms)
			continue;
		/* the checkpoint schema's remove has no tags or stats */
		buf_adds(&b, "{\"remove\":");
		obj_without(&b, f->action, f->action_len, tombstone_drop);
		buf_adds(&b, "}\n");
		actions++;
	}
	dl_sum_seal(&b, sum_at);
	char uuid[37];
	dl_uuid(uuid);
	struct buf name = {0}, path = {0}, last = {0};
	buf_addf(&name, "%020lld.checkpoint.%s.json", (long long)s->version,
		 uuid);
	buf_addf(&path, "%s/_delta_log/%s", s->table, name.p);
	int rc = commit_replace(path.p, b.p, b.len, err, errlen);
	if (rc == 0) {
		buf_addf(&last,
			 "{\"version\":%lld,\"size\":%zu,\"sizeInBytes\":%zu,"
			 "\"numOfAddFiles\":%zu,\"v2Checkpoint\":{\"path\":",
			 (long long)s->version, actions, b.len, adds);
		jw_str(&last, name.p);
		buf_addf(&last, ",\"sizeInBytes\":%zu,\"modificationTime\":"
			 "%lld}}\n", b.len, (long long)now);
		/* Never move the hint backwards: a slower writer of an
		 * older checkpoint must not hide a newer one.  The read and
		 * the replace are one step under an exclusive flock on the
		 * log folder (released by close, or by a kill), else two
		 * writers could both read the old hint and the older one
		 * replace it last.  Without flock (some network file
		 * systems), the hint is written as before: it is a hint. */
		path.len = 0;
		buf_addf(&path, "%s/_delta_log", s->table);
		int lk = open(path.p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		while (lk >= 0 && flock(lk, LOCK_EX) < 0 && errno == EINTR)
			;
		path.len = 0;
		buf_addf(&path, "%s/_delta_log/_last_checkpoint", s->table);
		struct buf old = {0};
		char e2[64];
		int64_t ov = -1;
		if (dl_read_file(path.p, &old, false, e2, sizeof e2) == 0 &&
		    scan_validate(old.p, old.len, &(struct scan_error){0}) == 0)
			scan_get_i64(old.p, old.len, "version", &ov);
		buf_free(&old);
		if (ov < s->version)
			rc = commit_replace(path.p, last.p, last.len, err,
					    errlen);
		if (lk >= 0)
			close(lk);
	}
	buf_free(&b);
	buf_free(&name);
	buf_free(&path);
	buf_free(&last);
	return rc;
}
