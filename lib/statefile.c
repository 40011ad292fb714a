#include "statefile.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <xxhash.h>

#include "buf.h"
#include "errbuf.h"
#include "fault.h"
#include "xalloc.h"

#define STATE_MAGIC "IDEMSTAT"
#define STATE_HDR 32
#define STATE_KIND 8
#define STATE_SUM 8
#define STATE_GEN 16 /* the generations header after the first 32 bytes */
#define FLAG_GEN 1u
#define FLAG_LOG 2u
#define FLAG_INPUT 4u /* with FLAG_GEN: the batch's input follows */
#define STATE_INPUT 24 /* its length and digest */
#define FLAG_NOTE 8u /* with FLAG_INPUT: the batch's note follows */
#define STATE_NOTE 4 /* its length; the note itself after the batch */
#define NO_BASE UINT64_MAX

struct state_writer {
	struct commit_file c;
	XXH3_state_t *xx; /* over header and payload */
	uint64_t declared, written;
};

struct state_reader {
	FILE *f;
	char *path;
	XXH3_state_t *xx;
	uint64_t declared, read;
	/* A file with generations was verified whole up front and its
	 * payload is read from the middle: no streaming check at the end. */
	bool verified;
	bool log;     /* FLAG_LOG: records follow the checksum */
	uint64_t off; /* where the payload starts */
};

void le64_put(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

uint64_t le64_get(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

void le32_put(unsigned char *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (8 * i));
}

uint32_t le32_get(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

void state_put_u32(struct buf *b, uint32_t v)
{
	unsigned char e[4];
	le32_put(e, v);
	buf_add(b, e, 4);
}

void state_put_u64(struct buf *b, uint64_t v)
{
	unsigned char e[8];
	le64_put(e, v);
	buf_add(b, e, 8);
}

void state_put_str(struct buf *b, const void *s, size_t n)
{
	state_put_u64(b, n);
	buf_add(b, s, n);
}

int state_get_u32(const unsigned char **p, const unsigned char *end,
		  uint32_t *v)
{
	if (end - *p < 4)
		return -1;
	*v = le32_get(*p);
	*p += 4;
	return 0;
}

int state_get_u64(const unsigned char **p, const unsigned char *end,
		  uint64_t *v)
{
	if (end - *p < 8)
		return -1;
	*v = le64_get(*p);
	*p += 8;
	return 0;
}

int state_get_raw(const unsigned char **p, const unsigned char *end,
		  size_t n, char **out)
{
	if ((size_t)(end - *p) < n)
		return -1;
	*out = xstrndup((const char *)*p, n);
	*p += n;
	return 0;
}

int state_get_str(const unsigned char **p, const unsigned char *end,
		  char **out, size_t *n)
{
	const unsigned char *q = *p;
	uint64_t len;
	if (state_get_u64(&q, end, &len) != 0 ||
	    (uint64_t)(end - q) < len ||
	    state_get_raw(&q, end, (size_t)len, out) != 0)
		return -1;
	*n = (size_t)len;
	*p = q;
	return 0;
}

static ssize_t read_full(FILE *f, void *data, size_t n);

static XXH3_state_t *hash_new(void)
{
	XXH3_state_t *xx = XXH3_createState();
	if (xx)
		XXH3_64bits_reset(xx);
	return xx;
}

static struct state_writer *write_begin(const char *path, const char *kind,
				       uint32_t version, uint32_t flags,
				       uint64_t payload_len, char *err,
				       size_t errlen)
{
	size_t kn = strlen(kind);
	if (kn == 0 || kn > STATE_KIND) {
		errbuf_set(err, errlen, "%s: state kind \"%s\" must be 1 to %d "
			"bytes", path, kind, STATE_KIND);
		return NULL;
	}
	unsigned char hdr[STATE_HDR] = {0};
	memcpy(hdr, STATE_MAGIC, 8);
	memcpy(hdr + 8, kind, kn);
	le32_put(hdr + 16, version);
	le32_put(hdr + 20, flags);
	le64_put(hdr + 24, payload_len);

	struct state_writer *w = xcalloc(1, sizeof *w);
	w->xx = hash_new();
	if (!w->xx) {
		errbuf_set(err, errlen, "%s: out of memory", path);
		free(w);
		return NULL;
	}
	if (commit_open(&w->c, path, err, errlen) < 0) {
		XXH3_freeState(w->xx);
		free(w);
		return NULL;
	}
	w->declared = payload_len;
	XXH3_64bits_update(w->xx, hdr, sizeof hdr);
	if (commit_write(&w->c, hdr, sizeof hdr, err, errlen) < 0) {
		state_write_abort(w);
		return NULL;
	}
	return w;
}

struct state_writer *state_write_begin(const char *path, const char *kind,
				       uint32_t version, uint64_t payload_len,
				       char *err, size_t errlen)
{
	return write_begin(path, kind, version, 0, payload_len, err, errlen);
}

/* Bytes that precede the payload: hashed, not counted in it. */
static int write_extra(struct state_writer *w, const void *data, size_t n,
		       char *err, size_t errlen)
{
	if (commit_write(&w->c, data, n, err, errlen) < 0)
		return -1;
	XXH3_64bits_update(w->xx, data, n);
	return 0;
}

/* Copy the base out of the file still at path (the commit has not
 * replaced it yet, and the caller holds its lock). */
static int copy_base(struct state_writer *w, const char *path,
		     const struct state_gen *g, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rbe");
	if (!f) {
		errbuf_set(err, errlen, "%s: cannot reopen: %s", path,
			strerror(errno));
		return -1;
	}
	int rc = -1;
	if (fseeko(f, (off_t)g->base_off, SEEK_SET) != 0) {
		errbuf_set(err, errlen, "%s: seek: %s", path, strerror(errno));
		goto out;
	}
	unsigned char chunk[1 << 16];
	for (uint64_t left = g->base_len; left > 0;) {
		size_t take = left < sizeof chunk ? (size_t)left : sizeof chunk;
		ssize_t got = read_full(f, chunk, take);
		if (got != (ssize_t)take) {
			errbuf_set(err, errlen, "%s: changed while in use", path);
			goto out;
		}
		if (write_extra(w, chunk, take, err, errlen) < 0)
			goto out;
		left -= take;
	}
	rc = 0;
out:
	fclose(f);
	return rc;
}

#define GEN_PEND 4096 /* bytes of line hashes fed at once */

struct state_line state_gen_line(const void *line, size_t n)
{
	return (struct state_line){XXH3_64bits(line, n)};
}

static void gen_feed(struct state_gen *g)
{
	if (!g->input) {
		g->input = XXH3_createState();
		if (!g->input)
			xalloc_die(1);
		XXH3_128bits_reset(g->input);
	}
	XXH3_128bits_update(g->input, g->pend, g->npend);
	g->npend = 0;
}

void state_gen_input(struct state_gen *g, struct state_line h, size_t n)
{
	if (!g->batch)
		return;
	if (!g->pend)
		g->pend = xmalloc(GEN_PEND);
	if (g->npend == GEN_PEND)
		gen_feed(g);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(g->pend + g->npend, &h.h, 8); /* le64_put, inlined */
#else
	le64_put(g->pend + g->npend, h.h);
#endif
	g->npend += 8;
	g->input_len += n + 1;
}

void state_gen_free(struct state_gen *g)
{
	if (g->input)
		XXH3_freeState(g->input);
	free(g->pend);
	free(g->known_note);
	g->input = NULL;
	g->pend = NULL;
	g->npend = 0;
	g->known_note = NULL;
	g->known_note_len = 0;
	g->note_known = false;
}

/* This run's input as the file keeps it: length, then the digest. */
static void input_record(struct state_gen *g, unsigned char out[STATE_INPUT])
{
	if (g->npend || !g->input)
		gen_feed(g);
	XXH128_hash_t h = XXH3_128bits_digest(g->input);
	le64_put(out, g->input_len);
	le64_put(out + 8, h.low64);
	le64_put(out + 16, h.high64);
}

struct state_writer *state_write_begin_gen(const char *path,
					   const char *kind, uint32_t version,
					   uint64_t payload_len,
					   struct state_gen *g, char *err,
					   size_t errlen)
{
	if (!g || !g->batch)
		return state_write_begin(path, kind, version, payload_len,
					 err, errlen);
	size_t bn = strlen(g->batch);
	if (bn == 0 || bn > STATE_BATCH_MAX) {
		errbuf_set(err, errlen, "%s: batch must be 1 to %d bytes", path,
			STATE_BATCH_MAX);
		return NULL;
	}
	if (g->note_len > STATE_NOTE_MAX) {
		errbuf_set(err, errlen, "%s: a batch's note is at most %d "
			"bytes", path, STATE_NOTE_MAX);
		return NULL;
	}
	unsigned char in[STATE_INPUT];
	input_record(g, in);
	if (g->replay && g->input_known &&
	    memcmp(in, g->known, sizeof in) != 0) {
		uint64_t had = le64_get(g->known);
		char what[64];
		if (had == g->input_len)
			snprintf(what, sizeof what, "%" PRIu64 " bytes as "
				 "before, but others", had);
		else
			snprintf(what, sizeof what, "%" PRIu64 " bytes, not "
				 "%" PRIu64, g->input_len, had);
		errbuf_set(err, errlen, "%s: batch %s replayed on other input "
			"than its run's (%s); state left as that run "
			"committed it (replay the batch's own input, or name "
			"another batch)", path, g->batch, what);
		return NULL;
	}
	struct state_writer *w = write_begin(path, kind, version,
					     FLAG_GEN | FLAG_INPUT |
						     (g->note_len ? FLAG_NOTE
								  : 0),
					     payload_len, err, errlen);
	if (!w)
		return NULL;
	unsigned char ext[STATE_GEN], nl[STATE_NOTE];
	le32_put(ext, (uint32_t)bn);
	le32_put(ext + 4, g->has_base ? g->base_version : 0);
	le64_put(ext + 8, g->has_base ? g->base_len : NO_BASE);
	le32_put(nl, (uint32_t)g->note_len);
	if (write_extra(w, ext, sizeof ext, err, errlen) < 0 ||
	    write_extra(w, in, sizeof in, err, errlen) < 0 ||
	    (g->note_len && write_extra(w, nl, sizeof nl, err, errlen) < 0) ||
	    write_extra(w, g->batch, bn, err, errlen) < 0 ||
	    (g->note_len &&
	     write_extra(w, g->note, g->note_len, err, errlen) < 0) ||
	    (g->has_base && copy_base(w, path, g, err, errlen) < 0)) {
		state_write_abort(w);
		return NULL;
	}
	return w;
}

int state_write(struct state_writer *w, const void *data, size_t n,
		char *err, size_t errlen)
{
	/* Caught here, not only at the end, so a wrong size never reaches
	 * the disk as a plausible-looking file. */
	if (n > w->declared - w->written) {
		errbuf_set(err, errlen, "%s: payload longer than the %" PRIu64
			" bytes declared", w->c.path ? w->c.path : "(state)",
			w->declared);
		return -1;
	}
	if (commit_write(&w->c, data, n, err, errlen) < 0)
		return -1;
	XXH3_64bits_update(w->xx, data, n);
	w->written += n;
	return 0;
}

/* Seal and commit; *sum (may be NULL) gets the checksum written. */
static int write_end(struct state_writer *w, uint64_t *sum_out, char *err,
		     size_t errlen)
{
	int rc = -1;
	if (w->written != w->declared) {
		errbuf_set(err, errlen, "%s: payload is %" PRIu64 " bytes, "
			"header declared %" PRIu64,
			w->c.path ? w->c.path : "(state)", w->written,
			w->declared);
		commit_abort(&w->c);
		goto out;
	}
	unsigned char sum[STATE_SUM];
	le64_put(sum, XXH3_64bits_digest(w->xx));
	if (sum_out)
		*sum_out = le64_get(sum);
	if (commit_write(&w->c, sum, sizeof sum, err, errlen) < 0) {
		commit_abort(&w->c);
		goto out;
	}
	rc = commit_finish(&w->c, err, errlen);
out:
	XXH3_freeState(w->xx);
	free(w);
	return rc;
}

int state_write_end(struct state_writer *w, char *err, size_t errlen)
{
	return write_end(w, NULL, err, errlen);
}

struct state_writer *state_write_begin_log(const char *path,
					   const char *kind, uint32_t version,
					   uint64_t payload_len, char *err,
					   size_t errlen)
{
	return write_begin(path, kind, version, FLAG_LOG, payload_len, err,
			   errlen);
}

void state_log_close(struct state_log *lg)
{
	if (lg->fd >= 0)
		close(lg->fd); /* every record was fdatasync'd already */
	*lg = (struct state_log){.fd = -1};
}

int state_write_end_log(struct state_writer *w, struct state_log *lg,
			char *err, size_t errlen)
{
	uint64_t len = w->declared, sum;
	state_log_close(lg); /* the old file's: the rename replaces it */
	if (write_end(w, &sum, err, errlen) != 0)
		return -1;
	lg->at = STATE_HDR + len + STATE_SUM;
	lg->sum = sum;
	lg->snapshot = len;
	return 0;
}

/* A record's frame checksum: its length and bytes, seeded with the one
 * before it, so records cannot be reordered or moved between files. */
static uint64_t log_sum(const unsigned char len[4], const void *rec,
			size_t n, uint64_t seed)
{
	return XXH3_64bits_withSeed(rec, n, XXH3_64bits_withSeed(len, 4, seed));
}

int state_log_append(struct state_log *lg, const char *path,
		     const void *rec, size_t n, char *err, size_t errlen)
{
	if (lg->at == 0 || n == 0 || n > STATE_LOG_MAX) {
		errbuf_set(err, errlen, "%s: log record of %zu bytes cannot "
			"be appended", path, n);
		return -1;
	}
	if (lg->fd < 0) {
		lg->fd = open(path, O_WRONLY | O_CLOEXEC);
		if (lg->fd < 0) {
			errbuf_set(err, errlen, "%s: cannot open: %s", path,
				strerror(errno));
			return -1;
		}
		/* what an interrupted append left goes first */
		if (ftruncate(lg->fd, (off_t)lg->at) != 0) {
			errbuf_set(err, errlen, "%s: truncate: %s", path,
				strerror(errno));
			return -1;
		}
		lg->dropped = 0;
	}
	unsigned char len[4], sum[8];
	le32_put(len, (uint32_t)n);
	uint64_t s = log_sum(len, rec, n, lg->sum);
	le64_put(sum, s);
	struct iovec v[3] = {{len, 4}, {(void *)rec, n}, {sum, 8}};
	size_t want = 4 + n + 8, done = 0;
	while (done < want) {
		/* advance the vector past what was written */
		struct iovec cur[3];
		int nv = 0;
		size_t skip = done;
		for (int i = 0; i < 3; i++) {
			if (skip >= v[i].iov_len) {
				skip -= v[i].iov_len;
				continue;
			}
			cur[nv].iov_base = (char *)v[i].iov_base + skip;
			cur[nv++].iov_len = v[i].iov_len - skip;
			skip = 0;
		}
		ssize_t w = pwritev(lg->fd, cur, nv, (off_t)(lg->at + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			errbuf_set(err, errlen, "%s: write: %s", path,
				w < 0 ? strerror(errno) : "no progress");
			return -1;
		}
		done += (size_t)w;
	}
	fault_point("log.written");
	if (fdatasync(lg->fd) != 0) {
		errbuf_set(err, errlen, "%s: fdatasync: %s", path,
			strerror(errno));
		return -1;
	}
	fault_point("log.synced");
	lg->at += want;
	lg->bytes += want;
	lg->sum = s;
	return 0;
}

void state_write_abort(struct state_writer *w)
{
	if (!w)
		return;
	commit_abort(&w->c);
	XXH3_freeState(w->xx);
	free(w);
}

/* Read exactly n bytes: n, fewer at end of file, or -1 on an I/O error. */
static ssize_t read_full(FILE *f, void *data, size_t n)
{
	size_t got = fread(data, 1, n, f);
	if (got < n && ferror(f))
		return -1;
	return (ssize_t)got;
}

static void reader_free(struct state_reader *r)
{
	if (r->f)
		fclose(r->f); /* read-only: nothing to lose */
	XXH3_freeState(r->xx);
	free(r->path);
	free(r);
}

/* The kind as stored, made printable for the message. */
static void kind_text(const unsigned char *k, char out[STATE_KIND + 1])
{
	size_t i;
	for (i = 0; i < STATE_KIND && k[i]; i++)
		out[i] = (k[i] >= 0x20 && k[i] < 0x7f) ? (char)k[i] : '?';
	out[i] = '\0';
}

/* Hash the body bytes from here, check the checksum after them, then
 * seek to the payload at offset `at`. */
static int verify_upfront(struct state_reader *r, uint64_t body, uint64_t at,
			  char *err, size_t errlen)
{
	XXH3_state_t *x = XXH3_createState();
	unsigned char chunk[1 << 16], sum[STATE_SUM];
	uint64_t left = body;
	int rc = -1;
	if (!x) {
		errbuf_set(err, errlen, "%s: out of memory", r->path);
		goto out;
	}
	XXH3_copyState(x, r->xx);
	while (left > 0) {
		size_t take = left < sizeof chunk ? (size_t)left : sizeof chunk;
		ssize_t got = read_full(r->f, chunk, take);
		if (got < 0) {
			errbuf_set(err, errlen, "%s: read: %s", r->path,
				strerror(errno));
			goto out;
		}
		if ((size_t)got < take) {
			errbuf_set(err, errlen, "%s: truncated (payload ends "
				"early)", r->path);
			goto out;
		}
		XXH3_64bits_update(x, chunk, take);
		left -= take;
	}
	if (read_full(r->f, sum, sizeof sum) != (ssize_t)sizeof sum ||
	    le64_get(sum) != XXH3_64bits_digest(x)) {
		errbuf_set(err, errlen, "%s: checksum mismatch; refusing a "
			"damaged state", r->path);
		goto out;
	}
	if (fseeko(r->f, (off_t)at, SEEK_SET) != 0) {
		errbuf_set(err, errlen, "%s: seek: %s", r->path, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (x)
		XXH3_freeState(x);
	return rc;
}

struct state_reader *state_read_begin(const char *path, const char *kind,
				      uint32_t max_version, uint32_t *version,
				      uint64_t *payload_len, char *err,
				      size_t errlen)
{
	return state_read_begin_gen(path, kind, max_version, NULL, version,
				    payload_len, err, errlen);
}

static bool version_ok(const char *path, uint32_t v, uint32_t max_version,
		       char *err, size_t errlen)
{
	if (v <= max_version)
		return true;
	errbuf_set(err, errlen, "%s: format version %" PRIu32 " is newer than "
		"this program understands (max %" PRIu32 ")", path, v,
		max_version);
	return false;
}

/* The generations header and batch of a file with FLAG_GEN: checks the
 * sizes add up to the file exactly, verifies it whole, and leaves r at
 * the payload g asks for.  1: read it; 0: the batch started empty. */
static int open_gen(struct state_reader *r, uint64_t size, uint32_t v,
		    uint32_t max_version, bool has_input, bool has_note,
		    struct state_gen *g, char *err, size_t errlen)
{
	unsigned char ext[STATE_GEN + STATE_INPUT + STATE_NOTE];
	char batch[STATE_BATCH_MAX + 1];
	size_t extn = STATE_GEN + (has_input ? STATE_INPUT : 0) +
		      (has_note ? STATE_NOTE : 0);
	if (read_full(r->f, ext, extn) != (ssize_t)extn) {
		errbuf_set(err, errlen, "%s: truncated (header ends early)",
			r->path);
		return -1;
	}
	uint32_t bn = le32_get(ext), bv = le32_get(ext + 4);
	uint64_t blen = le64_get(ext + 8);
	uint64_t bsize = blen == NO_BASE ? 0 : blen;
	uint32_t nn = has_note ? le32_get(ext + STATE_GEN + STATE_INPUT) : 0;
	uint64_t fixed = STATE_HDR + extn + STATE_SUM;
	if (bn == 0 || bn > STATE_BATCH_MAX ||
	    (has_note && (nn == 0 || nn > STATE_NOTE_MAX)) ||
	    size < fixed + bn + nn || bsize > size - fixed - bn - nn ||
	    r->declared != size - fixed - bn - nn - bsize) {
		errbuf_set(err, errlen, "%s: damaged state (generation sizes do "
			"not match the file)", r->path);
		return -1;
	}
	unsigned char *note = nn ? xmalloc(nn) : NULL;
	if (read_full(r->f, batch, bn) != (ssize_t)bn ||
	    (nn && read_full(r->f, note, nn) != (ssize_t)nn)) {
		errbuf_set(err, errlen, "%s: truncated (header ends early)",
			r->path);
		free(note);
		return -1;
	}
	batch[bn] = '\0';
	XXH3_64bits_update(r->xx, ext, extn);
	XXH3_64bits_update(r->xx, batch, bn);
	if (nn)
		XXH3_64bits_update(r->xx, note, nn);
	uint64_t base_at = STATE_HDR + extn + bn + nn;
	bool replay = g && g->batch && strlen(g->batch) == bn &&
		      memcmp(g->batch, batch, bn) == 0;
	uint64_t at = replay ? base_at : base_at + bsize;
	r->off = at;
	if (verify_upfront(r, bsize + r->declared, at, err, errlen) != 0) {
		free(note);
		return -1;
	}
	r->verified = true;
	if (!replay) {
		free(note);
		return version_ok(r->path, v, max_version, err, errlen) ? 1 : -1;
	}
	g->replay = true;
	g->input_known = has_input;
	if (has_input)
		memcpy(g->known, ext + STATE_GEN, STATE_INPUT);
	/* the note is handed out only once the checksum vouched for it */
	g->note_known = has_note;
	g->known_note = note;
	g->known_note_len = nn;
	if (blen == NO_BASE)
		return 0;
	if (!version_ok(r->path, bv, max_version, err, errlen))
		return -1;
	r->declared = blen;
	g->base_version = bv;
	return 1;
}

struct state_reader *state_read_begin_gen(const char *path,
					  const char *kind,
					  uint32_t max_version,
					  struct state_gen *g,
					  uint32_t *version,
					  uint64_t *payload_len, char *err,
					  size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (g) {
		g->replay = false;
		g->has_base = false;
		g->input_known = false;
		free(g->known_note);
		g->known_note = NULL;
		g->known_note_len = 0;
		g->note_known = false;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return NULL; /* a first run */
		errbuf_set(err, errlen, "%s: cannot open: %s", path,
			strerror(errno));
		return NULL;
	}
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		errbuf_set(err, errlen, "%s: cannot open: %s", path,
			strerror(errno));
		close(fd);
		return NULL;
	}
	struct state_reader *r = xcalloc(1, sizeof *r);
	r->f = f;
	r->path = xstrdup(path);
	r->xx = hash_new();
	if (!r->xx) {
		errbuf_set(err, errlen, "%s: out of memory", path);
		goto fail;
	}

	unsigned char hdr[STATE_HDR];
	ssize_t got = read_full(f, hdr, sizeof hdr);
	if (got < 0) {
		errbuf_set(err, errlen, "%s: read: %s", path, strerror(errno));
		goto fail;
	}
	if ((size_t)got < sizeof hdr && got >= 8 &&
	    memcmp(hdr, STATE_MAGIC, 8) == 0) {
		/* the magic says it is one: damage, not a wrong file */
		errbuf_set(err, errlen, "%s: truncated (header cut short); "
			   "refusing a damaged state", path);
		goto fail;
	}
	if ((size_t)got < sizeof hdr || memcmp(hdr, STATE_MAGIC, 8) != 0) {
		errbuf_set(err, errlen, "%s: not an idem state file", path);
		goto fail;
	}
	unsigned char want[STATE_KIND] = {0};
	size_t kn = strlen(kind);
	memcpy(want, kind, kn < STATE_KIND ? kn : STATE_KIND);
	if (memcmp(hdr + 8, want, STATE_KIND) != 0) {
		char have[STATE_KIND + 1];
		kind_text(hdr + 8, have);
		errbuf_set(err, errlen, "%s: is a %s state, not %s", path, have,
			kind);
		goto fail;
	}
	uint32_t v = le32_get(hdr + 16);
	uint32_t flags = le32_get(hdr + 20);
	if (flags & ~(FLAG_GEN | FLAG_LOG | FLAG_INPUT | FLAG_NOTE) ||
	    (flags & FLAG_GEN && flags & FLAG_LOG) ||
	    (flags & FLAG_INPUT && !(flags & FLAG_GEN)) ||
	    (flags & FLAG_NOTE && !(flags & FLAG_INPUT))) {
		errbuf_set(err, errlen, "%s: flags %#" PRIx32 " are newer than "
			"this program understands", path, flags);
		goto fail;
	}
	r->declared = le64_get(hdr + 24);

	/* A regular file's size tells up front whether the declared
	 * length can be there, before a caller sizes anything by it. */
	struct stat st;
	bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	XXH3_64bits_update(r->xx, hdr, sizeof hdr);
	r->log = flags & FLAG_LOG;
	if (r->log && !regular) {
		errbuf_set(err, errlen, "%s: a state with a log must be a "
			"regular file", path);
		goto fail;
	}
	if (flags & FLAG_GEN) {
		if (!regular) {
			errbuf_set(err, errlen, "%s: a state with generations "
				"must be a regular file", path);
			goto fail;
		}
		int rc = open_gen(r, (uint64_t)st.st_size, v, max_version,
				  flags & FLAG_INPUT, flags & FLAG_NOTE, g,
				  err, errlen);
		if (rc < 0)
			goto fail;
		if (rc == 0) { /* the replayed batch started empty */
			reader_free(r);
			return NULL;
		}
		if (g && g->replay)
			v = g->base_version;
	} else {
		r->off = STATE_HDR;
		if (!version_ok(path, v, max_version, err, errlen))
			goto fail;
		if (regular) {
			uint64_t size = (uint64_t)st.st_size;
			uint64_t body = size - STATE_HDR;
			if (r->declared > body) {
				errbuf_set(err, errlen, "%s: truncated (payload "
					"ends early)", path);
				goto fail;
			}
			if (body - r->declared < STATE_SUM) {
				errbuf_set(err, errlen, "%s: truncated "
					"(checksum missing)", path);
				goto fail;
			}
		}
		/* A regular file is checked whole before anything is
		 * handed out: a damaged count or length must be refused
		 * as damage, not acted on.  A second pass over a state
		 * file costs little next to the work its reader does
		 * with it; pipes are checked at the end. */
		if (regular && verify_upfront(r, r->declared, STATE_HDR, err,
					      errlen) != 0)
			goto fail;
	}
	if (g) {
		g->has_base = true;
		g->base_version = v;
		g->base_off = r->off;
		g->base_len = r->declared;
	}
	if (version)
		*version = v;
	if (payload_len)
		*payload_len = r->declared;
	return r;
fail:
	reader_free(r);
	return NULL;
}

int state_read(struct state_reader *r, void *data, size_t n, char *err,
	       size_t errlen)
{
	if (n > r->declared - r->read) {
		errbuf_set(err, errlen, "%s: read past the end of the payload",
			r->path);
		return -1;
	}
	ssize_t got = read_full(r->f, data, n);
	if (got < 0) {
		errbuf_set(err, errlen, "%s: read: %s", r->path, strerror(errno));
		return -1;
	}
	if ((size_t)got < n) {
		errbuf_set(err, errlen, "%s: truncated (payload ends early)",
			r->path);
		return -1;
	}
	XXH3_64bits_update(r->xx, data, n);
	r->read += n;
	return 0;
}

static int read_end(struct state_reader *r, struct buf *log,
		    struct state_log *lg, char *err, size_t errlen);

unsigned char *state_read_all(struct state_reader *r, uint64_t payload_len,
			      char *err, size_t errlen)
{
	return state_read_all_log(r, payload_len, NULL, NULL, err, errlen);
}

unsigned char *state_read_all_log(struct state_reader *r,
				  uint64_t payload_len, struct buf *log,
				  struct state_log *lg, char *err,
				  size_t errlen)
{
	/* grown as it is read, not sized from the header: a damaged
	 * length is then "truncated", not an allocation of it */
	struct buf b = {0};
	while (b.len < payload_len) {
		uint64_t left = payload_len - b.len;
		size_t n = left < 65536 ? (size_t)left : 65536;
		buf_reserve(&b, n);
		if (state_read(r, b.p + b.len, n, err, errlen) != 0) {
			state_read_abort(r);
			buf_free(&b);
			return NULL;
		}
		b.len += n;
	}
	if (read_end(r, log, lg, err, errlen) != 0) {
		buf_free(&b);
		return NULL;
	}
	buf_reserve(&b, 1);
	return (unsigned char *)b.p;
}

int state_read_end(struct state_reader *r, char *err, size_t errlen)
{
	return read_end(r, NULL, NULL, err, errlen);
}

/* Whether a whole log record follows at r's position, chained to a
 * record whose checksum was stored or, its bytes intact, computed: 1
 * yes, 0 no, -1 on an I/O error.  Leaves the position where it was. */
static int chained_next(struct state_reader *r, uint64_t stored,
			uint64_t computed)
{
	long at = ftell(r->f);
	if (at < 0)
		return -1;
	int rc = 0;
	unsigned char len[4], s[8];
	struct buf rec = {0};
	uint32_t n = read_full(r->f, len, 4) == 4 ? le32_get(len) : 0;
	if (n > 0 && n <= STATE_LOG_MAX) {
		buf_reserve(&rec, n);
		if (read_full(r->f, rec.p, n) == (ssize_t)n &&
		    read_full(r->f, s, 8) == 8)
			rc = le64_get(s) == log_sum(len, rec.p, n, stored) ||
			     le64_get(s) == log_sum(len, rec.p, n, computed);
	}
	buf_free(&rec);
	if (ferror(r->f) || fseek(r->f, at, SEEK_SET) != 0)
		return -1;
	return rc;
}

/*
 * Whether the bytes from AT to the end, which do not start with a whole
 * record, hold one anywhere, chained to the checksum stored just
 * before it: 1 yes, 0 no, -1 on an I/O error.  A crash leaves only a
 * prefix of the one record being appended; a whole record behind a bad
 * one means the bad one was written whole and damaged since (a flipped
 * length field makes it look cut).  Reads the bytes into *scratch.
 */
static int chained_in_rest(struct state_reader *r, uint64_t at,
			   struct buf *scratch)
{
	if (fseek(r->f, (long)at, SEEK_SET) != 0)
		return -1;
	buf_reset(scratch);
	for (;;) {
		buf_reserve(scratch, 65536);
		ssize_t got = read_full(r->f, scratch->p + scratch->len, 65536);
		if (got < 0)
			return -1;
		if (got == 0)
			break;
		scratch->len += (size_t)got;
	}
	const unsigned char *b = (const unsigned char *)scratch->p;
	size_t len = scratch->len;
	/* the first record behind the bad one starts after at least its
	 * length, one byte and its checksum */
	for (size_t p = 4 + 1 + 8; p + 4 + 1 + 8 <= len; p++) {
		uint32_t n = le32_get(b + p);
		if (n == 0 || n > len - p - 4 - 8)
			continue;
		if (le64_get(b + p + 4 + n) ==
		    log_sum(b + p, b + p + 4, n, le64_get(b + p - 8)))
			return 1;
	}
	return 0;
}

/* The records after a snapshot's checksum sum, into log; lg says where
 * the whole ones end.  Bytes after the last whole record are what a
 * crash left of the next (dropped, and said in lg); a record that fails
 * its checksum with a whole one after it is damage (refused). */
static int read_log(struct state_reader *r, uint64_t sum, struct buf *log,
		    struct state_log *lg, char *err, size_t errlen)
{
	*lg = (struct state_log){.fd = -1,
				 .at = STATE_HDR + r->declared + STATE_SUM,
				 .sum = sum,
				 .snapshot = r->declared};
	struct buf rec = {0};
	for (;;) {
		unsigned char len[4], s[8];
		ssize_t got = read_full(r->f, len, 4);
		if (got < 0)
			goto io;
		if (got == 0)
			break;
		uint32_t n = got == 4 ? le32_get(len) : 0;
		if (n == 0 || n > STATE_LOG_MAX) {
			lg->dropped += (uint64_t)got;
			break;
		}
		buf_reset(&rec);
		buf_reserve(&rec, n);
		got = read_full(r->f, rec.p, n);
		if (got < 0)
			goto io;
		if ((size_t)got < n) {
			lg->dropped += 4 + (uint64_t)got;
			break;
		}
		got = read_full(r->f, s, 8);
		if (got < 0)
			goto io;
		uint64_t want = log_sum(len, rec.p, n, lg->sum);
		if (got < 8 || le64_get(s) != want) {
			lg->dropped += 4 + (uint64_t)n + (uint64_t)got;
			/* A crash cuts the last record only: the next is
			 * appended once this one was synced.  A whole
			 * record after this one, chained to it, proves it
			 * was written whole and damaged since: dropping
			 * it would undo commits acted on. */
			int later = got == 8 ? chained_next(r, le64_get(s),
							    want)
					     : 0;
			if (later < 0)
				goto io;
			if (later) {
				errbuf_set(err, errlen, "%s: damaged state: the "
					   "log record at byte %" PRIu64 " fails "
					   "its checksum, and whole records "
					   "follow it (a crash cuts only the "
					   "last); refusing it", r->path,
					   lg->at);
				buf_free(&rec);
				return -1;
			}
			break;
		}
		buf_add(log, len, 4);
		buf_add(log, rec.p, n);
		lg->at += 4 + (uint64_t)n + 8;
		lg->bytes += 4 + (uint64_t)n + 8;
		lg->sum = want;
	}
	/* the rest of what a cut record left, whatever it is */
	for (;;) {
		unsigned char chunk[4096];
		ssize_t got = read_full(r->f, chunk, sizeof chunk);
		if (got < 0)
			goto io;
		if (got == 0)
			break;
		lg->dropped += (uint64_t)got;
	}
	if (lg->dropped) {
		int later = chained_in_rest(r, lg->at, &rec);
		if (later < 0)
			goto io;
		if (later) {
			errbuf_set(err, errlen, "%s: damaged state: the log "
				   "record at byte %" PRIu64 " is not whole, "
				   "and a whole record follows it (a crash "
				   "cuts only the last); refusing it", r->path,
				   lg->at);
			buf_free(&rec);
			return -1;
		}
	}
	buf_free(&rec);
	return 0;
io:
	errbuf_set(err, errlen, "%s: read: %s", r->path, strerror(errno));
	buf_free(&rec);
	return -1;
}

static int read_end(struct state_reader *r, struct buf *log,
		    struct state_log *lg, char *err, size_t errlen)
{
	int rc = -1;
	if (lg)
		*lg = (struct state_log){.fd = -1};
	if (r->verified) {
		rc = 0;
		goto out;
	}
	/* A payload the caller did not consume is still hashed, so the
	 * verdict covers the whole file. */
	unsigned char chunk[4096];
	while (r->read < r->declared) {
		uint64_t left = r->declared - r->read;
		size_t n = left < sizeof chunk ? (size_t)left : sizeof chunk;
		if (state_read(r, chunk, n, err, errlen) < 0)
			goto out;
	}
	unsigned char sum[STATE_SUM];
	ssize_t got = read_full(r->f, sum, sizeof sum);
	if (got < 0) {
		errbuf_set(err, errlen, "%s: read: %s", r->path, strerror(errno));
		goto out;
	}
	if ((size_t)got < sizeof sum) {
		errbuf_set(err, errlen, "%s: truncated (checksum missing)",
			r->path);
		goto out;
	}
	if (le64_get(sum) != XXH3_64bits_digest(r->xx)) {
		errbuf_set(err, errlen, "%s: checksum mismatch; refusing a "
			"damaged state", r->path);
		goto out;
	}
	if (lg && r->log) {
		rc = read_log(r, le64_get(sum), log, lg, err, errlen);
		goto out;
	}
	got = read_full(r->f, chunk, 1);
	if (got < 0) {
		errbuf_set(err, errlen, "%s: read: %s", r->path, strerror(errno));
		goto out;
	}
	if (got > 0) {
		errbuf_set(err, errlen, r->log ? "%s: a state with a log; "
			"only the tool that wrote it reads it" :
			"%s: trailing bytes after the checksum", r->path);
		goto out;
	}
	rc = 0;
out:
	reader_free(r);
	return rc;
}

void state_read_abort(struct state_reader *r)
{
	if (r)
		reader_free(r);
}

int state_batch(const char *option, const char **batch, char *err,
		size_t errlen)
{
	const char *b = option ? option : getenv("IDEM_BATCH");
	*batch = NULL;
	if (!b || !b[0])
		return 0;
	if (strlen(b) > STATE_BATCH_MAX) {
		errbuf_set(err, errlen, "%s: a batch is at most %d bytes",
			option ? "--batch" : "IDEM_BATCH", STATE_BATCH_MAX);
		return -1;
	}
	*batch = b;
	return 0;
}

char *state_path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int state_lock(const char *path, char **use, char *err, size_t errlen)
{
	/* An empty name (an unset shell variable) would lock ".lock" and
	 * fail only at the commit, after the run's output went out. */
	if (!*path) {
		errbuf_set(err, errlen, "--state: an empty file name; name "
			   "the state file");
		return -1;
	}
	char *cur = xstrdup(path);
	struct stat s;
	int hops = 0;
	/* Follow the last component while it is a link; the folders on the
	 * way are resolved by realpath below, for the lock's key. */
	while (lstat(cur, &s) == 0 && S_ISLNK(s.st_mode)) {
		if (++hops > 40) {
			errbuf_set(err, errlen, "%s: too many levels of symbolic "
				"links", path);
			free(cur);
			return -1;
		}
		char target[4096];
		ssize_t n = readlink(cur, target, sizeof target - 1);
		if (n < 0 || (size_t)n >= sizeof target - 1) {
			errbuf_set(err, errlen, "%s: %s", cur,
				n < 0 ? strerror(errno) : "link too long");
			free(cur);
			return -1;
		}
		target[n] = '\0';
		char *next;
		if (target[0] == '/' || !strchr(cur, '/')) {
			next = xstrdup(target);
		} else {
			char *dir = state_path_dir(cur);
			next = xmalloc(strlen(dir) + (size_t)n + 2);
			sprintf(next, "%s/%s", dir, target);
			free(dir);
		}
		free(cur);
		cur = next;
	}
	/* A folder is no state: refused before its lock is made beside
	 * it (or, for "dir/", in it). */
	if (cur[strlen(cur) - 1] == '/' ||
	    (stat(cur, &s) == 0 && S_ISDIR(s.st_mode))) {
		errbuf_set(err, errlen, "%s: a folder, not a state file; name "
			   "a file in it", path);
		free(cur);
		return -1;
	}
	if (lstat(cur, &s) == 0 && S_ISREG(s.st_mode) && s.st_nlink > 1) {
		errbuf_set(err, errlen, "%s: the state file has %ju names (hard "
			"links); a commit replaces one name only and the names "
			"would part; keep one name", path,
			(uintmax_t)s.st_nlink);
		free(cur);
		return -1;
	}
	/* The lock's key: the real folder and the file's name in it. */
	char *dir = state_path_dir(cur);
	const char *slash = strrchr(cur, '/');
	const char *base = slash ? slash + 1 : cur;
	char *rdir = realpath(dir, NULL);
	char *key;
	if (rdir) {
		key = xmalloc(strlen(rdir) + strlen(base) + 2);
		sprintf(key, "%s/%s", strcmp(rdir, "/") ? rdir : "", base);
	} else {
		key = xstrdup(cur);
	}
	free(rdir);
	free(dir);
	int lk = commit_lock(key, err, errlen);
	free(key);
	if (lk == -2)
		errbuf_set(err, errlen, "%s: locked by another process; try "
			"again later", path);
	if (lk < 0) {
		free(cur);
		return lk;
	}
	/* Under the lock: the temps of killed commits go (commit.h). */
	if (commit_clean_stale(cur, NULL, NULL, err, errlen) != 0) {
		close(lk);
		free(cur);
		return -1;
	}
	*use = cur;
	return lk;
}

void state_boot_id(char out[64])
{
	out[0] = '\0';
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, out, 63);
	close(fd);
	out[n > 0 ? n : 0] = '\0';
}
