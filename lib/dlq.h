/*
 * dlq: the dead-letter writer.  One envelope per bad record, appended to
 * the DLQ file with a single write(2) on an O_APPEND descriptor, so
 * several processes can share one file without tearing lines:
 *
 *   {"original_record":<record, or the raw line as a string when it is
 *    not JSON>,"error_type":"invalid_json","error_message":"...",
 *    "retry_count":0,"failed_at":"<RFC 3339 UTC>","replayable":true,
 *    "source":{"tool":"dedup","file":"raw.ndjson","line":1234}}
 *
 * The file is fsynced by dlq_close(), before a tool commits any state
 * that assumes the letters are safe.
 */
#ifndef IDEM_DLQ_H
#define IDEM_DLQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dlq;

struct dlq_letter {
	const char *record; /* the record bytes */
	size_t len;
	bool is_json;       /* record is valid JSON: embed it as is */
	const char *error_type; /* invalid_json, missing_field, wrong_type,
				   line_too_long, late, check_failed, ... */
	const char *error_message;
	uint64_t retry_count;
	bool replayable;
	const char *file; /* source file name ("-" for stdin) */
	uint64_t line;
	uint64_t replay_id; /* the replay whose record failed again, said as
			       "replay_id" (dlq_ledger.h); 0: none */
};

struct dlq *dlq_open(const char *path, const char *tool, char *err,
		     size_t errlen);
int dlq_put(struct dlq *d, const struct dlq_letter *l, char *err,
	    size_t errlen);
uint64_t dlq_count(const struct dlq *d);
/* Bytes of torn letters (dlq_ledger.h, dlq_cut_torn) a killed writer
 * left and this one cut off, since the last call. */
uint64_t dlq_take_cut(struct dlq *d);
const char *dlq_name(const struct dlq *d); /* the path it was opened with */
/* Whether what is appended stays there to be read again: a regular file
 * (whatever name reached it), not a pipe, a terminal or a device. */
bool dlq_keeps(const struct dlq *d);
/* fsync and close; frees d. */
int dlq_close(struct dlq *d, char *err, size_t errlen);

/* The envelope for l, without the newline, appended to b.  A record that
 * is not JSON is kept as a string; when its bytes are not UTF-8, which a
 * JSON string cannot hold, original_record shows them with U+FFFD and
 * original_base64 keeps them exactly, for replay. */
struct buf;
void dlq_envelope(struct buf *b, const char *tool, const struct dlq_letter *l,
		  int64_t failed_at_ns);

/* An envelope read back (dlq stats, replay, purge): its members as raw
 * JSON text inside the line. */
struct dlq_envelope {
	const char *orig;
	size_t orig_len;
	const char *error_type; /* raw string literal, quotes included */
	size_t error_type_len;
	uint64_t retry_count;
	int64_t failed_at; /* ns; an entry without a readable one is not
			      an envelope */
	bool replayable;
	bool raw;        /* original_record is the raw line, as a string */
	const char *b64; /* original_base64's literal, quotes included, or
			    NULL: the raw line's bytes when they are not
			    UTF-8 (original_record then has U+FFFD) */
	size_t b64_len;
	uint64_t replay_id; /* 0: none (dlq_ledger.h, "Whose letters") */
	const char *bad; /* when not an envelope: why, if known, else "" */
};
/* 0, or -1 when line is not an envelope (e->bad says why when known).
 * rec is the caller's scratch, reused line after line. */
struct scan_record;
int dlq_envelope_parse(struct scan_record *rec, const char *line, size_t len,
		       struct dlq_envelope *e);

/* The original record of e, the bytes replay hands out, appended to
 * out: the raw line (from original_base64 when there is one) or the
 * record. */
void dlq_envelope_original(const struct dlq_envelope *e, struct buf *out);

#endif
