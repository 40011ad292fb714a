/* statefile: the versioned, checksummed container and its refusals. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "statefile.h"
#include "unit.h"

static char dir[64];
static char path[256];
static char err[512];
static char want[512];

static const unsigned char payload[] = "hello, state";
#define PAYLOAD_LEN (sizeof payload - 1)

static int write_state(const char *kind, uint32_t version)
{
	struct state_writer *w = state_write_begin(path, kind, version,
						   PAYLOAD_LEN, err,
						   sizeof err);
	if (!w)
		return -1;
	/* In two pieces, as a streaming writer would. */
	if (state_write(w, payload, 5, err, sizeof err) < 0 ||
	    state_write(w, payload + 5, PAYLOAD_LEN - 5, err, sizeof err) < 0) {
		state_write_abort(w);
		return -1;
	}
	return state_write_end(w, err, sizeof err);
}

/* Read path whole as kind "dedup" max version 2; 0 or -1 with err. */
static int read_state(void)
{
	uint32_t v;
	uint64_t len;
	struct state_reader *r = state_read_begin(path, "dedup", 2, &v, &len,
						  err, sizeof err);
	if (!r)
		return -1;
	unsigned char got[64];
	if (len > sizeof got || state_read(r, got, (size_t)len, err,
					   sizeof err) < 0) {
		state_read_abort(r);
		return -1;
	}
	return state_read_end(r, err, sizeof err);
}

static long file_size(void)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void patch_byte(long off, unsigned char x)
{
	int fd = open(path, O_RDWR);
	unsigned char c = 0;
	CHECK_INT(pread(fd, &c, 1, off), 1);
	c ^= x;
	CHECK_INT(pwrite(fd, &c, 1, off), 1);
	close(fd);
}

static void expect(const char *reason)
{
	snprintf(want, sizeof want, "%s: %s", path, reason);
}

TEST(round_trip)
{
	CHECK_INT(write_state("dedup", 2), 0);
	CHECK_INT(file_size(), 32 + (long)PAYLOAD_LEN + 8);

	uint32_t v = 0;
	uint64_t len = 0;
	struct state_reader *r = state_read_begin(path, "dedup", 2, &v, &len,
						  err, sizeof err);
	CHECK(r != NULL);
	if (!r)
		return;
	CHECK_INT(v, 2);
	CHECK_INT(len, PAYLOAD_LEN);
	unsigned char got[PAYLOAD_LEN + 1] = {0};
	CHECK_INT(state_read(r, got, 7, err, sizeof err), 0);
	CHECK_INT(state_read(r, got + 7, PAYLOAD_LEN - 7, err, sizeof err), 0);
	CHECK_STR((char *)got, (const char *)payload);
	CHECK_INT(state_read_end(r, err, sizeof err), 0);
}

TEST(header_layout_is_little_endian)
{
	CHECK_INT(write_state("dedup", 0x01020304), 0);
	unsigned char h[32];
	int fd = open(path, O_RDONLY);
	CHECK_INT(read(fd, h, sizeof h), 32);
	close(fd);
	CHECK(memcmp(h, "IDEMSTAT", 8) == 0);
	CHECK(memcmp(h + 8, "dedup\0\0\0", 8) == 0);
	CHECK(memcmp(h + 16, "\x04\x03\x02\x01", 4) == 0);
	CHECK(memcmp(h + 20, "\0\0\0\0", 4) == 0);
	CHECK_INT(le64_get(h + 24), PAYLOAD_LEN);
}

TEST(damage_is_refused_before_the_payload_is_read)
{
	CHECK_INT(write_state("dedup", 1), 0);
	struct state_reader *r = state_read_begin(path, "dedup", 1, NULL, NULL,
						  err, sizeof err);
	CHECK(r != NULL);
	if (r)
		CHECK_INT(state_read_end(r, err, sizeof err), 0);

	/* A regular file is checked whole when opened, so a damaged
	 * count or length is never handed to the caller. */
	patch_byte(40, 0x01);
	r = state_read_begin(path, "dedup", 1, NULL, NULL, err, sizeof err);
	CHECK(r == NULL);
	expect("checksum mismatch; refusing a damaged state");
	CHECK_STR(err, want);
}

TEST(missing_file_is_a_first_run)
{
	char p[300];
	snprintf(p, sizeof p, "%s/absent", dir);
	strcpy(err, "junk");
	CHECK(state_read_begin(p, "dedup", 1, NULL, NULL, err, sizeof err) ==
	      NULL);
	CHECK_STR(err, "");
}

TEST(flipped_payload_byte_is_a_checksum_mismatch)
{
	CHECK_INT(write_state("dedup", 1), 0);
	patch_byte(32 + 3, 0x20);
	CHECK_INT(read_state(), -1);
	expect("checksum mismatch; refusing a damaged state");
	CHECK_STR(err, want);
}

TEST(flipped_checksum_byte_is_a_checksum_mismatch)
{
	CHECK_INT(write_state("dedup", 1), 0);
	patch_byte(file_size() - 1, 0x80);
	CHECK_INT(read_state(), -1);
	expect("checksum mismatch; refusing a damaged state");
	CHECK_STR(err, want);
}

TEST(truncated_payload)
{
	CHECK_INT(write_state("dedup", 1), 0);
	CHECK_INT(truncate(path, 32 + 4), 0);
	CHECK_INT(read_state(), -1);
	expect("truncated (payload ends early)");
	CHECK_STR(err, want);
}

TEST(truncated_header)
{
	/* the magic there, the rest of the header cut: damage, said so */
	CHECK_INT(write_state("dedup", 1), 0);
	CHECK_INT(truncate(path, 20), 0);
	CHECK_INT(read_state(), -1);
	expect("truncated (header cut short); refusing a damaged state");
	CHECK_STR(err, want);
	/* cut inside the magic: no telling it was one */
	CHECK_INT(truncate(path, 5), 0);
	CHECK_INT(read_state(), -1);
	expect("not an idem state file");
	CHECK_STR(err, want);
}

TEST(truncated_checksum)
{
	CHECK_INT(write_state("dedup", 1), 0);
	CHECK_INT(truncate(path, file_size() - 3), 0);
	CHECK_INT(read_state(), -1);
	expect("truncated (checksum missing)");
	CHECK_STR(err, want);
}

TEST(wrong_kind)
{
	CHECK_INT(write_state("window", 1), 0);
	CHECK_INT(read_state(), -1);
	expect("is a window state, not dedup");
	CHECK_STR(err, want);

	/* "dedupx" must not pass for "dedup": the padding is compared. */
	CHECK_INT(write_state("dedupx", 1), 0);
	CHECK_INT(read_state(), -1);
	expect("is a dedupx state, not dedup");
	CHECK_STR(err, want);
}

TEST(newer_version)
{
	CHECK_INT(write_state("dedup", 3), 0);
	CHECK_INT(read_state(), -1);
	expect("format version 3 is newer than this program understands "
	       "(max 2)");
	CHECK_STR(err, want);
}

TEST(bad_magic)
{
	FILE *f = fopen(path, "w");
	fputs("{\"not\":\"a state\"}\n", f);
	fclose(f);
	CHECK_INT(read_state(), -1);
	expect("not an idem state file");
	CHECK_STR(err, want);

	CHECK_INT(write_state("dedup", 1), 0);
	patch_byte(0, 0x01);
	CHECK_INT(read_state(), -1);
	CHECK_STR(err, want);

	f = fopen(path, "w");
	fclose(f);
	CHECK_INT(read_state(), -1);
	CHECK_STR(err, want);
}

TEST(trailing_bytes)
{
	CHECK_INT(write_state("dedup", 1), 0);
	FILE *f = fopen(path, "a");
	fputc('x', f);
	fclose(f);
	CHECK_INT(read_state(), -1);
	expect("trailing bytes after the checksum");
	CHECK_STR(err, want);
}

/* Through a pipe the size is unknown up front, so truncation and
 * trailing bytes are found by the streaming reads themselves. */
static int read_state_via_fifo(long keep, const char *extra)
{
	char fifo[300];
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	unlink(fifo);
	if (mkfifo(fifo, 0600) < 0)
		return -2;
	unsigned char data[128];
	int fd = open(path, O_RDONLY);
	ssize_t n = read(fd, data, sizeof data);
	close(fd);
	if (keep >= 0 && keep < n)
		n = keep;
	pid_t pid = fork();
	if (pid == 0) {
		int w = open(fifo, O_WRONLY);
		if (write(w, data, (size_t)n) != n)
			_exit(1);
		if (extra && write(w, extra, strlen(extra)) < 0)
			_exit(1);
		_exit(0);
	}
	char saved[256];
	strcpy(saved, path);
	strcpy(path, fifo);
	int r = read_state();
	strcpy(path, saved);
	waitpid(pid, NULL, 0);
	unlink(fifo);
	return r;
}

TEST(streaming_reader_finds_truncation_and_trailing_bytes)
{
	char fifo[300];
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);

	CHECK_INT(write_state("dedup", 1), 0);
	CHECK_INT(read_state_via_fifo(-1, NULL), 0);

	CHECK_INT(read_state_via_fifo(32 + 4, NULL), -1);
	snprintf(want, sizeof want, "%s: truncated (payload ends early)", fifo);
	CHECK_STR(err, want);

	CHECK_INT(read_state_via_fifo(32 + (long)PAYLOAD_LEN + 2, NULL), -1);
	snprintf(want, sizeof want, "%s: truncated (checksum missing)", fifo);
	CHECK_STR(err, want);

	CHECK_INT(read_state_via_fifo(-1, "more"), -1);
	snprintf(want, sizeof want, "%s: trailing bytes after the checksum",
		 fifo);
	CHECK_STR(err, want);
}

TEST(writer_checks_the_declared_length)
{
	CHECK_INT(write_state("dedup", 1), 0);

	struct state_writer *w = state_write_begin(path, "dedup", 1, 10, err,
						   sizeof err);
	CHECK(w != NULL);
	CHECK_INT(state_write(w, "12345", 5, err, sizeof err), 0);
	CHECK_INT(state_write_end(w, err, sizeof err), -1);
	expect("payload is 5 bytes, header declared 10");
	CHECK_STR(err, want);

	w = state_write_begin(path, "dedup", 1, 4, err, sizeof err);
	CHECK_INT(state_write(w, "12345", 5, err, sizeof err), -1);
	expect("payload longer than the 4 bytes declared");
	CHECK_STR(err, want);
	state_write_abort(w);

	/* The good state from before is untouched. */
	CHECK_INT(read_state(), 0);
}

TEST(writer_refuses_a_kind_too_long)
{
	CHECK(state_write_begin(path, "ninechars", 1, 0, err, sizeof err) ==
	      NULL);
	expect("state kind \"ninechars\" must be 1 to 8 bytes");
	CHECK_STR(err, want);
}

TEST(empty_payload)
{
	struct state_writer *w = state_write_begin(path, "dedup", 1, 0, err,
						   sizeof err);
	CHECK(w != NULL);
	CHECK_INT(state_write_end(w, err, sizeof err), 0);
	CHECK_INT(file_size(), 40);
	CHECK_INT(read_state(), 0);
}

TEST(little_endian_helpers)
{
	unsigned char b[8];
	le64_put(b, 0x0102030405060708ULL);
	CHECK(memcmp(b, "\x08\x07\x06\x05\x04\x03\x02\x01", 8) == 0);
	CHECK(le64_get(b) == 0x0102030405060708ULL);
	le64_put(b, UINT64_MAX);
	CHECK(le64_get(b) == UINT64_MAX);
	le32_put(b, 0xdeadbeefU);
	CHECK(memcmp(b, "\xef\xbe\xad\xde", 4) == 0);
	CHECK(le32_get(b) == 0xdeadbeefU);
}

static int gen_run_with(struct state_gen *g, const char *text, char *got);

/* One run as a tool makes it with --batch: load the generation g picks
 * (its text into got, "" when none), then save text as batch. */
static int gen_run_on(const char *batch, const char *input, const char *text,
		      char *got)
{
	struct state_gen g = {.batch = batch};
	if (input)
		state_gen_input(&g, state_gen_line(input, strlen(input)),
				strlen(input));
	int rc = gen_run_with(&g, text, got);
	state_gen_free(&g);
	return rc;
}

static int gen_run(const char *batch, const char *text, char *got)
{
	return gen_run_on(batch, NULL, text, got);
}

static int gen_run_with(struct state_gen *g, const char *text, char *got)
{
	uint64_t len = 0;
	got[0] = '\0';
	struct state_reader *r = state_read_begin_gen(path, "dedup", 2, g,
						      NULL, &len, err,
						      sizeof err);
	if (!r && err[0])
		return -1;
	if (r) {
		if (len > 63 || state_read(r, got, (size_t)len, err,
					   sizeof err) < 0) {
			state_read_abort(r);
			return -1;
		}
		got[len] = '\0';
		if (state_read_end(r, err, sizeof err) < 0)
			return -1;
	}
	struct state_writer *w = state_write_begin_gen(path, "dedup", 2,
						       strlen(text), g, err,
						       sizeof err);
	if (!w)
		return -1;
	if (state_write(w, text, strlen(text), err, sizeof err) < 0) {
		state_write_abort(w);
		return -1;
	}
	return state_write_end(w, err, sizeof err) < 0 ? -1 : g->replay;
}

TEST(a_replayed_batch_starts_from_the_state_before_it)
{
	char got[64];
	unlink(path);
	CHECK_INT(gen_run("1", "after-1", got), 0);
	CHECK_STR(got, "");
	/* a replay of the first batch starts empty, again and again */
	CHECK_INT(gen_run("1", "after-1", got), 1);
	CHECK_STR(got, "");
	CHECK_INT(gen_run("2", "after-2", got), 0);
	CHECK_STR(got, "after-1");
	CHECK_INT(gen_run("2", "after-2", got), 1);
	CHECK_STR(got, "after-1");
	CHECK_INT(gen_run("2", "after-2", got), 1);
	CHECK_STR(got, "after-1");
	CHECK_INT(gen_run("3", "after-3", got), 0);
	CHECK_STR(got, "after-2");
	/* header: flag, batch, base version and length, input, base,
	 * payload */
	CHECK_INT(file_size(), 32 + 16 + 24 + 1 + 7 + 7 + 8);
	/* a reader without a batch, and old programs' calls, get the
	 * newest */
	CHECK_INT(read_state(), 0);
	struct state_reader *r = state_read_begin(path, "dedup", 2, NULL,
						  NULL, err, sizeof err);
	CHECK(r != NULL);
	if (r) {
		CHECK_INT(state_read(r, got, 7, err, sizeof err), 0);
		got[7] = '\0';
		CHECK_STR(got, "after-3");
		CHECK_INT(state_read_end(r, err, sizeof err), 0);
	}
	/* damage anywhere, the base included, is refused */
	patch_byte(32 + 16 + 24 + 1 + 2, 0x01);
	CHECK_INT(gen_run("3", "after-3", got), -1);
	expect("checksum mismatch; refusing a damaged state");
	CHECK_STR(err, want);
	patch_byte(32 + 16 + 24 + 1 + 2, 0x01);
	patch_byte(44, 0x01); /* the base length */
	CHECK_INT(gen_run("4", "x", got), -1);
	expect("damaged state (generation sizes do not match the file)");
	CHECK_STR(err, want);
}

TEST(a_batch_replayed_on_other_input_is_refused_and_the_state_kept)
{
	char got[64];
	unlink(path);
	CHECK_INT(gen_run_on("1", "a", "after-1", got), 0);
	CHECK_INT(gen_run_on("2", "b", "after-2", got), 0);
	CHECK_STR(got, "after-1");
	long size = file_size();
	/* the same input replays, any number of times */
	CHECK_INT(gen_run_on("2", "b", "after-2", got), 1);
	CHECK_STR(got, "after-1");
	/* other bytes of the same length, more bytes, none */
	CHECK_INT(gen_run_on("2", "c", "wrong", got), -1);
	expect("batch 2 replayed on other input than its run's (2 bytes as "
	       "before, but others); state left as that run committed it "
	       "(replay the batch's own input, or name another batch)");
	CHECK_STR(err, want);
	CHECK_INT(gen_run_on("2", "bb", "wrong", got), -1);
	expect("batch 2 replayed on other input than its run's (3 bytes, "
	       "not 2); state left as that run committed it (replay the "
	       "batch's own input, or name another batch)");
	CHECK_STR(err, want);
	CHECK_INT(gen_run_on("2", NULL, "wrong", got), -1);
	CHECK_INT(file_size(), size);
	CHECK_INT(gen_run_on("2", "b", "after-2", got), 1);
	CHECK_STR(got, "after-1");
	/* another batch takes any input */
	CHECK_INT(gen_run_on("3", "c", "after-3", got), 0);
	CHECK_STR(got, "after-2");
}

TEST(a_state_without_generations_is_the_base_of_a_batch)
{
	char got[64];
	CHECK_INT(write_state("dedup", 2), 0); /* as before generations */
	CHECK_INT(gen_run("7", "after-7", got), 0);
	CHECK_STR(got, (const char *)payload);
	CHECK_INT(gen_run("7", "after-7", got), 1);
	CHECK_STR(got, (const char *)payload);
	/* a run without a batch writes the plain container again */
	CHECK_INT(gen_run(NULL, "plain", got), 0);
	CHECK_STR(got, "after-7");
	CHECK_INT(file_size(), 32 + 5 + 8);
}

/* A run of batch with note (NULL: none); *known gets the note its load
 * found ("-" when the file had none to give, "" when not a replay). */
static int gen_run_note(const char *batch, const char *note,
			const char *text, char *got, char *known)
{
	struct state_gen g = {.batch = batch, .note = note,
			      .note_len = note ? strlen(note) : 0};
	int rc = gen_run_with(&g, text, got);
	if (!g.replay)
		strcpy(known, "");
	else if (!g.note_known)
		strcpy(known, "-");
	else
		snprintf(known, 64, "%.*s", (int)g.known_note_len,
			 (char *)g.known_note);
	state_gen_free(&g);
	return rc;
}

TEST(a_batchs_note_comes_back_to_its_replay_only)
{
	char got[64], known[64];
	unlink(path);
	/* a file from before notes: its replay has none to check */
	CHECK_INT(gen_run_note("1", NULL, "after-1", got, known), 0);
	CHECK_INT(gen_run_note("1", "keep=last", "after-1", got, known), 1);
	CHECK_STR(known, "-");
	/* the replay kept its own, which the next replay gets */
	CHECK_INT(gen_run_note("1", "keep=first", "after-1", got, known), 1);
	CHECK_STR(known, "keep=last");
	CHECK_STR(got, "");
	/* another batch is no replay: no note handed out */
	CHECK_INT(gen_run_note("2", "keep=last", "after-2", got, known), 0);
	CHECK_STR(known, "");
	CHECK_STR(got, "after-1");
	CHECK_INT(gen_run_note("2", "keep=last", "after-2", got, known), 1);
	CHECK_STR(known, "keep=last");
	CHECK_STR(got, "after-1");
	/* header: flags, batch, base version and length, input, note
	 * length, batch, note, base, payload */
	CHECK_INT(file_size(), 32 + 16 + 24 + 4 + 1 + 9 + 7 + 7 + 8);
	/* a reader without a batch gets the newest payload */
	struct state_reader *r = state_read_begin(path, "dedup", 2, NULL,
						  NULL, err, sizeof err);
	CHECK(r != NULL);
	if (r) {
		CHECK_INT(state_read(r, got, 7, err, sizeof err), 0);
		got[7] = '\0';
		CHECK_STR(got, "after-2");
		CHECK_INT(state_read_end(r, err, sizeof err), 0);
	}
	/* the note is under the checksum, its length under the sizes */
	patch_byte(32 + 16 + 24 + 4 + 1 + 2, 0x01);
	CHECK_INT(gen_run_note("2", "keep=last", "x", got, known), -1);
	expect("checksum mismatch; refusing a damaged state");
	CHECK_STR(err, want);
	patch_byte(32 + 16 + 24 + 4 + 1 + 2, 0x01);
	patch_byte(32 + 16 + 24, 0x01);
	CHECK_INT(gen_run_note("2", "keep=last", "x", got, known), -1);
	expect("damaged state (generation sizes do not match the file)");
	CHECK_STR(err, want);
}

TEST(unknown_flags_are_refused)
{
	CHECK_INT(write_state("dedup", 1), 0);
	patch_byte(20, 0x04);
	CHECK_INT(read_state(), -1);
	expect("flags 0x4 are newer than this program understands");
	CHECK_STR(err, want);
	/* a note without the input before it */
	patch_byte(20, 0x04 ^ 0x09);
	CHECK_INT(read_state(), -1);
	expect("flags 0x9 are newer than this program understands");
	CHECK_STR(err, want);
	patch_byte(20, 0x09 ^ 0x10);
	CHECK_INT(read_state(), -1);
	expect("flags 0x10 are newer than this program understands");
	CHECK_STR(err, want);
}

/* Read path's snapshot and log: the records joined by '|' into out. */
static int read_log(char *out, size_t outlen, struct state_log *lg)
{
	uint32_t v;
	uint64_t len;
	struct state_reader *r = state_read_begin(path, "ckpt", 2, &v, &len,
						  err, sizeof err);
	if (!r)
		return -1;
	struct buf log = {0};
	unsigned char *d = state_read_all_log(r, len, &log, lg, err,
					      sizeof err);
	if (!d)
		return -1;
	snprintf(out, outlen, "%.*s", (int)len, (char *)d);
	for (size_t at = 0; at < log.len;) {
		uint32_t n = le32_get((unsigned char *)log.p + at);
		size_t o = strlen(out);
		snprintf(out + o, outlen - o, "|%.*s", (int)n, log.p + at + 4);
		at += 4 + n;
	}
	free(d);
	buf_free(&log);
	return 0;
}

TEST(a_log_appends_records_read_back_in_order)
{
	struct state_log lg = {.fd = -1};
	struct state_writer *w = state_write_begin_log(path, "ckpt", 2, 4,
						       err, sizeof err);
	CHECK(w != NULL);
	CHECK_INT(state_write(w, "base", 4, err, sizeof err), 0);
	CHECK_INT(state_write_end_log(w, &lg, err, sizeof err), 0);
	CHECK_INT(lg.at, 32 + 4 + 8);
	CHECK_INT(state_log_append(&lg, path, "one", 3, err, sizeof err), 0);
	CHECK_INT(state_log_append(&lg, path, "two!", 4, err, sizeof err), 0);
	CHECK_INT(file_size(), 44 + 15 + 16);
	state_log_close(&lg);
	char got[128];
	CHECK_INT(read_log(got, sizeof got, &lg), 0);
	CHECK_STR(got, "base|one|two!");
	CHECK_INT(lg.at, 44 + 15 + 16);
	CHECK_INT(lg.bytes, 31);
	CHECK_INT(lg.dropped, 0);
	/* a plain reader refuses the records rather than skip them */
	struct state_reader *r = state_read_begin(path, "ckpt", 2, NULL, NULL,
						  err, sizeof err);
	CHECK(r != NULL);
	CHECK(state_read_all(r, 4, err, sizeof err) == NULL);
	expect("a state with a log; only the tool that wrote it reads it");
	CHECK_STR(err, want);
	/* a last record cut short is dropped, said in lg, and cut off at
	 * the next append, which goes on the chain of the whole ones */
	CHECK_INT(truncate(path, 44 + 15 + 16 - 5), 0);
	CHECK_INT(read_log(got, sizeof got, &lg), 0);
	CHECK_STR(got, "base|one");
	CHECK_INT(lg.dropped, 11);
	CHECK_INT(state_log_append(&lg, path, "three", 5, err, sizeof err), 0);
	state_log_close(&lg);
	CHECK_INT(read_log(got, sizeof got, &lg), 0);
	CHECK_STR(got, "base|one|three");
	CHECK_INT(lg.dropped, 0);
	state_log_close(&lg);
	/* a flipped byte in a record with a whole record after it is
	 * damage, not a crash (which cuts only the last): refused, not
	 * dropped with the commits after it */
	patch_byte(44 + 4, 0x01);
	CHECK_INT(read_log(got, sizeof got, &lg), -1);
	expect("damaged state: the log record at byte 44 fails its "
	       "checksum, and whole records follow it (a crash cuts only "
	       "the last); refusing it");
	CHECK_STR(err, want);
	/* so is one whose stored checksum flipped */
	patch_byte(44 + 4, 0x01);
	patch_byte(44 + 4 + 3, 0x80);
	CHECK_INT(read_log(got, sizeof got, &lg), -1);
	CHECK_STR(err, want);
	patch_byte(44 + 4 + 3, 0x80);
	/* a flipped byte in the last record fails its chained checksum:
	 * as a crash would leave it, dropped, never read as a record */
	patch_byte(44 + 15 + 4, 0x01);
	CHECK_INT(read_log(got, sizeof got, &lg), 0);
	CHECK_STR(got, "base|one");
	CHECK_INT(lg.dropped, 17);
	/* a snapshot written anew drops the log */
	w = state_write_begin_log(path, "ckpt", 2, 3, err, sizeof err);
	CHECK(w != NULL);
	CHECK_INT(state_write(w, "new", 3, err, sizeof err), 0);
	CHECK_INT(state_write_end_log(w, &lg, err, sizeof err), 0);
	state_log_close(&lg);
	CHECK_INT(read_log(got, sizeof got, &lg), 0);
	CHECK_STR(got, "new");
	CHECK_INT(lg.bytes, 0);
}

TEST(batch_comes_from_the_option_or_the_environment)
{
	const char *b = "junk";
	setenv("IDEM_BATCH", "42", 1);
	CHECK_INT(state_batch(NULL, &b, err, sizeof err), 0);
	CHECK_STR(b, "42");
	CHECK_INT(state_batch("x", &b, err, sizeof err), 0);
	CHECK_STR(b, "x");
	CHECK_INT(state_batch("", &b, err, sizeof err), 0);
	CHECK(b == NULL);
	unsetenv("IDEM_BATCH");
	CHECK_INT(state_batch(NULL, &b, err, sizeof err), 0);
	CHECK(b == NULL);
	char longb[300];
	memset(longb, 'a', 299);
	longb[299] = '\0';
	CHECK_INT(state_batch(longb, &b, err, sizeof err), -1);
	CHECK_STR(err, "--batch: a batch is at most 255 bytes");
}

TEST(payload_codec_round_trip_and_bounds)
{
	struct buf b = {0};
	state_put_u32(&b, 0x01020304);
	state_put_u64(&b, 0x1122334455667788ULL);
	state_put_str(&b, "key", 3);
	buf_add(&b, "raw", 3);
	CHECK_INT(b.len, 4 + 8 + 8 + 3 + 3);
	CHECK(memcmp(b.p, "\x04\x03\x02\x01\x88\x77\x66\x55\x44\x33\x22\x11"
			  "\x03\0\0\0\0\0\0\0keyraw",
		     b.len) == 0);
	const unsigned char *p = (const unsigned char *)b.p, *end = p + b.len;
	uint32_t u32;
	uint64_t u64;
	char *s, *raw;
	size_t n;
	CHECK_INT(state_get_u32(&p, end, &u32), 0);
	CHECK_INT(u32, 0x01020304);
	CHECK_INT(state_get_u64(&p, end, &u64), 0);
	CHECK(u64 == 0x1122334455667788ULL);
	CHECK_INT(state_get_str(&p, end, &s, &n), 0);
	CHECK_INT(n, 3);
	CHECK_STR(s, "key");
	free(s);
	/* past the end: -1 and nothing consumed */
	const unsigned char *at = p;
	CHECK_INT(state_get_raw(&p, end, 4, &raw), -1);
	CHECK_INT(state_get_u64(&p, end, &u64), -1);
	CHECK_INT(state_get_u32(&p, end, &u32), -1); /* 3 bytes left */
	p = at;
	CHECK_INT(state_get_raw(&p, end, 3, &raw), 0);
	CHECK_STR(raw, "raw");
	free(raw);
	CHECK(p == end);
	/* a string whose length passes the end is refused whole */
	struct buf c = {0};
	state_put_u64(&c, 100);
	buf_add(&c, "short", 5);
	p = (const unsigned char *)c.p;
	end = p + c.len;
	CHECK_INT(state_get_str(&p, end, &s, &n), -1);
	CHECK(p == (const unsigned char *)c.p);
	buf_free(&b);
	buf_free(&c);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/idem-state-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	snprintf(path, sizeof path, "%s/state", dir);
	RUN(round_trip);
	RUN(header_layout_is_little_endian);
	RUN(damage_is_refused_before_the_payload_is_read);
	RUN(missing_file_is_a_first_run);
	RUN(flipped_payload_byte_is_a_checksum_mismatch);
	RUN(flipped_checksum_byte_is_a_checksum_mismatch);
	RUN(truncated_payload);
	RUN(truncated_header);
	RUN(truncated_checksum);
	RUN(wrong_kind);
	RUN(newer_version);
	RUN(bad_magic);
	RUN(trailing_bytes);
	RUN(streaming_reader_finds_truncation_and_trailing_bytes);
	RUN(writer_checks_the_declared_length);
	RUN(writer_refuses_a_kind_too_long);
	RUN(empty_payload);
	RUN(little_endian_helpers);
	RUN(a_replayed_batch_starts_from_the_state_before_it);
	RUN(a_batch_replayed_on_other_input_is_refused_and_the_state_kept);
	RUN(a_state_without_generations_is_the_base_of_a_batch);
	RUN(a_batchs_note_comes_back_to_its_replay_only);
	RUN(unknown_flags_are_refused);
	RUN(a_log_appends_records_read_back_in_order);
	RUN(batch_comes_from_the_option_or_the_environment);
	RUN(payload_codec_round_trip_and_bounds);
	unlink(path);
	rmdir(dir);
	return unit_done();
}
