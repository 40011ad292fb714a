/*
 * zio: byte streams that may be zstd- or gzip-compressed.
 *
 * Input.  zin_open() reads until it holds four bytes (or EOF: a pipe may
 * hand out one byte at a time) and keeps them in the input buffer.  If
 * they are the zstd magic the stream is decompressed with a ZSTD_DCtx,
 * frame after frame; otherwise the buffered bytes are handed out first
 * and later reads go straight from the descriptor into the caller's
 * buffer, so plain input costs one copy (the kernel's).
 *
 * A zstd stream is complete only when the last ZSTD_decompressStream()
 * returned 0 (frame done) and the input is exhausted; EOF at any other
 * point is a truncated stream, never a silently short one.  gzip (the
 * magic 1F 8B 08) goes through zlib's inflate the same way: complete
 * only at the end of a member (CRC-32 and length checked), members
 * concatenated as gzip itself reads them.
 *
 * Output.  Bytes collect in a 128 KiB buffer; when it fills (and on
 * flush/close) it goes to the descriptor, either as is or through a
 * ZSTD_CCtx.  The first failed write is sticky: its errno and message are
 * kept and every later call fails the same way, so a tool that checks
 * only at close still reports the real cause (ENOSPC, EIO, EPIPE).
 */
#include "zio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "xalloc.h"

#define ZIO_MAGIC 0xFD2FB528u /* zstd frame magic, little-endian */
#define ZOUT_BUFSZ (128u << 10)

struct zin {
	int fd;
	bool is_stdin;
	bool compressed;
	bool eof;        /* the descriptor said EOF */
	bool frame_open; /* inside a zstd frame (last return was not 0) */
	char *name;
	ZSTD_DCtx *dctx;
	z_stream *gz;    /* gzip: inflate, member after member */
	unsigned long long members; /* gzip members read whole */
	unsigned char *in; /* peeked bytes, then compressed input */
	size_t in_cap, in_pos, in_len;
	unsigned long long raw;
};

struct zout {
	int fd;
	int err_no;       /* errno of the first failed write; 0 if none */
	char msg[128];    /* its message, repeated by every later call */
	ZSTD_CCtx *cctx;  /* NULL when plain */
	unsigned char *buf; /* uncompressed bytes not yet handed on */
	size_t len;
	unsigned char *zbuf; /* compressed bytes not yet written */
	size_t zcap, zlen;
};

static void zio_err(char *err, size_t errlen, const char *name,
		    const char *reason)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", name, reason);
}

/* A non-blocking descriptor (an inherited O_NONBLOCK stdin or stdout)
 * would otherwise turn "no data yet" into an error. */
static void zio_wait(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
}

static ssize_t zin_fill_raw(struct zin *z, void *buf, size_t cap, char *err,
			    size_t errlen)
{
	for (;;) {
		ssize_t n = read(z->fd, buf, cap);
		if (n > 0) {
			z->raw += (unsigned long long)n;
			return n;
		}
		if (n == 0) {
			z->eof = true;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			zio_wait(z->fd, POLLIN);
			continue;
		}
		zio_err(err, errlen, z->name, strerror(errno));
		return -1;
	}
}

const char *zio_magic(const void *p, size_t n)
{
	const unsigned char *m = p;
	if (n >= 4 && ((uint32_t)m[0] | (uint32_t)m[1] << 8 |
		       (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24) == ZIO_MAGIC)
		return "zstd";
	/* ID1 ID2 and CM = 8 (deflate), the only method gzip defines;
	 * no JSON text starts with a control character */
	if (n >= 3 && m[0] == 0x1f && m[1] == 0x8b && m[2] == 8)
		return "gzip";
	return NULL;
}

int zin_fd(const struct zin *z)
{
	return z->fd;
}

struct zin *zin_fdopen(int fd, const char *name, char *err, size_t errlen)
{
	struct zin *z = xcalloc(1, sizeof *z);
	z->fd = fd;
	z->is_stdin = fd == 0;
	z->name = xstrdup(name);
	z->in_cap = ZSTD_DStreamInSize();
	z->in = xmalloc(z->in_cap);

	while (z->in_len < 4 && !z->eof) {
		ssize_t n = zin_fill_raw(z, z->in + z->in_len,
					 z->in_cap - z->in_len, err, errlen);
		if (n < 0)
			goto fail;
		z->in_len += (size_t)n;
	}
	const char *fmt = zio_magic(z->in, z->in_len);
	z->compressed = fmt != NULL;
	if (fmt && fmt[0] == 'g') {
		z->gz = xcalloc(1, sizeof *z->gz);
		/* 16 + MAX_WBITS: a gzip wrapper, its header and trailer
		 * checked; nothing else accepted */
		if (inflateInit2(z->gz, 16 + MAX_WBITS) != Z_OK) {
			free(z->gz);
			z->gz = NULL;
			zio_err(err, errlen, z->name,
				"gzip: cannot create an inflate context");
			goto fail;
		}
	} else if (z->compressed) {
		z->dctx = ZSTD_createDCtx();
		if (!z->dctx) {
			zio_err(err, errlen, z->name,
				"zstd: cannot create a decompression context");
			goto fail;
		}
	}
	return z;
fail:
	z->is_stdin = true; /* the caller still owns fd */
	zin_close(z);
	return NULL;
}

struct zin *zin_open(const char *path, char *err, size_t errlen)
{
	if (strcmp(path, "-") == 0)
		return zin_fdopen(0, "<stdin>", err, errlen);
	int fd;
	do
		fd = open(path, O_RDONLY | O_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		zio_err(err, errlen, path, strerror(errno));
		return NULL;
	}
	/* Only advice: it fails harmlessly on pipes and some filesystems. */
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	struct zin *z = zin_fdopen(fd, path, err, errlen);
	if (!z) {
		close(fd);
		return NULL;
	}
	z->is_stdin = false;
	return z;
}

static ssize_t zin_read_plain(struct zin *z, void *buf, size_t cap,
			      char *err, size_t errlen)
{
	if (z->in_pos < z->in_len) {
		size_t n = z->in_len - z->in_pos;
		if (n > cap)
			n = cap;
		memcpy(buf, z->in + z->in_pos, n);
		z->in_pos += n;
		return (ssize_t)n;
	}
	if (z->eof)
		return 0;
	return zin_fill_raw(z, buf, cap, err, errlen);
}

static ssize_t zin_read_zstd(struct zin *z, void *buf, size_t cap, char *err,
			     size_t errlen)
{
	for (;;) {
		if (z->in_pos == z->in_len && !z->eof) {
			ssize_t n = zin_fill_raw(z, z->in, z->in_cap, err,
						 errlen);
			if (n < 0)
				return -1;
			z->in_pos = 0;
			z->in_len = (size_t)n;
		}
		/* Input exhausted between frames: a clean end. */
		if (z->in_pos == z->in_len && !z->frame_open)
			return 0;

		ZSTD_inBuffer in = {z->in, z->in_len, z->in_pos};
		ZSTD_outBuffer out = {buf, cap, 0};
		size_t r = ZSTD_decompressStream(z->dctx, &out, &in);
		z->in_pos = in.pos;
		if (ZSTD_isError(r)) {
			char reason[160];
			snprintf(reason, sizeof reason, "zstd: %s",
				 ZSTD_getErrorName(r));
			zio_err(err, errlen, z->name, reason);
			return -1;
		}
		z->frame_open = r != 0;
		if (out.pos > 0)
			return (ssize_t)out.pos;
		/* No output, no input left, frame unfinished: the decoder
		 * holds nothing more to give, so the stream was cut. */
		if (z->eof && z->in_pos == z->in_len && z->frame_open) {
			zio_err(err, errlen, z->name,
				"truncated zstd stream");
			return -1;
		}
	}
}

/*
 * gzip: members one after another (what `cat a.gz b.gz` and gzip itself
 * make).  The stream ends cleanly only between members; EOF inside one
 * is a cut, and bytes after a member that do not start another fail
 * inflate's header check.
 */
static ssize_t zin_read_gzip(struct zin *z, void *buf, size_t cap, char *err,
			     size_t errlen)
{
	if (cap > UINT_MAX)
		cap = UINT_MAX;
	for (;;) {
		if (z->in_pos == z->in_len && !z->eof) {
			ssize_t n = zin_fill_raw(z, z->in, z->in_cap, err,
						 errlen);
			if (n < 0)
				return -1;
			z->in_pos = 0;
			z->in_len = (size_t)n;
		}
		if (z->in_pos == z->in_len && !z->frame_open)
			return 0;
		if (!z->frame_open) {
			if (inflateReset(z->gz) != Z_OK) {
				zio_err(err, errlen, z->name,
					"gzip: cannot reset inflate");
				return -1;
			}
			z->frame_open = true;
		}
		z->gz->next_in = z->in + z->in_pos;
		z->gz->avail_in = (uInt)(z->in_len - z->in_pos);
		z->gz->next_out = buf;
		z->gz->avail_out = (uInt)cap;
		int r = inflate(z->gz, Z_NO_FLUSH);
		z->in_pos = z->in_len - z->gz->avail_in;
		size_t got = cap - z->gz->avail_out;
		if (r == Z_STREAM_END) {
			z->frame_open = false;
			z->members++;
		} else if (r != Z_OK && r != Z_BUF_ERROR) {
			char reason[200];
			const char *why = r == Z_MEM_ERROR ? "out of memory"
					  : z->gz->msg ? z->gz->msg
						       : "corrupt data";
			if (z->members && z->gz->total_in <= 10)
				snprintf(reason, sizeof reason, "gzip: bytes "
					 "after member %llu are not another "
					 "member (%s)", z->members, why);
			else
				snprintf(reason, sizeof reason, "gzip: %s",
					 why);
			zio_err(err, errlen, z->name, reason);
			return -1;
		}
		if (got > 0)
			return (ssize_t)got;
		if (z->eof && z->in_pos == z->in_len && z->frame_open) {
			zio_err(err, errlen, z->name,
				"truncated gzip stream");
			return -1;
		}
	}
}

ssize_t zin_read(struct zin *z, void *buf, size_t cap, char *err,
		 size_t errlen)
{
	if (cap == 0)
		return 0;
	if (z->gz)
		return zin_read_gzip(z, buf, cap, err, errlen);
	if (z->compressed)
		return zin_read_zstd(z, buf, cap, err, errlen);
	return zin_read_plain(z, buf, cap, err, errlen);
}

bool zin_compressed(const struct zin *z)
{
	return z->compressed;
}

unsigned long long zin_raw_bytes(const struct zin *z)
{
	return z->raw;
}

void zin_close(struct zin *z)
{
	if (!z)
		return;
	/* Input only: a close error cannot lose data, so it is not news. */
	if (!z->is_stdin)
		close(z->fd);
	ZSTD_freeDCtx(z->dctx);
	if (z->gz) {
		inflateEnd(z->gz);
		free(z->gz);
	}
	free(z->in);
	free(z->name);
	free(z);
}

/* ---- output ---- */

static int zout_fail(struct zout *z, int e, char *err, size_t errlen)
{
	if (!z->err_no) {
		z->err_no = e;
		snprintf(z->msg, sizeof z->msg, "write: %s", strerror(e));
	}
	if (err && errlen)
		snprintf(err, errlen, "%s", z->msg);
	errno = z->err_no;
	return -1;
}

/* Only a failed setup can set msg without a write having failed. */
static int zout_failed(struct zout *z, char *err, size_t errlen)
{
	return zout_fail(z, z->err_no, err, errlen);
}

static int zout_write_fd(struct zout *z, const unsigned char *p, size_t n,
			 char *err, size_t errlen)
{
	while (n > 0) {
		ssize_t w = write(z->fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				zio_wait(z->fd, POLLOUT);
				continue;
			}
			return zout_fail(z, errno, err, errlen);
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Feed src to the compressor with mode, writing out compressed bytes as
 * they fill zbuf.  For flush and end, loops until zstd says it is done. */
static int zout_compress(struct zout *z, const void *src, size_t n,
			 ZSTD_EndDirective mode, char *err, size_t errlen)
{
	ZSTD_inBuffer in = {src, n, 0};
	for (;;) {
		ZSTD_outBuffer out = {z->zbuf, z->zcap, z->zlen};
		size_t r = ZSTD_compressStream2(z->cctx, &out, &in, mode);
		z->zlen = out.pos;
		if (ZSTD_isError(r)) {
			/* Not a write error, but just as final. */
			z->err_no = EIO;
			snprintf(z->msg, sizeof z->msg, "zstd: %s",
				 ZSTD_getErrorName(r));
			return zout_failed(z, err, errlen);
		}
		bool done = mode == ZSTD_e_continue ? in.pos == in.size : r == 0;
		if (z->zlen == z->zcap ||
		    (mode != ZSTD_e_continue && z->zlen > 0)) {
			if (zout_write_fd(z, z->zbuf, z->zlen, err, errlen) < 0)
				return -1;
			z->zlen = 0;
		}
		if (done)
			return 0;
	}
}

/* Hand the plain buffer on (to the fd or the compressor). */
static int zout_drain(struct zout *z, char *err, size_t errlen)
{
	if (z->len == 0)
		return 0;
	int rc = z->cctx ? zout_compress(z, z->buf, z->len, ZSTD_e_continue,
					 err, errlen)
			 : zout_write_fd(z, z->buf, z->len, err, errlen);
	z->len = 0;
	return rc;
}

struct zout *zout_open(int fd, int level)
{
	struct zout *z = xcalloc(1, sizeof *z);
	z->fd = fd;
	z->buf = xmalloc(ZOUT_BUFSZ);
	if (level <= 0)
		return z;
	z->zcap = ZSTD_CStreamOutSize();
	z->zbuf = xmalloc(z->zcap);
	z->cctx = ZSTD_createCCtx();
	/* zout_open cannot report; the first write will. */
	if (!z->cctx) {
		z->err_no = ENOMEM;
		snprintf(z->msg, sizeof z->msg,
			 "zstd: cannot create a compression context");
		return z;
	}
	size_t r = ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_compressionLevel,
					  level);
	if (ZSTD_isError(r)) {
		z->err_no = EINVAL;
		snprintf(z->msg, sizeof z->msg, "zstd: level %d: %s", level,
			 ZSTD_getErrorName(r));
	}
	return z;
}

int zout_write(struct zout *z, const void *data, size_t n, char *err,
	       size_t errlen)
{
	if (z->err_no)
		return zout_failed(z, err, errlen);
	if (n <= ZOUT_BUFSZ - z->len) {
		memcpy(z->buf + z->len, data, n);
		z->len += n;
		return 0;
	}
	if (zout_drain(z, err, errlen) < 0)
		return -1;
	/* Big writes skip the copy. */
	if (n >= ZOUT_BUFSZ)
		return z->cctx ? zout_compress(z, data, n, ZSTD_e_continue,
					       err, errlen)
			       : zout_write_fd(z, data, n, err, errlen);
	memcpy(z->buf, data, n);
	z->len = n;
	return 0;
}

int zout_flush(struct zout *z, char *err, size_t errlen)
{
	if (z->err_no)
		return zout_failed(z, err, errlen);
	if (zout_drain(z, err, errlen) < 0)
		return -1;
	if (z->cctx)
		return zout_compress(z, NULL, 0, ZSTD_e_flush, err, errlen);
	return 0;
}

int zout_close(struct zout *z, char *err, size_t errlen)
{
	if (!z)
		return 0;
	int rc;
	if (z->err_no)
		rc = zout_failed(z, err, errlen);
	else if (zout_drain(z, err, errlen) < 0)
		rc = -1;
	else if (z->cctx)
		rc = zout_compress(z, NULL, 0, ZSTD_e_end, err, errlen);
	else
		rc = 0;
	int e = z->err_no;
	ZSTD_freeCCtx(z->cctx);
	free(z->zbuf);
	free(z->buf);
	free(z);
	/* z is gone: errno is how the caller tells EPIPE from the rest. */
	if (rc < 0)
		errno = e;
	return rc;
}

int zout_errno(const struct zout *z)
{
	return z->err_no;
}
