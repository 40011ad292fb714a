/*
 * zio: round trips plain, zstd and gzip, reads with tiny buffers, flush making
 * a partial frame decodable, and write errors that stick (ENOSPC from
 * /dev/full, EPIPE from a closed pipe).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "buf.h"
#include "unit.h"
#include "zio.h"

static char tmpdir[] = "/tmp/test_zio.XXXXXX";

static const char *tmp_path(const char *name)
{
	static char p[256];
	snprintf(p, sizeof p, "%s/%s", tmpdir, name);
	return p;
}

static void slurp(const char *p, struct buf *b)
{
	char tmp[4096];
	FILE *f = fopen(p, "rb");
	size_t n;
	buf_reset(b);
	buf_add(b, "", 0);
	if (!f)
		return;
	while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
		buf_add(b, tmp, n);
	fclose(f);
}

/* Everything zin gives for p, read cap bytes at a time. */
static int zin_all(const char *p, size_t cap, struct buf *b, bool *compressed,
		   char *err, size_t errlen)
{
	struct zin *z = zin_open(p, err, errlen);
	buf_reset(b);
	buf_add(b, "", 0);
	if (!z)
		return -1;
	char *tmp = malloc(cap);
	ssize_t n;
	while ((n = zin_read(z, tmp, cap, err, errlen)) > 0)
		buf_add(b, tmp, (size_t)n);
	if (compressed)
		*compressed = zin_compressed(z);
	free(tmp);
	zin_close(z);
	return n < 0 ? -1 : 0;
}

/* Some text that compresses, with a varied length per chunk. */
static void sample(struct buf *b, int records)
{
	buf_reset(b);
	for (int i = 0; i < records; i++)
		buf_addf(b, "{\"id\":%d,\"v\":\"%.*s\"}\n", i, i % 97,
			 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
			 "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
}

static int write_with(const char *p, int level, const struct buf *data,
		      size_t chunk)
{
	char err[256];
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct zout *z = zout_open(fd, level);
	int rc = 0;
	for (size_t off = 0; off < data->len && rc == 0; off += chunk) {
		size_t n = data->len - off < chunk ? data->len - off : chunk;
		rc = zout_write(z, data->p + off, n, err, sizeof err);
	}
	if (zout_close(z, err, sizeof err) != 0)
		rc = -1;
	if (close(fd) != 0)
		rc = -1;
	return rc;
}

TEST(plain_round_trip)
{
	struct buf data = {0}, back = {0};
	char err[256] = "";
	bool zc = true;
	sample(&data, 20000);
	const char *p = tmp_path("plain");
	CHECK_INT(write_with(p, 0, &data, 100), 0);
	slurp(p, &back);
	CHECK(back.len == data.len && memcmp(back.p, data.p, data.len) == 0);
	CHECK_INT(zin_all(p, 65536, &back, &zc, err, sizeof err), 0);
	CHECK(!zc);
	CHECK(back.len == data.len && memcmp(back.p, data.p, data.len) == 0);
	/* One big write bypasses the buffer. */
	CHECK_INT(write_with(p, 0, &data, data.len), 0);
	slurp(p, &back);
	CHECK(back.len == data.len && memcmp(back.p, data.p, data.len) == 0);
	buf_free(&data);
	buf_free(&back);
}

TEST(zstd_round_trip_any_read_size)
{
	struct buf data = {0}, back = {0};
	char err[256] = "";
	bool zc = false;
	sample(&data, 30000);
	const char *p = tmp_path("z");
	CHECK_INT(write_with(p, 3, &data, 333), 0);
	slurp(p, &back);
	CHECK(back.len < data.len / 3);
	CHECK(back.len >= 4 && memcmp(back.p, "\x28\xb5\x2f\xfd", 4) == 0);
	static const size_t caps[] = {1, 7, 4096, 1 << 20};
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		CHECK_INT(zin_all(p, caps[i], &back, &zc, err, sizeof err), 0);
		CHECK(zc);
		CHECK(back.len == data.len &&
		      memcmp(back.p, data.p, data.len) == 0);
	}
	CHECK_INT(write_with(p, 19, &data, data.len), 0);
	CHECK_INT(zin_all(p, 4096, &back, &zc, err, sizeof err), 0);
	CHECK(back.len == data.len && memcmp(back.p, data.p, data.len) == 0);
	buf_free(&data);
	buf_free(&back);
}

TEST(empty_output_is_an_empty_frame_or_nothing)
{
	struct buf none = {0}, back = {0};
	char err[256] = "";
	bool zc = false;
	const char *p = tmp_path("empty");
	CHECK_INT(write_with(p, 0, &none, 1), 0);
	slurp(p, &back);
	CHECK_INT(back.len, 0);
	CHECK_INT(zin_all(p, 100, &back, &zc, err, sizeof err), 0);
	CHECK_INT(back.len, 0);
	CHECK_INT(write_with(p, 1, &none, 1), 0);
	slurp(p, &back);
	CHECK(back.len > 0);
	CHECK_INT(zin_all(p, 100, &back, &zc, err, sizeof err), 0);
	CHECK(zc);
	CHECK_INT(back.len, 0);
	buf_free(&back);
}

TEST(short_files_pass_through)
{
	struct buf back = {0};
	char err[256] = "";
	const char *p = tmp_path("short");
	FILE *f = fopen(p, "wb");
	fputs("\x28\xb5\x2f", f);
	fclose(f);
	CHECK_INT(zin_all(p, 2, &back, NULL, err, sizeof err), 0);
	CHECK_STR(back.p, "\x28\xb5\x2f");
	buf_free(&back);
}

TEST(open_errors_name_the_file)
{
	char err[256] = "", want[300];
	const char *p = tmp_path("missing");
	CHECK(zin_open(p, err, sizeof err) == NULL);
	snprintf(want, sizeof want, "%s: No such file or directory", p);
	CHECK_STR(err, want);
	CHECK(zin_open(tmpdir, err, sizeof err) == NULL);
	snprintf(want, sizeof want, "%s: Is a directory", tmpdir);
	CHECK_STR(err, want);
}

TEST(flush_makes_what_was_written_decodable)
{
	char err[256] = "";
	const char *p = tmp_path("flushed");
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	struct zout *z = zout_open(fd, 3);
	CHECK_INT(zout_write(z, "{\"a\":1}\n", 8, err, sizeof err), 0);
	CHECK_INT(zout_flush(z, err, sizeof err), 0);

	/* The frame is still open, yet all 8 bytes decode. */
	struct buf raw = {0};
	slurp(p, &raw);
	char out[64];
	ZSTD_DCtx *d = ZSTD_createDCtx();
	ZSTD_inBuffer in = {raw.p, raw.len, 0};
	ZSTD_outBuffer o = {out, sizeof out, 0};
	size_t r = ZSTD_decompressStream(d, &o, &in);
	CHECK(!ZSTD_isError(r) && r != 0);
	CHECK_INT(o.pos, 8);
	CHECK(memcmp(out, "{\"a\":1}\n", 8) == 0);
	ZSTD_freeDCtx(d);

	CHECK_INT(zout_close(z, err, sizeof err), 0);
	close(fd);
	struct buf back = {0};
	CHECK_INT(zin_all(p, 100, &back, NULL, err, sizeof err), 0);
	CHECK_STR(back.p, "{\"a\":1}\n");
	buf_free(&raw);
	buf_free(&back);
}

TEST(enospc_is_reported_and_sticks)
{
	int fd = open("/dev/full", O_WRONLY);
	if (fd < 0)
		return; /* no /dev/full here: nothing to test */
	for (int level = 0; level <= 3; level += 3) {
		char err[256] = "";
		struct zout *z = zout_open(fd, level);
		CHECK_INT(zout_write(z, "x\n", 2, err, sizeof err), 0);
		CHECK_INT(zout_flush(z, err, sizeof err), -1);
		CHECK_STR(err, "write: No space left on device");
		CHECK_INT(zout_errno(z), ENOSPC);
		err[0] = '\0';
		CHECK_INT(zout_write(z, "y\n", 2, err, sizeof err), -1);
		CHECK_STR(err, "write: No space left on device");
		err[0] = '\0';
		errno = 0;
		CHECK_INT(zout_close(z, err, sizeof err), -1);
		CHECK_STR(err, "write: No space left on device");
		CHECK_INT(errno, ENOSPC);
	}
	close(fd);
}

TEST(error_only_at_close_is_not_lost)
{
	int fd = open("/dev/full", O_WRONLY);
	if (fd < 0)
		return;
	char err[256] = "";
	struct zout *z = zout_open(fd, 0);
	CHECK_INT(zout_write(z, "x\n", 2, err, sizeof err), 0);
	CHECK_INT(zout_close(z, err, sizeof err), -1);
	CHECK_STR(err, "write: No space left on device");
	close(fd);
}

TEST(epipe_is_reported)
{
	int fds[2];
	CHECK(pipe(fds) == 0);
	close(fds[0]);
	void (*old)(int) = signal(SIGPIPE, SIG_IGN);
	char err[256] = "";
	struct zout *z = zout_open(fds[1], 0);
	CHECK_INT(zout_write(z, "x\n", 2, err, sizeof err), 0);
	CHECK_INT(zout_flush(z, err, sizeof err), -1);
	CHECK_INT(zout_errno(z), EPIPE);
	CHECK_STR(err, "write: Broken pipe");
	CHECK_INT(zout_close(z, err, sizeof err), -1);
	CHECK_INT(errno, EPIPE);
	signal(SIGPIPE, old);
	close(fds[1]);
}

/* data as one gzip member (deflate with the gzip wrapper), appended. */
static void gzip_member(struct buf *out, const char *p, size_t n)
{
	z_stream s = {0};
	deflateInit2(&s, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
	size_t cap = deflateBound(&s, (uLong)n);
	buf_reserve(out, cap);
	s.next_in = (Bytef *)p;
	s.avail_in = (uInt)n;
	s.next_out = (Bytef *)out->p + out->len;
	s.avail_out = (uInt)cap;
	deflate(&s, Z_FINISH);
	out->len += s.total_out;
	deflateEnd(&s);
}

static void put_file(const char *p, const char *data, size_t n)
{
	FILE *f = fopen(p, "wb");
	fwrite(data, 1, n, f);
	fclose(f);
}

TEST(gzip_members_read_whole_and_every_cut_is_an_error)
{
	struct buf data = {0}, gz = {0}, back = {0};
	char err[256] = "";
	bool zc = false;
	sample(&data, 600);
	size_t half = data.len / 2;
	gzip_member(&gz, data.p, half);
	size_t boundary = gz.len;
	gzip_member(&gz, data.p + half, data.len - half);
	const char *p = tmp_path("g.gz");
	put_file(p, gz.p, gz.len);
	static const size_t caps[] = {1, 7, 4096, 1 << 20};
	for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		CHECK_INT(zin_all(p, caps[i], &back, &zc, err, sizeof err), 0);
		CHECK(zc);
		CHECK(back.len == data.len &&
		      memcmp(back.p, data.p, data.len) == 0);
	}
	/* cut anywhere but between members: an error, never a short read */
	for (size_t cut = 3; cut < gz.len; cut += 31) {
		if (cut == boundary)
			continue;
		put_file(p, gz.p, cut);
		err[0] = '\0';
		CHECK_INT(zin_all(p, 4096, &back, &zc, err, sizeof err), -1);
		CHECK(strncmp(err, p, strlen(p)) == 0);
	}
	put_file(p, gz.p, boundary);
	CHECK_INT(zin_all(p, 4096, &back, &zc, err, sizeof err), 0);
	CHECK(back.len == half);
	/* a flipped byte fails the inflate or the CRC-32 */
	memcpy(gz.p + boundary - 6, "\xff\xff", 2);
	put_file(p, gz.p, gz.len);
	CHECK_INT(zin_all(p, 4096, &back, &zc, err, sizeof err), -1);
	CHECK(strstr(err, "gzip: ") != NULL);
	buf_free(&data);
	buf_free(&gz);
	buf_free(&back);
}

/* Data written through a pool of threads in frames of FRAME bytes
 * (cut_at: zout_cut there too), from several zouts on the pool at once
 * when nfiles > 1. */
#define FRAME (256u << 10)
static int write_pool(const char *p, int threads, const struct buf *data,
		      size_t chunk, size_t cut_at, int nfiles)
{
	char err[256];
	struct zpool *pool = zpool_new(threads);
	zpool_set_frame(pool, FRAME);
	int fds[4];
	struct zout *z[4];
	char name[300];
	for (int f = 0; f < nfiles; f++) {
		snprintf(name, sizeof name, "%s.%d", p, f);
		fds[f] = open(f ? name : p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		z[f] = zout_open_pool(fds[f], 3, pool);
	}
	int rc = 0;
	for (size_t off = 0; off < data->len && rc == 0; off += chunk) {
		size_t n = data->len - off < chunk ? data->len - off : chunk;
		for (int f = 0; f < nfiles && rc == 0; f++)
			rc = zout_write(z[f], data->p + off, n, err, sizeof err);
		if (cut_at && off <= cut_at && cut_at < off + n)
			for (int f = 0; f < nfiles && rc == 0; f++)
				rc = zout_cut(z[f], err, sizeof err);
	}
	for (int f = 0; f < nfiles; f++) {
		if (zout_close(z[f], err, sizeof err) != 0)
			rc = -1;
		if (close(fds[f]) != 0)
			rc = -1;
	}
	if (zpool_buffered(pool) != 0)
		rc = -1;
	zpool_free(pool);
	return rc;
}

/* How many zstd frames the file holds, or -1. */
static int frames(const struct buf *b)
{
	int n = 0;
	for (size_t off = 0; off < b->len; n++) {
		size_t fs = ZSTD_findFrameCompressedSize(b->p + off,
							 b->len - off);
		if (ZSTD_isError(fs))
			return -1;
		off += fs;
	}
	return n;
}

TEST(pool_frames_are_the_same_bytes_on_any_number_of_threads)
{
	struct buf data = {0}, one = {0}, back = {0};
	char err[256] = "";
	bool zc = false;
	sample(&data, 10000);
	CHECK(data.len > 2 * FRAME && data.len < 3 * FRAME);
	const char *p = tmp_path("pool");
	CHECK_INT(write_pool(p, 0, &data, 1000, 0, 1), 0);
	slurp(p, &one);
	CHECK_INT(frames(&one), 3);
	CHECK_INT(zin_all(p, 65536, &back, &zc, err, sizeof err), 0);
	CHECK(zc && back.len == data.len &&
	      memcmp(back.p, data.p, data.len) == 0);
	static const int threads[] = {1, 2, 4};
	for (size_t i = 0; i < 3; i++) {
		/* odd write sizes, several files interleaved on one pool */
		CHECK_INT(write_pool(p, threads[i], &data, 777, 0, 3), 0);
		for (int f = 0; f < 3; f++) {
			char name[300];
			snprintf(name, sizeof name, "%s.%d", p, f);
			slurp(f ? name : p, &back);
			CHECK(back.len == one.len &&
			      memcmp(back.p, one.p, one.len) == 0);
		}
	}
	/* a cut ends a frame where it is asked, on any thread count */
	CHECK_INT(write_pool(p, 0, &data, 1000, 12345, 1), 0);
	slurp(p, &one);
	CHECK_INT(frames(&one), 4);
	CHECK_INT(write_pool(p, 2, &data, 1000, 12345, 2), 0);
	slurp(p, &back);
	CHECK(back.len == one.len && memcmp(back.p, one.p, one.len) == 0);
	CHECK_INT(zin_all(p, 4096, &back, &zc, err, sizeof err), 0);
	CHECK(back.len == data.len && memcmp(back.p, data.p, data.len) == 0);
	buf_free(&data);
	buf_free(&one);
	buf_free(&back);
}

/* Frames compressed apart (zframes_compress, as txlog's parse workers
 * make them) between bytes written through the pool, on 0 and 2
 * threads: the file reads back as the bytes in order, each
 * zframes_compress call is frames of the pool's size (its last shorter),
 * and a frame compressed apart is the pool's frame of the same bytes. */
TEST(frames_made_apart_keep_their_place)
{
	struct buf data = {0}, back = {0}, ref = {0};
	char err[256] = "";
	bool zc = false;
	sample(&data, 10000);
	CHECK(data.len > 2 * FRAME && data.len < 3 * FRAME);
	const char *p = tmp_path("apart");
	for (int threads = 0; threads <= 2; threads += 2) {
		struct zpool *pool = zpool_new(threads);
		zpool_set_frame(pool, FRAME);
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		struct zout *z = zout_open_pool(fd, 3, pool);
		void *cctx = NULL;
		unsigned char *out = NULL;
		size_t len = 0, cap = 0;
		/* thirds: pool, apart (over a frame: two frames), pool */
		size_t a = data.len / 5, b = a + FRAME + 1000;
		CHECK_INT(zout_write(z, data.p, a, err, sizeof err), 0);
		CHECK_INT(zframes_compress(pool, &cctx, 3, data.p + a, b - a,
					   &out, &len, &cap, err, sizeof err),
			  0);
		struct buf f = {.p = (char *)out, .len = len};
		CHECK_INT(frames(&f), 2);
		CHECK_INT(zout_write_frames(z, out, len, err, sizeof err), 0);
		CHECK_INT(zout_write(z, data.p + b, data.len - b, err,
				     sizeof err), 0);
		CHECK_INT(zout_close(z, err, sizeof err), 0);
		close(fd);
		CHECK_INT(zin_all(p, 4096, &back, &zc, err, sizeof err), 0);
		CHECK(zc && back.len == data.len &&
		      memcmp(back.p, data.p, data.len) == 0);
		slurp(p, &back);
		CHECK_INT(frames(&back), 5); /* a's, two apart, two after */
		/* the first apart frame is a pool's frame of those bytes */
		len = 0;
		CHECK_INT(zframes_compress(pool, &cctx, 3, data.p + a, FRAME,
					   &out, &len, &cap, err, sizeof err),
			  0);
		buf_reset(&ref);
		buf_add(&ref, (char *)out, len);
		CHECK(zpool_cpu_seconds(pool) > 0);
		zframes_free(cctx);
		free(out);
		zpool_free(pool);
		/* the same FRAME bytes through a pool zout */
		pool = zpool_new(threads);
		zpool_set_frame(pool, FRAME);
		fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		z = zout_open_pool(fd, 3, pool);
		CHECK_INT(zout_write(z, data.p + a, FRAME, err, sizeof err), 0);
		CHECK_INT(zout_close(z, err, sizeof err), 0);
		close(fd);
		zpool_free(pool);
		slurp(p, &back);
		CHECK(back.len == ref.len && memcmp(back.p, ref.p, ref.len) == 0);
	}
	buf_free(&data);
	buf_free(&back);
	buf_free(&ref);
}

TEST(pool_write_errors_stick)
{
	int fd = open("/dev/full", O_WRONLY);
	if (fd < 0)
		return;
	for (int threads = 0; threads <= 2; threads += 2) {
		char err[256] = "";
		struct zpool *pool = zpool_new(threads);
		struct zout *z = zout_open_pool(fd, 3, pool);
		CHECK_INT(zout_write(z, "x\n", 2, err, sizeof err), 0);
		CHECK_INT(zout_flush(z, err, sizeof err), -1);
		CHECK_STR(err, "write: No space left on device");
		err[0] = '\0';
		CHECK_INT(zout_write(z, "y\n", 2, err, sizeof err), -1);
		CHECK_STR(err, "write: No space left on device");
		errno = 0;
		CHECK_INT(zout_close(z, err, sizeof err), -1);
		CHECK_INT(errno, ENOSPC);
		zpool_free(pool);
	}
	close(fd);
}

/* What zout compresses is read back checked: a byte changed anywhere
 * in a frame's blocks is an error, never other bytes (reconcile's spill
 * files and its copy of standard input are read back this way). */
TEST(a_changed_byte_is_an_error_not_other_data)
{
	struct buf data = {0}, back = {0}, file = {0};
	char err[256];
	sample(&data, 300);
	const char *p = tmp_path("flip"), *q = tmp_path("flipped");
	CHECK_INT(write_with(p, 1, &data, 4096), 0);
	slurp(p, &file);
	size_t silent = 0;
	for (size_t at = 12; at + 8 < file.len; at++) {
		file.p[at] ^= 0x10;
		FILE *f = fopen(q, "wb");
		fwrite(file.p, 1, file.len, f);
		fclose(f);
		file.p[at] ^= 0x10;
		if (zin_all(q, 65536, &back, NULL, err, sizeof err) == 0 &&
		    (back.len != data.len ||
		     memcmp(back.p, data.p, data.len) != 0))
			silent++;
	}
	CHECK_INT((long long)silent, 0);
	buf_free(&data);
	buf_free(&back);
	buf_free(&file);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	RUN(plain_round_trip);
	RUN(zstd_round_trip_any_read_size);
	RUN(gzip_members_read_whole_and_every_cut_is_an_error);
	RUN(empty_output_is_an_empty_frame_or_nothing);
	RUN(short_files_pass_through);
	RUN(open_errors_name_the_file);
	RUN(flush_makes_what_was_written_decodable);
	RUN(enospc_is_reported_and_sticks);
	RUN(error_only_at_close_is_not_lost);
	RUN(epipe_is_reported);
	RUN(pool_frames_are_the_same_bytes_on_any_number_of_threads);
	RUN(frames_made_apart_keep_their_place);
	RUN(pool_write_errors_stick);
	RUN(a_changed_byte_is_an_error_not_other_data);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return unit_done();
}
