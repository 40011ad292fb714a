#include "statefile.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "xalloc.h"

#define STATE_MAGIC "IDEMSTAT"
#define STATE_HDR 32
#define STATE_KIND 8
#define STATE_SUM 8

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
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	if (!err || errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

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

static XXH3_state_t *hash_new(void)
{
	XXH3_state_t *xx = XXH3_createState();
	if (xx)
		XXH3_64bits_reset(xx);
	return xx;
}

struct state_writer *state_write_begin(const char *path, const char *kind,
				       uint32_t version, uint64_t payload_len,
				       char *err, size_t errlen)
{
	size_t kn = strlen(kind);
	if (kn == 0 || kn > STATE_KIND) {
		set_err(err, errlen, "%s: state kind \"%s\" must be 1 to %d "
			"bytes", path, kind, STATE_KIND);
		return NULL;
	}
	unsigned char hdr[STATE_HDR] = {0};
	memcpy(hdr, STATE_MAGIC, 8);
	memcpy(hdr + 8, kind, kn);
	le32_put(hdr + 16, version);
	le32_put(hdr + 20, 0);
	le64_put(hdr + 24, payload_len);

	struct state_writer *w = xcalloc(1, sizeof *w);
	w->xx = hash_new();
	if (!w->xx) {
		set_err(err, errlen, "%s: out of memory", path);
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

int state_write(struct state_writer *w, const void *data, size_t n,
		char *err, size_t errlen)
{
	/* Caught here, not only at the end, so a wrong size never reaches
	 * the disk as a plausible-looking file. */
	if (n > w->declared - w->written) {
		set_err(err, errlen, "%s: payload longer than the %" PRIu64
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

int state_write_end(struct state_writer *w, char *err, size_t errlen)
{
	int rc = -1;
	if (w->written != w->declared) {
		set_err(err, errlen, "%s: payload is %" PRIu64 " bytes, "
			"header declared %" PRIu64,
			w->c.path ? w->c.path : "(state)", w->written,
			w->declared);
		commit_abort(&w->c);
		goto out;
	}
	unsigned char sum[STATE_SUM];
	le64_put(sum, XXH3_64bits_digest(w->xx));
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

static int verify_upfront(struct state_reader *r, char *err, size_t errlen)
{
	XXH3_state_t *x = XXH3_createState();
	unsigned char chunk[1 << 16], sum[STATE_SUM];
	uint64_t left = r->declared;
	int rc = -1;
	if (!x) {
		set_err(err, errlen, "%s: out of memory", r->path);
		goto out;
	}
	XXH3_copyState(x, r->xx);
	while (left > 0) {
		size_t take = left < sizeof chunk ? (size_t)left : sizeof chunk;
		ssize_t got = read_full(r->f, chunk, take);
		if (got < 0) {
			set_err(err, errlen, "%s: read: %s", r->path,
				strerror(errno));
			goto out;
		}
		if ((size_t)got < take) {
			set_err(err, errlen, "%s: truncated (payload ends "
				"early)", r->path);
			goto out;
		}
		XXH3_64bits_update(x, chunk, take);
		left -= take;
	}
	if (read_full(r->f, sum, sizeof sum) != (ssize_t)sizeof sum ||
	    le64_get(sum) != XXH3_64bits_digest(x)) {
		set_err(err, errlen, "%s: checksum mismatch; refusing a "
			"damaged state", r->path);
		goto out;
	}
	if (fseeko(r->f, STATE_HDR, SEEK_SET) != 0) {
		set_err(err, errlen, "%s: seek: %s", r->path, strerror(errno));
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
	if (err && errlen)
		err[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return NULL; /* a first run */
		set_err(err, errlen, "%s: cannot open: %s", path,
			strerror(errno));
		return NULL;
	}
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		set_err(err, errlen, "%s: cannot open: %s", path,
			strerror(errno));
		close(fd);
		return NULL;
	}
	struct state_reader *r = xcalloc(1, sizeof *r);
	r->f = f;
	r->path = xstrdup(path);
	r->xx = hash_new();
	if (!r->xx) {
		set_err(err, errlen, "%s: out of memory", path);
		goto fail;
	}

	unsigned char hdr[STATE_HDR];
	ssize_t got = read_full(f, hdr, sizeof hdr);
	if (got < 0) {
		set_err(err, errlen, "%s: read: %s", path, strerror(errno));
		goto fail;
	}
	if ((size_t)got < sizeof hdr || memcmp(hdr, STATE_MAGIC, 8) != 0) {
		set_err(err, errlen, "%s: not an idem state file", path);
		goto fail;
	}
	unsigned char want[STATE_KIND] = {0};
	size_t kn = strlen(kind);
	memcpy(want, kind, kn < STATE_KIND ? kn : STATE_KIND);
	if (memcmp(hdr + 8, want, STATE_KIND) != 0) {
		char have[STATE_KIND + 1];
		kind_text(hdr + 8, have);
		set_err(err, errlen, "%s: is a %s state, not %s", path, have,
			kind);
		goto fail;
	}
	uint32_t v = le32_get(hdr + 16);
	if (v > max_version) {
		set_err(err, errlen, "%s: format version %" PRIu32 " is newer "
			"than this program understands (max %" PRIu32 ")",
			path, v, max_version);
		goto fail;
	}
	r->declared = le64_get(hdr + 24);

	/* A regular file's size tells up front whether the declared
	 * length can be there, before a caller sizes anything by it. */
	struct stat st;
	bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	if (regular) {
		uint64_t size = (uint64_t)st.st_size;
		uint64_t body = size - STATE_HDR;
		if (r->declared > body) {
			set_err(err, errlen, "%s: truncated (payload ends "
				"early)", path);
			goto fail;
		}
		if (body - r->declared < STATE_SUM) {
			set_err(err, errlen, "%s: truncated (checksum "
				"missing)", path);
			goto fail;
		}
	}
	XXH3_64bits_update(r->xx, hdr, sizeof hdr);
	/* A regular file is checked whole before anything is handed out:
	 * a damaged count or length must be refused as damage, not acted
	 * on.  A second pass over a state file costs little next to the
	 * work its reader does with it; pipes are checked at the end. */
	if (regular && verify_upfront(r, err, errlen) != 0)
		goto fail;
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
		set_err(err, errlen, "%s: read past the end of the payload",
			r->path);
		return -1;
	}
	ssize_t got = read_full(r->f, data, n);
	if (got < 0) {
		set_err(err, errlen, "%s: read: %s", r->path, strerror(errno));
		return -1;
	}
	if ((size_t)got < n) {
		set_err(err, errlen, "%s: truncated (payload ends early)",
			r->path);
		return -1;
	}
	XXH3_64bits_update(r->xx, data, n);
	r->read += n;
	return 0;
}

int state_read_end(struct state_reader *r, char *err, size_t errlen)
{
	int rc = -1;
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
		set_err(err, errlen, "%s: read: %s", r->path, strerror(errno));
		goto out;
	}
	if ((size_t)got < sizeof sum) {
		set_err(err, errlen, "%s: truncated (checksum missing)",
			r->path);
		goto out;
	}
	if (le64_get(sum) != XXH3_64bits_digest(r->xx)) {
		set_err(err, errlen, "%s: checksum mismatch; refusing a "
			"damaged state", r->path);
		goto out;
	}
	got = read_full(r->f, chunk, 1);
	if (got < 0) {
		set_err(err, errlen, "%s: read: %s", r->path, strerror(errno));
		goto out;
	}
	if (got > 0) {
		set_err(err, errlen, "%s: trailing bytes after the checksum",
			r->path);
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
