/*
 * lines: framing of LF, CRLF, blank and unterminated lines, the max-length
 * boundary, huge lines, zstd input (concatenated and truncated frames),
 * and pipes that dribble bytes.  A randomized run compares lines_next()
 * against a trivial reference splitter over many buffer boundaries.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zlib.h>
#include <zstd.h>

#include "buf.h"
#include "lines.h"
#include "unit.h"

static char tmpdir[] = "/tmp/test_lines.XXXXXX";
static char path[256];

static const char *tmp_file(const void *data, size_t n)
{
	static int seq;
	snprintf(path, sizeof path, "%s/f%d", tmpdir, seq++);
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	return path;
}

static const char *tmp_str(const char *s)
{
	return tmp_file(s, strlen(s));
}

/* Every line as "N:text|"; a too-long one as "N:!prefix(full_len)|". */
static struct buf got;

static int collect(struct lines *l, char *err, size_t errlen)
{
	struct line ln;
	int rc;
	bool terminated = true;
	buf_reset(&got);
	buf_add(&got, "", 0);
	while ((rc = lines_next(l, &ln, err, errlen)) == 1) {
		terminated &= ln.p[ln.len] == '\0';
		buf_add_u64(&got, ln.lineno);
		buf_addc(&got, ':');
		if (ln.too_long)
			buf_addc(&got, '!');
		buf_add(&got, ln.p, ln.len);
		if (ln.too_long)
			buf_addf(&got, "(%zu)", ln.full_len);
		buf_addc(&got, '|');
	}
	CHECK(terminated);
	return rc;
}

static const char *frame_path(const char *p, size_t max)
{
	char err[256] = "";
	struct lines *l = lines_open(p, max, err, sizeof err);
	CHECK(l != NULL);
	if (!l)
		return "(open failed)";
	int rc = collect(l, err, sizeof err);
	CHECK_INT(rc, 0);
	if (rc != 0)
		fprintf(stderr, "  err: %s\n", err);
	/* End of input stays the end. */
	struct line ln;
	CHECK_INT(lines_next(l, &ln, err, sizeof err), 0);
	lines_close(l);
	return got.p;
}

static const char *frame(const char *s)
{
	return frame_path(tmp_str(s), 0);
}

TEST(lf_lines_come_back_without_terminator)
{
	CHECK_STR(frame("a\nbb\nccc\n"), "1:a|2:bb|3:ccc|");
	CHECK_STR(frame("{\"k\":1}\n"), "1:{\"k\":1}|");
}

TEST(crlf_loses_one_cr_only)
{
	CHECK_STR(frame("a\r\nbb\r\n"), "1:a|2:bb|");
	CHECK_STR(frame("a\r\r\nb\rc\n"), "1:a\r|2:b\rc|");
	CHECK_STR(frame("a\nb\r\nc\n"), "1:a|2:b|3:c|");
}

TEST(blank_lines_count_but_are_skipped)
{
	CHECK_STR(frame("\n\na\n\r\n\nb\n\n"), "3:a|6:b|");
	/* only whitespace is blank too */
	CHECK_STR(frame(" \n\t\r\n \r\t\r\na\n \t"), "4:a|");
	CHECK_STR(frame(" a\n"), "1: a|");
}

TEST(last_line_without_newline_is_a_line)
{
	CHECK_STR(frame("a\nb"), "1:a|2:b|");
	CHECK_STR(frame("a\nb\r"), "1:a|2:b|");
	CHECK_STR(frame("x"), "1:x|");
	CHECK_STR(frame("a\n\r"), "1:a|");
}

TEST(empty_file_has_no_lines)
{
	CHECK_STR(frame(""), "");
}

TEST(only_newlines_have_no_lines)
{
	CHECK_STR(frame("\n\n\n"), "");
	CHECK_STR(frame("\r\n\n\r\n"), "");
}

TEST(missing_file_is_an_error)
{
	char err[256] = "";
	snprintf(path, sizeof path, "%s/nope", tmpdir);
	CHECK(lines_open(path, 0, err, sizeof err) == NULL);
	char want[300];
	snprintf(want, sizeof want, "%s: No such file or directory", path);
	CHECK_STR(err, want);
}

/* A line of n copies of c (plus suffix), built into a fresh buffer. */
static char *line_of(size_t n, char c, const char *suffix)
{
	size_t sl = strlen(suffix);
	char *p = malloc(n + sl + 1);
	memset(p, c, n);
	memcpy(p + n, suffix, sl + 1);
	return p;
}

TEST(line_at_max_fits_and_max_plus_one_is_too_long)
{
	char *at = line_of(10, 'a', "\n");
	char *over = line_of(11, 'b', "\nnext\n");
	char *s = malloc(64);
	snprintf(s, 64, "%s%s", at, over);
	CHECK_STR(frame_path(tmp_str(s), 10),
		  "1:aaaaaaaaaa|2:!bbbbbbbbbb(11)|3:next|");
	/* The CR of a CRLF does not count toward max. */
	CHECK_STR(frame_path(tmp_str("aaaaaaaaaa\r\nx\n"), 10),
		  "1:aaaaaaaaaa|2:x|");
	CHECK_STR(frame_path(tmp_str("aaaaaaaaaaa\r\nx\n"), 10),
		  "1:!aaaaaaaaaa(11)|2:x|");
	/* Unterminated last line over max. */
	CHECK_STR(frame_path(tmp_str("x\nccccccccccc"), 10),
		  "1:x|2:!cccccccccc(11)|");
	free(at);
	free(over);
	free(s);
}

/* Past the first buffer: max is beyond 64 KiB, so the boundary is met
 * while growing, and the prefix is the 1024 kept bytes. */
TEST(max_boundary_beyond_initial_buffer)
{
	size_t max = 100000;
	for (size_t n = max - 1; n <= max + 2; n++) {
		for (int crlf = 0; crlf < 2; crlf++) {
			char *l1 = line_of(n, 'q', crlf ? "\r\nafter\r\n"
							: "\nafter\n");
			const char *g = frame_path(tmp_str(l1), max);
			char want[2048];
			if (n <= max) {
				CHECK_INT(strlen(g), n + 11);
				CHECK(strncmp(g, "1:qq", 4) == 0);
				CHECK(strcmp(g + 2 + n, "|2:after|") == 0);
			} else {
				char *pre = line_of(1024, 'q', "");
				snprintf(want, sizeof want,
					 "1:!%s(%zu)|2:after|", pre, n);
				CHECK_STR(g, want);
				free(pre);
			}
			free(l1);
		}
	}
}

TEST(huge_line_is_skipped_and_the_next_one_read)
{
	size_t n = 10u << 20;
	char *big = line_of(n, 'z', "\r\nnext\n");
	big[0] = '{';
	const char *g = frame_path(tmp_file(big, n + 7), 1u << 20);
	char want[2048];
	char *pre = line_of(1024, 'z', "");
	pre[0] = '{';
	snprintf(want, sizeof want, "1:!%s(%zu)|2:next|", pre, n);
	CHECK_STR(g, want);
	/* And the same line last, unterminated. */
	g = frame_path(tmp_file(big, n), 1u << 20);
	snprintf(want, sizeof want, "1:!%s(%zu)|", pre, n);
	CHECK_STR(g, want);
	free(pre);
	free(big);
}

static const char *zfile(const char *s, size_t n)
{
	size_t cap = ZSTD_compressBound(n);
	char *z = malloc(cap);
	size_t zn = ZSTD_compress(z, cap, s, n, 3);
	CHECK(!ZSTD_isError(zn));
	const char *p = tmp_file(z, zn);
	free(z);
	return p;
}

TEST(zstd_input_is_decompressed)
{
	const char *p = zfile("a\r\n\nb\nc", 7);
	char err[256] = "";
	struct lines *l = lines_open(p, 0, err, sizeof err);
	CHECK(l != NULL);
	CHECK_INT(collect(l, err, sizeof err), 0);
	CHECK_STR(got.p, "1:a|3:b|4:c|");
	FILE *f = fopen(p, "rb");
	fseek(f, 0, SEEK_END);
	CHECK_INT(lines_bytes(l), ftell(f));
	fclose(f);
	lines_close(l);
}

TEST(concatenated_zstd_frames_are_one_stream)
{
	size_t cap = 256, n1, n2;
	char z[512];
	n1 = ZSTD_compress(z, cap, "a\nb", 3, 1);
	n2 = ZSTD_compress(z + n1, cap, "c\nd\n", 4, 19);
	CHECK(!ZSTD_isError(n1) && !ZSTD_isError(n2));
	CHECK_STR(frame_path(tmp_file(z, n1 + n2), 0), "1:a|2:bc|3:d|");
	/* An empty frame in the middle changes nothing. */
	size_t n3 = ZSTD_compress(z + n1, cap, "", 0, 3);
	n2 = ZSTD_compress(z + n1 + n3, cap, "c\nd\n", 4, 3);
	CHECK_STR(frame_path(tmp_file(z, n1 + n3 + n2), 0), "1:a|2:bc|3:d|");
}

TEST(big_zstd_input_matches_plain)
{
	struct buf plain = {0};
	for (int i = 0; i < 200000; i++)
		buf_addf(&plain, "{\"i\":%d,\"pad\":\"%0*d\"}\n", i,
			 i % 300, 0);
	const char *zp = zfile(plain.p, plain.len);
	char zpath[256];
	snprintf(zpath, sizeof zpath, "%s", zp);
	struct buf a = {0};
	frame_path(tmp_file(plain.p, plain.len), 0);
	buf_add(&a, got.p, got.len);
	frame_path(zpath, 0);
	CHECK_INT(got.len, a.len);
	CHECK(got.len == a.len && memcmp(got.p, a.p, a.len) == 0);
	buf_free(&a);
	buf_free(&plain);
}

TEST(truncated_zstd_is_an_error)
{
	const char *s = "one\ntwo\nthree\n";
	char z[256];
	size_t zn = ZSTD_compress(z, sizeof z, s, strlen(s), 3);
	CHECK(!ZSTD_isError(zn));
	const char *p = tmp_file(z, zn - 3);
	char err[256] = "";
	struct lines *l = lines_open(p, 0, err, sizeof err);
	CHECK(l != NULL);
	CHECK_INT(collect(l, err, sizeof err), -1);
	char want[300];
	snprintf(want, sizeof want, "%s: truncated zstd stream", p);
	CHECK_STR(err, want);
	/* The error sticks. */
	struct line ln;
	err[0] = '\0';
	CHECK_INT(lines_next(l, &ln, err, sizeof err), -1);
	CHECK_STR(err, want);
	lines_close(l);

	/* Cut right after the magic, too. */
	p = tmp_file(z, 4);
	l = lines_open(p, 0, err, sizeof err);
	CHECK(l != NULL);
	CHECK_INT(collect(l, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: truncated zstd stream", p);
	CHECK_STR(err, want);
	lines_close(l);
}

TEST(corrupt_zstd_is_an_error)
{
	const char *s = "one\ntwo\nthree\n";
	char z[256];
	size_t zn = ZSTD_compress(z, sizeof z, s, strlen(s), 3);
	z[4] |= 0x08; /* a reserved bit of the frame header */
	const char *p = tmp_file(z, zn);
	char err[256] = "";
	struct lines *l = lines_open(p, 0, err, sizeof err);
	CHECK(l != NULL);
	CHECK_INT(collect(l, err, sizeof err), -1);
	char want[300];
	snprintf(want, sizeof want, "%s: zstd: ", p);
	CHECK(strncmp(err, want, strlen(want)) == 0);
	lines_close(l);

	/* Garbage after a good frame is not silently ignored. */
	zn = ZSTD_compress(z, sizeof z, s, strlen(s), 3);
	memcpy(z + zn, "junk!", 5);
	p = tmp_file(z, zn + 5);
	l = lines_open(p, 0, err, sizeof err);
	CHECK_INT(collect(l, err, sizeof err), -1);
	snprintf(want, sizeof want, "%s: zstd: ", p);
	CHECK(strncmp(err, want, strlen(want)) == 0);
	lines_close(l);
}

/* Run lines_open("-") with stdin a pipe fed by a child that writes
 * data in chunks of the given sizes (the last repeated), pausing between
 * them so the reader sees short reads. */
static const char *frame_pipe(const void *data, size_t n, size_t first,
			      size_t chunk, size_t max)
{
	int fds[2];
	if (pipe(fds) != 0) {
		perror("pipe");
		exit(2);
	}
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		const char *p = data;
		size_t off = 0, c = first;
		while (off < n) {
			if (c > n - off)
				c = n - off;
			if (write(fds[1], p + off, c) != (ssize_t)c)
				_exit(1);
			off += c;
			c = chunk;
			if (off < 64)
				usleep(2000);
		}
		_exit(0);
	}
	close(fds[1]);
	int saved = dup(0);
	dup2(fds[0], 0);
	close(fds[0]);
	char err[256] = "";
	struct lines *l = lines_open("-", max, err, sizeof err);
	CHECK(l != NULL);
	if (l) {
		CHECK_STR(lines_name(l), "<stdin>");
		int rc = collect(l, err, sizeof err);
		CHECK_INT(rc, 0);
		if (rc)
			fprintf(stderr, "  err: %s\n", err);
		CHECK_INT(lines_bytes(l), n);
		lines_close(l);
	}
	dup2(saved, 0);
	close(saved);
	int st;
	waitpid(pid, &st, 0);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	return got.p;
}

TEST(pipe_input_with_short_reads)
{
	const char *s = "ab\r\n\ncd\nlast";
	CHECK_STR(frame_pipe(s, strlen(s), 1, 1, 0), "1:ab|3:cd|4:last|");
	CHECK_STR(frame_pipe(s, strlen(s), 3, 2, 0), "1:ab|3:cd|4:last|");
	CHECK_STR(frame_pipe("a", 1, 1, 1, 0), "1:a|");
	CHECK_STR(frame_pipe("", 0, 1, 1, 0), "");
	/* Three bytes of the magic, then something else: plain. */
	const char fake[] = "\x28\xb5\x2f\n{}\n";
	CHECK_STR(frame_pipe(fake, sizeof fake - 1, 1, 1, 0),
		  "1:\x28\xb5\x2f|2:{}|");
}

TEST(zstd_pipe_input)
{
	const char *s = "{\"a\":1}\r\n\n{\"b\":2}\n{\"c\":3}";
	char z[512];
	size_t zn = ZSTD_compress(z, 256, s, strlen(s), 3);
	size_t zn2 = ZSTD_compress(z + zn, 256, "\n{}\n", 4, 3);
	const char *want = "1:{\"a\":1}|3:{\"b\":2}|4:{\"c\":3}|5:{}|";
	CHECK_STR(frame_pipe(z, zn + zn2, 1, 1, 0), want);
	CHECK_STR(frame_pipe(z, zn + zn2, 2, 7, 0), want);
	CHECK_STR(frame_pipe(z, zn + zn2, 4, 4096, 0), want);
}

/* ---- LINES_WAIT: a live pipe, its writer held open ---- */

/* stdin a pipe whose write end is returned; the old stdin in *saved. */
static int live_stdin(int *saved)
{
	int fds[2];
	if (pipe(fds) != 0) {
		perror("pipe");
		exit(2);
	}
	*saved = dup(0);
	dup2(fds[0], 0);
	close(fds[0]);
	return fds[1];
}

static void live_end(int saved)
{
	dup2(saved, 0);
	close(saved);
}

static void put(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n) {
		perror("write");
		exit(2);
	}
}

static void put_str(int fd, const char *s)
{
	put(fd, s, strlen(s));
}

/* The next line as "N:text" ("N:!head(full)" when too long), or "WAIT",
 * "END", "ERR". */
static const char *next_str(struct lines *l)
{
	static char s[256];
	char err[256];
	struct line ln;
	int rc = lines_next(l, &ln, err, sizeof err);
	if (rc == LINES_WAIT)
		return "WAIT";
	if (rc != 1)
		return rc == 0 ? "END" : "ERR";
	if (ln.too_long)
		snprintf(s, sizeof s, "%llu:!%.*s(%zu)",
			 (unsigned long long)ln.lineno, (int)ln.len, ln.p,
			 ln.full_len);
	else
		snprintf(s, sizeof s, "%llu:%.*s",
			 (unsigned long long)ln.lineno, (int)ln.len, ln.p);
	return s;
}

/* Before each read that would block, once; a too-long line's skip is
 * taken up where it stopped; the end of the pipe is no wait. */
TEST(wait_before_a_read_that_would_block)
{
	alarm(20); /* a read that blocks instead would hang: end it */
	int saved, w = live_stdin(&saved);
	put_str(w, "a\nb");
	char err[256];
	struct lines *l = lines_open("-", 8, err, sizeof err);
	CHECK(l != NULL);
	lines_set_wait(l, true);
	CHECK_STR(next_str(l), "1:a");
	CHECK_STR(next_str(l), "WAIT");
	put_str(w, "\n{}\n");
	CHECK_STR(next_str(l), "2:b");
	CHECK_STR(next_str(l), "3:{}");
	CHECK_STR(next_str(l), "WAIT");
	/* more than max + 1 bytes without a newline: the skip waits too */
	put_str(w, "0123456789AB");
	CHECK_STR(next_str(l), "WAIT");
	put_str(w, "CD");
	CHECK_STR(next_str(l), "WAIT");
	put_str(w, "EF\r\nz\n");
	CHECK_STR(next_str(l), "4:!01234567(16)");
	CHECK_STR(next_str(l), "5:z");
	CHECK_STR(next_str(l), "WAIT");
	put_str(w, "last\n");
	close(w);
	CHECK_STR(next_str(l), "6:last");
	CHECK_STR(next_str(l), "END");
	lines_close(l);
	live_end(saved);
	alarm(0);
}

/* From a regular file, never a wait. */
TEST(no_wait_from_a_file)
{
	char err[256];
	struct lines *l = lines_open(tmp_str("a\nb\n"), 0, err, sizeof err);
	CHECK(l != NULL);
	lines_set_wait(l, true);
	CHECK_STR(next_str(l), "1:a");
	CHECK_STR(next_str(l), "2:b");
	CHECK_STR(next_str(l), "END");
	lines_close(l);
}

/* A first line shorter than the zstd magic is no reason to wait for a
 * fourth byte. */
TEST(short_first_line_from_a_live_pipe)
{
	alarm(20);
	int saved, w = live_stdin(&saved);
	put_str(w, "{}\n");
	char err[256];
	struct lines *l = lines_open("-", 0, err, sizeof err);
	CHECK(l != NULL);
	lines_set_wait(l, true);
	CHECK_STR(next_str(l), "1:{}");
	CHECK_STR(next_str(l), "WAIT");
	close(w);
	CHECK_STR(next_str(l), "END");
	lines_close(l);
	live_end(saved);
	alarm(0);
}

/* n bytes of 10-byte lines, gzip-compressed (a member) or zstd (a
 * frame); the size in *zn. */
static char *packed(size_t n, bool gz, size_t *zn)
{
	char *raw = malloc(n);
	for (size_t k = 0; k < n; k++)
		raw[k] = k % 10 == 9 ? '\n' : (char)('a' + k % 10);
	size_t cap = ZSTD_compressBound(n) + 64;
	char *z = malloc(cap);
	if (gz) {
		z_stream s = {0};
		CHECK(deflateInit2(&s, 6, Z_DEFLATED, 16 + MAX_WBITS, 8,
				   Z_DEFAULT_STRATEGY) == Z_OK);
		s.next_in = (unsigned char *)raw;
		s.avail_in = (uInt)n;
		s.next_out = (unsigned char *)z;
		s.avail_out = (uInt)cap;
		CHECK(deflate(&s, Z_FINISH) == Z_STREAM_END);
		*zn = s.total_out;
		deflateEnd(&s);
	} else {
		*zn = ZSTD_compress(z, cap, raw, n, 3);
		CHECK(!ZSTD_isError(*zn));
	}
	free(raw);
	return z;
}

/* A gzip member or zstd frame whose output is larger than a read: all of
 * it comes out (the decoder holds the rest, not the pipe) before the
 * wait. */
TEST(compressed_input_from_a_live_pipe_comes_out_whole)
{
	for (int gz = 0; gz <= 1; gz++) {
		alarm(20);
		size_t n = 400000, zn;
		char *z = packed(n, gz, &zn);
		int saved, w = live_stdin(&saved);
		put(w, z, zn);
		char err[256];
		struct lines *l = lines_open("-", 0, err, sizeof err);
		CHECK(l != NULL);
		lines_set_wait(l, true);
		size_t got_lines = 0;
		struct line ln;
		int rc;
		while ((rc = lines_next(l, &ln, err, sizeof err)) == 1)
			got_lines++;
		CHECK_INT(rc, LINES_WAIT);
		CHECK_INT(got_lines, n / 10);
		close(w);
		CHECK_STR(next_str(l), "END");
		lines_close(l);
		live_end(saved);
		free(z);
		alarm(0);
	}
}

/* ---- randomized comparison with a reference splitter ---- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void)
{
	return unit_splitmix(&rng);
}

static void reference(const char *s, size_t n, size_t max, struct buf *out)
{
	size_t keep = max < 1024 ? max : 1024;
	uint64_t no = 0;
	size_t i = 0;
	buf_reset(out);
	buf_add(out, "", 0);
	while (i < n) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t len = nl ? (size_t)(nl - (s + i)) : n - i;
		const char *p = s + i;
		i += len + 1;
		no++;
		if (len && p[len - 1] == '\r')
			len--;
		size_t ws = 0;
		while (ws < len && (p[ws] == ' ' || p[ws] == '\t' ||
				    p[ws] == '\r'))
			ws++;
		if (len <= max && ws == len)
			continue;
		buf_add_u64(out, no);
		buf_addc(out, ':');
		if (len > max) {
			buf_addc(out, '!');
			buf_add(out, p, keep);
			buf_addf(out, "(%zu)", len);
		} else {
			buf_add(out, p, len);
		}
		buf_addc(out, '|');
	}
}

TEST(random_inputs_match_reference)
{
	struct buf in = {0}, want = {0};
	static const size_t maxes[] = {1, 7, 100, 1023, 1025, 5000, 70000,
				       0};
	for (int round = 0; round < 40; round++) {
		buf_reset(&in);
		size_t target = (size_t)(rnd() % 400000);
		while (in.len < target) {
			uint64_t r = rnd();
			size_t len;
			switch (r % 8) {
			case 0: len = 0; break;
			case 1: len = (size_t)(r >> 8) % 200000; break;
			case 2: len = (size_t)(r >> 8) % 5000; break;
			default: len = (size_t)(r >> 8) % 300; break;
			}
			bool white = (r >> 44) % 6 == 0; /* a blank line */
			for (size_t k = 0; k < len; k++)
				buf_addc(&in, white ? " \t\r"[rnd() % 3]
						    : (char)('a' + (rnd() % 26)));
			if (len && (r >> 40) % 4 == 0)
				in.p[in.len - 1] = '\r';
			if ((r >> 50) % 5 == 0)
				buf_addc(&in, '\r');
			buf_addc(&in, '\n');
		}
		if (round % 3 == 0 && in.len > 0)
			in.len -= (size_t)(rnd() % (in.len < 500 ? in.len : 500));
		size_t max = maxes[round % 8];
		if (max == 0)
			max = LINES_DEFAULT_MAX;
		reference(in.p, in.len, max, &want);
		const char *g = frame_path(tmp_file(in.p, in.len), max);
		CHECK(strcmp(g, want.p) == 0);
		if (round % 4 == 1) {
			g = frame_path(zfile(in.p, in.len), max);
			CHECK(strcmp(g, want.p) == 0);
		}
	}
	buf_free(&in);
	buf_free(&want);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 2;
	}
	RUN(lf_lines_come_back_without_terminator);
	RUN(crlf_loses_one_cr_only);
	RUN(blank_lines_count_but_are_skipped);
	RUN(last_line_without_newline_is_a_line);
	RUN(empty_file_has_no_lines);
	RUN(only_newlines_have_no_lines);
	RUN(missing_file_is_an_error);
	RUN(line_at_max_fits_and_max_plus_one_is_too_long);
	RUN(max_boundary_beyond_initial_buffer);
	RUN(huge_line_is_skipped_and_the_next_one_read);
	RUN(zstd_input_is_decompressed);
	RUN(concatenated_zstd_frames_are_one_stream);
	RUN(big_zstd_input_matches_plain);
	RUN(truncated_zstd_is_an_error);
	RUN(corrupt_zstd_is_an_error);
	RUN(pipe_input_with_short_reads);
	RUN(zstd_pipe_input);
	RUN(wait_before_a_read_that_would_block);
	RUN(no_wait_from_a_file);
	RUN(short_first_line_from_a_live_pipe);
	RUN(compressed_input_from_a_live_pipe_comes_out_whole);
	RUN(random_inputs_match_reference);
	buf_free(&got);
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	return unit_done();
}
