/*
 * zio: byte streams that may be zstd- or gzip-compressed.
 *
 * Input.  zin_open() reads until it holds four bytes (or EOF: a pipe may
 * hand out one byte at a time; or bytes no magic starts with, so a short
 * first line from a live pipe is not held back) and keeps them in the
 * input buffer.  If they are the zstd magic the stream is decompressed
 * with a ZSTD_DCtx, frame after frame; otherwise the buffered bytes are
 * handed out first and later reads go straight from the descriptor into
 * the caller's buffer, so plain input costs one copy (the kernel's).
 * zin_would_block() says whether the next read would wait: nothing
 * buffered here or in the decoder, and nothing ready on the descriptor.
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
#define _GNU_SOURCE /* sync_file_range */
#include "zio.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "pool.h"
#include "xalloc.h"

#define ZIO_MAGIC 0xFD2FB528u /* zstd frame magic, little-endian */
#define ZIO_SKIPPABLE 0x184D2A50u /* a skippable frame's, low 4 bits any */
#define ZOUT_BUFSZ (128u << 10)

struct zin {
	int fd;
	bool is_stdin;
	bool compressed;
	bool eof;        /* the descriptor said EOF */
	bool frame_open; /* inside a zstd frame (last return was not 0) */
	/* The decoder filled the caller's buffer inside a frame, so it may
	 * hold more output: ask it before reading (and blocking) again. */
	bool more;
	char *name;
	ZSTD_DCtx *dctx;
	z_stream *gz;    /* gzip: inflate, member after member */
	unsigned long long members; /* gzip members read whole */
	unsigned char *in; /* peeked bytes, then compressed input */
	size_t in_cap, in_pos, in_len;
	unsigned long long raw;
};

/* A frame: raw bytes in, compressed bytes out. */
struct zjob {
	unsigned char *raw;
	size_t rawlen, rawcap;
	unsigned char *out;
	size_t outlen, outcap;
	int level;
	size_t zerr; /* a zstd error code, 0 if none */
	bool nomem;  /* no compression context could be made */
	bool done;
	struct zjob *next; /* the pool's queue or free list */
	struct pool mem; /* raw and out of a whole frame, when mapped */
};

struct zpool {
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct zjob *head, *tail; /* waiting for a thread */
	struct zjob *free;
	pthread_t *th;
	int nth;
	bool stop;
	size_t inflight, limit; /* submitted, not yet written */
	size_t buffered;        /* caller side only */
	size_t frame;           /* raw bytes of a frame */
	ZSTD_CCtx *cctx;        /* the caller's, with no threads */
	_Atomic unsigned long long cpu_ns;
};

struct zout {
	int fd;
	struct zpool *pool;  /* framed mode */
	int level;
	struct zjob *cur;    /* the frame being filled */
	struct zjob **q;     /* submitted frames, in file order */
	size_t qhead, qn, qcap;
	int err_no;       /* errno of the first failed write; 0 if none */
	char msg[128];    /* its message, repeated by every later call */
	ZSTD_CCtx *cctx;  /* NULL when plain */
	unsigned char *buf; /* uncompressed bytes not yet handed on */
	size_t len;
	unsigned char *zbuf; /* compressed bytes not yet written */
	size_t zcap, zlen;
	bool writeback;           /* zout_start_writeback */
	unsigned long long zoff;  /* compressed bytes written, framed mode */
	/* zout_write_frames' frames not yet written: a chunk's frames
	 * are some 40 KB, and a write and a writeback each cost the
	 * kernel more than the copy */
	unsigned char *fbuf;
	size_t flen, fcap;
};

static int zout_pool_write(struct zout *z, const unsigned char *d, size_t n,
			   char *err, size_t errlen);
static int zout_submit(struct zout *z, char *err, size_t errlen);
static int zout_reap(struct zout *z, size_t keep, char *err, size_t errlen);
static int zout_write_held(struct zout *z, char *err, size_t errlen);

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
	uint32_t w = n >= 4 ? (uint32_t)m[0] | (uint32_t)m[1] << 8 |
				      (uint32_t)m[2] << 16 |
				      (uint32_t)m[3] << 24
			    : 0;
	/* or a skippable frame (184D2A50..5F), which the zstd format puts
	 * in a stream and pzstd writes first: zstd -d reads it, so do we */
	if (n >= 4 && (w == ZIO_MAGIC || (w & ~0xFu) == ZIO_SKIPPABLE))
		return "zstd";
	/* ID1 ID2 and CM = 8 (deflate), the only method gzip defines;
	 * no JSON text starts with a control character */
	if (n >= 3 && m[0] == 0x1f && m[1] == 0x8b && m[2] == 8)
		return "gzip";
	return NULL;
}

/* p[0..n) could still grow into the zstd or the gzip magic. */
static bool zio_magic_prefix(const unsigned char *p, size_t n)
{
	static const unsigned char zstd[] = {0x28, 0xb5, 0x2f, 0xfd};
	static const unsigned char skip[] = {0x50, 0x2a, 0x4d, 0x18};
	static const unsigned char gzip[] = {0x1f, 0x8b, 0x08};
	bool skippable = n == 0 || ((p[0] & 0xf0) == 0x50 &&
				    memcmp(p + 1, skip + 1, n < 4 ? n - 1 : 3)
					    == 0);
	return memcmp(p, zstd, n < 4 ? n : 4) == 0 || skippable ||
	       memcmp(p, gzip, n < 3 ? n : 3) == 0;
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

	/* A first line shorter than the magic (a record "{}" from a live
	 * pipe) must not wait for more bytes: stop as soon as the bytes
	 * held cannot start a magic. */
	while (z->in_len < 4 && !z->eof &&
	       zio_magic_prefix(z->in, z->in_len)) {
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
		if (z->in_pos == z->in_len && !z->eof && !z->more) {
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
		z->more = z->frame_open && out.pos == out.size;
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
		if (z->in_pos == z->in_len && !z->eof && !z->more) {
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
		z->more = z->gz->avail_out == 0;
		if (r == Z_STREAM_END) {
			z->frame_open = false;
			z->more = false; /* a member's end: all output given */
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

bool zin_would_block(const struct zin *z)
{
	if (z->eof || z->in_pos < z->in_len || z->more)
		return false;
	struct pollfd p = {.fd = z->fd, .events = POLLIN};
	int n;
	while ((n = poll(&p, 1, 0)) < 0 && errno == EINTR)
		;
	return n == 0; /* an error or POLLNVAL: let read() say it */
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
	/* each frame ends with a checksum of its content, which the reader
	 * checks: what is read back is what was written, or an error */
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(z->cctx, ZSTD_c_checksumFlag, 1);
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
	if (z->pool)
		return zout_pool_write(z, data, n, err, errlen);
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

size_t zout_room(const struct zout *z)
{
	return z->pool ? 0 : ZOUT_BUFSZ - z->len;
}

int zout_flush(struct zout *z, char *err, size_t errlen)
{
	if (z->err_no)
		return zout_failed(z, err, errlen);
	if (z->pool)
		return zout_submit(z, err, errlen) < 0 ||
				       zout_reap(z, 0, err, errlen) < 0
			       ? -1
			       : zout_write_held(z, err, errlen);
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
	if (z->pool) {
		/* every frame of z leaves the pool, written or not */
		rc = z->err_no ? zout_failed(z, err, errlen)
			       : zout_submit(z, err, errlen);
		if (zout_reap(z, 0, err, errlen) < 0 && rc == 0)
			rc = -1;
		if (rc == 0 && zout_write_held(z, err, errlen) < 0)
			rc = -1;
		free(z->fbuf);
		if (z->cur) {
			struct zpool *p = z->pool;
			p->buffered -= z->cur->rawlen;
			pthread_mutex_lock(&p->mu);
			z->cur->next = p->free;
			p->free = z->cur;
			pthread_mutex_unlock(&p->mu);
		}
		if (rc == 0 && z->err_no)
			rc = zout_failed(z, err, errlen);
		int e = z->err_no;
		free(z->q);
		free(z);
		if (rc < 0)
			errno = e;
		return rc;
	}
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

/* ---- framed output on a pool ---- */

static unsigned long long thread_cpu_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (unsigned long long)t.tv_sec * 1000000000ull +
	       (unsigned long long)t.tv_nsec;
}

static void zjob_free_bufs(struct zjob *j)
{
	if (j->mem.base) {
		pool_free(&j->mem);
	} else {
		free(j->raw);
		free(j->out);
	}
	j->raw = j->out = NULL;
	j->rawcap = j->outcap = 0;
}

/*
 * A whole frame's raw bytes and its compressed bound in one mapping on
 * huge pages: a job lives for the whole write and is refilled frame
 * after frame, and the 8 or so in flight with -j 2 touched 16 MiB of
 * fresh 4 KiB pages, 4000 faults of 10 us on a virtual CPU (a tenth of
 * what -j 2 cost over -j 1).  False (j as it was) where no mapping is to
 * be had: the heap then serves.
 */
static bool zjob_map_frame(struct zjob *j, size_t frame)
{
	size_t bound = ZSTD_compressBound(frame);
	size_t at = (frame + 4095) & ~(size_t)4095;
	struct pool m;
	if (bound < frame || !pool_init_huge(&m, at + bound))
		return false;
	if (j->rawlen)
		memcpy(m.base, j->raw, j->rawlen);
	zjob_free_bufs(j);
	j->mem = m;
	j->raw = (unsigned char *)m.base;
	j->rawcap = frame;
	j->out = (unsigned char *)m.base + at;
	j->outcap = bound;
	return true;
}

/* One frame of src at level into dst: a pool's frame, by a pool thread
 * or by zframes_compress alike (its bytes depend on the level and the
 * input only).  ZSTD_compress2's result: a size, or an error code. */
static size_t frame_compress(ZSTD_CCtx *cctx, int level, void *dst,
			     size_t cap, const void *src, size_t n)
{
	size_t r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel,
					  level);
	return ZSTD_isError(r) ? r : ZSTD_compress2(cctx, dst, cap, src, n);
}

/* Compress one frame with cctx (the thread's own). */
static void zjob_run(struct zpool *p, ZSTD_CCtx *cctx, struct zjob *j)
{
	unsigned long long t0 = thread_cpu_ns();
	size_t need = ZSTD_compressBound(j->rawlen);
	if (j->outcap < need) { /* never one in j->mem: it is a frame's */
		free(j->out);
		j->out = xmalloc(need);
		j->outcap = need;
	}
	j->zerr = 0;
	j->nomem = false;
	size_t r = frame_compress(cctx, j->level, j->out, j->outcap, j->raw,
				  j->rawlen);
	if (ZSTD_isError(r)) {
		j->zerr = r;
		j->outlen = 0;
	} else {
		j->outlen = r;
	}
	atomic_fetch_add(&p->cpu_ns, thread_cpu_ns() - t0);
}

static void *zpool_main(void *arg)
{
	struct zpool *p = arg;
	ZSTD_CCtx *cctx = ZSTD_createCCtx();
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->head && !p->stop)
			pthread_cond_wait(&p->work, &p->mu);
		if (!p->head)
			break;
		struct zjob *j = p->head;
		p->head = j->next;
		if (!p->head)
			p->tail = NULL;
		pthread_mutex_unlock(&p->mu);
		if (cctx) {
			zjob_run(p, cctx, j);
		} else {
			j->nomem = true;
			j->outlen = 0;
		}
		pthread_mutex_lock(&p->mu);
		j->done = true;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	ZSTD_freeCCtx(cctx);
	return NULL;
}

struct zpool *zpool_new(int threads)
{
	struct zpool *p = xcalloc(1, sizeof *p);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	atomic_init(&p->cpu_ns, 0);
	p->frame = ZIO_FRAME;
	p->limit = threads > 0 ? 2 * (size_t)threads + 2 : 0;
	if (threads > 0) {
		p->th = xcalloc((size_t)threads, sizeof *p->th);
		for (int i = 0; i < threads; i++) {
			if (pthread_create(&p->th[i], NULL, zpool_main, p) != 0)
				break; /* fewer threads: still correct */
			p->nth++;
		}
	}
	if (!p->nth)
		p->limit = 0;
	return p;
}

void zpool_free(struct zpool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->nth; i++)
		pthread_join(p->th[i], NULL);
	free(p->th);
	while (p->free) {
		struct zjob *j = p->free;
		p->free = j->next;
		zjob_free_bufs(j);
		free(j);
	}
	ZSTD_freeCCtx(p->cctx);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

void zpool_set_frame(struct zpool *p, size_t n)
{
	p->frame = n ? n : ZIO_FRAME;
}

double zpool_cpu_seconds(const struct zpool *p)
{
	return p ? (double)atomic_load(&p->cpu_ns) / 1e9 : 0;
}

size_t zpool_buffered(const struct zpool *p)
{
	return p->buffered;
}

struct zout *zout_open_pool(int fd, int level, struct zpool *pool)
{
	struct zout *z = xcalloc(1, sizeof *z);
	z->fd = fd;
	z->pool = pool;
	z->level = level;
	return z;
}

/* The frame just written, len bytes at z->zoff, on its way to the
 * disk: a hint, whose failure the fsync that follows will say. */
static void zout_writeback(struct zout *z, size_t len)
{
#ifdef SYNC_FILE_RANGE_WRITE
	(void)sync_file_range(z->fd, (off_t)z->zoff, (off_t)len,
			      SYNC_FILE_RANGE_WRITE);
#endif
	z->zoff += len;
}

void zout_start_writeback(struct zout *z)
{
	z->writeback = true;
}

/* Write zout_write_frames' frames held back; they precede any frame
 * queued after them. */
static int zout_write_held(struct zout *z, char *err, size_t errlen)
{
	if (!z->flen)
		return 0;
	size_t n = z->flen;
	z->flen = 0;
	if (zout_write_fd(z, z->fbuf, n, err, errlen) < 0)
		return -1;
	if (z->writeback)
		zout_writeback(z, n);
	return 0;
}

/* Write the finished frames at the head of z's queue, in order; with
 * wait, until the queue is down to keep frames. */
static int zout_reap(struct zout *z, size_t keep, char *err, size_t errlen)
{
	struct zpool *p = z->pool;
	int rc = 0;
	if (z->qn && zout_write_held(z, err, errlen) < 0)
		rc = -1;
	while (z->qn) {
		struct zjob *j = z->q[z->qhead];
		pthread_mutex_lock(&p->mu);
		while (!j->done && z->qn > keep)
			pthread_cond_wait(&p->done, &p->mu);
		bool done = j->done;
		pthread_mutex_unlock(&p->mu);
		if (!done)
			break;
		if (rc == 0 && !z->err_no) {
			if (j->zerr || j->nomem) {
				z->err_no = j->nomem ? ENOMEM : EIO;
				snprintf(z->msg, sizeof z->msg, "zstd: %s",
					 j->nomem ? "cannot create a compression "
						    "context"
						  : ZSTD_getErrorName(j->zerr));
				rc = zout_failed(z, err, errlen);
			} else {
				rc = zout_write_fd(z, j->out, j->outlen, err,
						   errlen);
				if (rc == 0 && z->writeback)
					zout_writeback(z, j->outlen);
			}
		}
		z->qhead = (z->qhead + 1) % z->qcap;
		z->qn--;
		pthread_mutex_lock(&p->mu);
		p->inflight--;
		j->next = p->free;
		p->free = j;
		pthread_mutex_unlock(&p->mu);
	}
	return rc;
}

/* Hand the current frame on: to a thread, or compressed here. */
static int zout_submit(struct zout *z, char *err, size_t errlen)
{
	struct zjob *j = z->cur;
	if (!j || !j->rawlen)
		return 0;
	struct zpool *p = z->pool;
	z->cur = NULL;
	p->buffered -= j->rawlen;
	j->level = z->level;
	j->done = false;
	/* a small frame is compressed here: a hand-over to a thread would
	 * cost more, and the bytes are the same on any thread (they depend
	 * on the level and the input only) */
	bool here = !p->nth || j->rawlen < (64u << 10);
	if (here) {
		if (!p->cctx)
			p->cctx = ZSTD_createCCtx();
		if (p->cctx) {
			zjob_run(p, p->cctx, j);
		} else {
			j->nomem = true;
			j->outlen = 0;
		}
		j->done = true;
	}
	if (z->qn == z->qcap) {
		/* grow the ring, unrolled to start at 0 */
		size_t ncap = z->qcap ? 2 * z->qcap : 8;
		struct zjob **nq = xcalloc(ncap, sizeof *nq);
		for (size_t i = 0; i < z->qn; i++)
			nq[i] = z->q[(z->qhead + i) % z->qcap];
		free(z->q);
		z->q = nq;
		z->qcap = ncap;
		z->qhead = 0;
	}
	z->q[(z->qhead + z->qn) % z->qcap] = j;
	z->qn++;
	pthread_mutex_lock(&p->mu);
	p->inflight++;
	if (!here) {
		j->next = NULL;
		if (p->tail)
			p->tail->next = j;
		else
			p->head = j;
		p->tail = j;
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->mu);
	/* write what is done; over the pool's bound, wait for this
	 * file's oldest (every queued frame is some thread's work, so the
	 * wait ends) */
	size_t keep = z->qn;
	if (p->inflight > p->limit)
		keep = z->qn > p->inflight - p->limit
			       ? z->qn - (p->inflight - p->limit)
			       : 0;
	return zout_reap(z, keep, err, errlen);
}

static int zout_pool_write(struct zout *z, const unsigned char *d, size_t n,
			   char *err, size_t errlen)
{
	struct zpool *p = z->pool;
	while (n) {
		if (!z->cur) {
			pthread_mutex_lock(&p->mu);
			struct zjob *j = p->free;
			if (j)
				p->free = j->next;
			pthread_mutex_unlock(&p->mu);
			if (!j)
				j = xcalloc(1, sizeof *j);
			j->rawlen = 0;
			z->cur = j;
		}
		struct zjob *j = z->cur;
		size_t room = p->frame - j->rawlen;
		size_t k = n < room ? n : room;
		if (j->rawcap < j->rawlen + k) {
			/* grow by doubling up to a frame: a file of a few
			 * records holds a few records' bytes */
			size_t c = j->rawcap ? j->rawcap : 4096;
			while (c < j->rawlen + k)
				c *= 2;
			if (c > p->frame)
				c = p->frame;
			if (c == p->frame && zjob_map_frame(j, c))
				;
			else {
				j->raw = xrealloc(j->raw, c);
				j->rawcap = c;
			}
		}
		memcpy(j->raw + j->rawlen, d, k);
		j->rawlen += k;
		p->buffered += k;
		d += k;
		n -= k;
		if (j->rawlen == p->frame && zout_submit(z, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int zout_cut(struct zout *z, char *err, size_t errlen)
{
	if (z->err_no)
		return zout_failed(z, err, errlen);
	if (!z->pool)
		return zout_flush(z, err, errlen);
	return zout_submit(z, err, errlen);
}

int zframes_compress(struct zpool *p, void **cctx, int level,
		     const void *src, size_t n, unsigned char **out,
		     size_t *len, size_t *cap, char *err, size_t errlen)
{
	unsigned long long t0 = thread_cpu_ns();
	if (!*cctx)
		*cctx = ZSTD_createCCtx();
	if (!*cctx) {
		snprintf(err, errlen, "zstd: cannot create a compression "
			 "context");
		return -1;
	}
	int rc = 0;
	size_t r = 0;
	const unsigned char *s = src;
	while (n && !ZSTD_isError(r)) {
		size_t k = n < p->frame ? n : p->frame;
		size_t need = ZSTD_compressBound(k);
		if (*cap - *len < need) {
			size_t c = *cap ? *cap : 65536;
			while (c - *len < need)
				c *= 2;
			*out = xrealloc(*out, c);
			*cap = c;
		}
		r = frame_compress(*cctx, level, *out + *len, *cap - *len, s,
				   k);
		if (!ZSTD_isError(r))
			*len += r;
		s += k;
		n -= k;
	}
	if (ZSTD_isError(r)) {
		snprintf(err, errlen, "zstd: %s", ZSTD_getErrorName(r));
		rc = -1;
	}
	atomic_fetch_add(&p->cpu_ns, thread_cpu_ns() - t0);
	return rc;
}

void zframes_free(void *cctx)
{
	ZSTD_freeCCtx(cctx);
}

int zout_write_frames(struct zout *z, const void *frames, size_t n,
		      char *err, size_t errlen)
{
	if (z->err_no)
		return zout_failed(z, err, errlen);
	if (zout_submit(z, err, errlen) < 0 || zout_reap(z, 0, err, errlen) < 0)
		return -1;
	if (!n)
		return 0;
	if (z->fcap - z->flen < n) {
		size_t c = z->fcap ? z->fcap : ZIO_FRAME;
		while (c - z->flen < n)
			c *= 2;
		z->fbuf = xrealloc(z->fbuf, c);
		z->fcap = c;
	}
	memcpy(z->fbuf + z->flen, frames, n);
	z->flen += n;
	return z->flen >= ZIO_FRAME ? zout_write_held(z, err, errlen) : 0;
}
