/*
 * zio: byte streams that may be zstd- or gzip-compressed.
 *
 * Input: zin_open() looks at the first four bytes of a file or of stdin;
 * the zstd magic (28 B5 2F FD, or 5x 2A 4D 18: a skippable frame, as
 * pzstd starts) or the gzip magic (1F 8B 08) switches
 * decompression on (concatenated frames or members too), anything else
 * passes through.  No seeking is needed, so pipes work.  A compressed
 * stream cut short, corrupt (gzip's CRC-32 and length are checked) or
 * followed by bytes that are not another frame or member is an error
 * naming the input, never a short read taken for the end.
 *
 * Output: a buffered writer over a descriptor, plain or zstd at a level.
 * Every write error is kept and reported (ENOSPC, EIO, EPIPE); nothing is
 * swallowed.
 */
#ifndef IDEM_ZIO_H
#define IDEM_ZIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct zin;

/* path "-" is stdin.  NULL with err "PATH: reason" on failure. */
struct zin *zin_open(const char *path, char *err, size_t errlen);
struct zin *zin_fdopen(int fd, const char *name, char *err, size_t errlen);
/* Up to cap decompressed bytes; 0 at end; -1 with err (also for a
 * truncated or corrupt zstd frame or gzip member). */
ssize_t zin_read(struct zin *z, void *buf, size_t cap, char *err,
		 size_t errlen);
/* A zin_read() now would wait for the descriptor: nothing is buffered
 * (bytes peeked, compressed input, decoder output) and poll() finds no
 * byte (nor the end) ready.  Never for a regular file. */
bool zin_would_block(const struct zin *z);
bool zin_compressed(const struct zin *z);
/* "zstd" or "gzip" when p[0..n) starts with that format's magic, else
 * NULL: for a tool that must refuse compressed input (byte offsets). */
const char *zio_magic(const void *p, size_t n);
/* Compressed bytes consumed so far (for progress and --stats). */
unsigned long long zin_raw_bytes(const struct zin *z);
int zin_fd(const struct zin *z);
void zin_close(struct zin *z); /* closes the fd unless it was stdin */

struct zout;

/* level 0: plain; 1..19: zstd, each frame with a content checksum that
 * zin checks.  The fd stays the caller's. */
struct zout *zout_open(int fd, int level);
int zout_write(struct zout *z, const void *data, size_t n, char *err,
	       size_t errlen);
/* Bytes zout_write() takes now without writing to the fd (0 when it
 * cannot promise any: framed mode), so a caller can put first what must
 * reach its own reader before this file changes. */
size_t zout_room(const struct zout *z);
/* Push buffered bytes to the fd (a zstd flush when compressing). */
int zout_flush(struct zout *z, char *err, size_t errlen);
/* Finish the frame (zstd), flush, free z.  Does not close the fd. */
int zout_close(struct zout *z, char *err, size_t errlen);
/* Last errno seen by a failed write (EPIPE lets tools exit quietly). */
int zout_errno(const struct zout *z);

/*
 * Framed zstd output compressed on threads.  A zout opened on a pool
 * writes independent zstd frames, each of ZIO_FRAME raw bytes (the last
 * shorter, and a frame ends early at zout_cut), one after the other:
 * any zstd reader (zin, zstd -dc) reads them as one stream.  The frames
 * are cut where the bytes fall, never where a thread is free, so the
 * file is byte for byte the same with any number of threads; a pool of
 * 0 threads compresses on the caller.  The caller's thread writes the
 * frames in order; at most about 2 x threads + 2 frames of a pool are in
 * flight (memory bounded).  A pool serves any number of zouts, opened
 * and used by one thread.
 */
/* 1 MiB: the frame being filled and the frames compressing stay in the
 * cache, and few fresh pages are touched (with 4 MiB frames append -j 2
 * took 1.15 s of CPU, not 1.10 s, and 41 MB, not 17 MB; wall time the
 * same); the size costs about 0.6% against one frame.  (An unpartitioned
 * txlog append makes its frames apart, a 256 KiB chunk each:
 * zframes_compress below.) */
#define ZIO_FRAME (1u << 20)
struct zpool;
struct zpool *zpool_new(int threads);
void zpool_free(struct zpool *p); /* every zout on it closed first */
/* Frames of n raw bytes instead of ZIO_FRAME (tests: many frames from
 * little data).  Before any zout opens on the pool. */
void zpool_set_frame(struct zpool *p, size_t n);
/* CPU seconds the pool spent compressing, on every thread. */
double zpool_cpu_seconds(const struct zpool *p);
/* Raw bytes written to the pool's zouts and not yet in a frame. */
size_t zpool_buffered(const struct zpool *p);
struct zout *zout_open_pool(int fd, int level, struct zpool *pool);
/* For a file that will be fsynced: every frame's writeback is started
 * once it is written (sync_file_range), so that the disk works while
 * the rest is compressed and the fsync waits for the last frames only
 * (a 34 MB table file's fsync took 40 ms at the end of its append). */
void zout_start_writeback(struct zout *z);
/* End the current frame here (no wait): bounds what zpool_buffered
 * holds, e.g. over many open files. */
int zout_cut(struct zout *z, char *err, size_t errlen);

/*
 * Frames made off the pool, by a thread that has the raw bytes in its
 * cache (txlog append's parse workers, chunk by chunk): src[0, n) in
 * frames of the pool's frame size, as a zout on p would compress them
 * (the bytes depend on the level and the input only), appended to
 * out[*len..] (grown, *cap its size), by *cctx (the thread's own, made
 * on first use; zframes_free frees it).  The CPU counts in
 * zpool_cpu_seconds.  0, or -1 with err.  Any thread.
 */
int zframes_compress(struct zpool *p, void **cctx, int level,
		     const void *src, size_t n, unsigned char **out,
		     size_t *len, size_t *cap, char *err, size_t errlen);
void zframes_free(void *cctx);
/* Write frames zframes_compress made after everything z was given
 * before: z's open frame is cut and its queue written first. */
int zout_write_frames(struct zout *z, const void *frames, size_t n,
		      char *err, size_t errlen);

#endif
