/* jsonw and dlq: escaping, UTF-8 repair, dead-letter envelopes. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "dlq.h"
#include "jsonw.h"
#include "scan.h"
#include "unit.h"

#define FFFD "\xef\xbf\xbd"

static char dir[64];
static char err[512];

/* jw_string of s[0..n) as a C string (static, overwritten each call). */
static const char *esc(const char *s, size_t n)
{
	static struct buf b;
	buf_reset(&b);
	jw_string(&b, s, n);
	return b.p;
}
#define ESC(lit) esc(lit, sizeof lit - 1)

TEST(plain_ascii_is_quoted)
{
	CHECK_STR(ESC(""), "\"\"");
	CHECK_STR(ESC("hello world"), "\"hello world\"");
	CHECK_STR(ESC("a/b~\x7f"), "\"a/b~\x7f\"");
}

TEST(quotes_backslashes_and_controls_are_escaped)
{
	CHECK_STR(ESC("say \"hi\" \\o/"), "\"say \\\"hi\\\" \\\\o/\"");
	CHECK_STR(ESC("\n\t\r\b\f"), "\"\\n\\t\\r\\b\\f\"");
	CHECK_STR(ESC("\x01\x1f"), "\"\\u0001\\u001f\"");
	CHECK_STR(ESC("a\0b"), "\"a\\u0000b\"");
}

TEST(valid_utf8_passes_through)
{
	CHECK_STR(ESC("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
	CHECK_STR(ESC("\xe2\x82\xac 5"), "\"\xe2\x82\xac 5\"");
	CHECK_STR(ESC("\xf0\x9f\x98\x80"), "\"\xf0\x9f\x98\x80\"");
	CHECK_STR(ESC("\xef\xbf\xbf"), "\"\xef\xbf\xbf\"");     /* U+FFFF */
	CHECK_STR(ESC("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\""); /* max */
	CHECK_STR(ESC("\xed\x9f\xbf"), "\"\xed\x9f\xbf\"");     /* U+D7FF */
}

TEST(invalid_utf8_becomes_replacement_characters)
{
	/* Lone and stray bytes: one U+FFFD each. */
	CHECK_STR(ESC("a\xff" "b"), "\"a" FFFD "b\"");
	CHECK_STR(ESC("\x80\xbf"), "\"" FFFD FFFD "\"");
	CHECK_STR(ESC("\xf5\x80"), "\"" FFFD FFFD "\"");
	/* Overlongs: C0/C1 never start anything; E0 80 / F0 80 neither. */
	CHECK_STR(ESC("\xc0\xaf"), "\"" FFFD FFFD "\"");
	CHECK_STR(ESC("\xc1\xbf"), "\"" FFFD FFFD "\"");
	CHECK_STR(ESC("\xe0\x80\xaf"), "\"" FFFD FFFD FFFD "\"");
	CHECK_STR(ESC("\xf0\x80\x80\xaf"), "\"" FFFD FFFD FFFD FFFD "\"");
	/* Surrogates and beyond U+10FFFF. */
	CHECK_STR(ESC("\xed\xa0\x80"), "\"" FFFD FFFD FFFD "\"");
	CHECK_STR(ESC("\xf4\x90\x80\x80"), "\"" FFFD FFFD FFFD FFFD "\"");
	/* A truncated sequence is one U+FFFD, whatever follows it. */
	CHECK_STR(ESC("\xe2\x82"), "\"" FFFD "\"");
	CHECK_STR(ESC("\xe2\x82x"), "\"" FFFD "x\"");
	CHECK_STR(ESC("\xf0\x9f\x98\""), "\"" FFFD "\\\"\"");
	CHECK_STR(ESC("\xc3"), "\"" FFFD "\"");
	CHECK_STR(ESC("\xe2\x82\xe2\x82\xac"), "\"" FFFD "\xe2\x82\xac\"");
}

TEST(keys_numbers_and_times)
{
	struct buf b = {0};
	buf_addc(&b, '{');
	jw_key(&b, "a", 1);
	jw_i64(&b, INT64_MIN);
	jw_key(&b, "b\"", 0);
	jw_u64(&b, UINT64_MAX);
	jw_key(&b, "t", 0);
	jw_time(&b, INT64_C(1714557600) * 1000000000);
	jw_key(&b, "s", 0);
	jw_str(&b, "x");
	buf_addc(&b, '}');
	CHECK_STR(b.p, "{\"a\":-9223372036854775808,\"b\\\"\":"
		       "18446744073709551615,\"t\":\"2024-05-01T10:00:00Z\","
		       "\"s\":\"x\"}");
	buf_free(&b);
}

static const int64_t fixed_ns = INT64_C(1714557600) * 1000000000;

TEST(envelope_of_a_json_record)
{
	static const char rec[] = "{\"id\":7,\"amount\":\"x\"}";
	struct dlq_letter l = {
		.record = rec,
		.len = sizeof rec - 1,
		.is_json = true,
		.error_type = "wrong_type",
		.error_message = ".amount: expected a number, got \"x\"",
		.retry_count = 2,
		.replayable = true,
		.file = "raw.ndjson",
		.line = 1234,
	};
	struct buf b = {0};
	dlq_envelope(&b, "dedup", &l, fixed_ns);
	CHECK_STR(b.p,
		  "{\"original_record\":{\"id\":7,\"amount\":\"x\"},"
		  "\"error_type\":\"wrong_type\","
		  "\"error_message\":\".amount: expected a number, got "
		  "\\\"x\\\"\",\"retry_count\":2,"
		  "\"failed_at\":\"2024-05-01T10:00:00Z\","
		  "\"replayable\":true,"
		  "\"source\":{\"tool\":\"dedup\",\"file\":\"raw.ndjson\","
		  "\"line\":1234}}");
	buf_free(&b);
}

TEST(envelope_of_a_line_that_is_not_json)
{
	static const char raw[] = "{\"id\":1,\tbad \xff";
	struct dlq_letter l = {
		.record = raw,
		.len = sizeof raw - 1,
		.is_json = false,
		.error_type = "invalid_json",
		.error_message = "unterminated object",
		.retry_count = 0,
		.replayable = false,
		.file = "-",
		.line = 1,
	};
	struct buf b = {0};
	dlq_envelope(&b, "validate", &l, 0);
	CHECK_STR(b.p,
		  "{\"original_record\":\"{\\\"id\\\":1,\\tbad " FFFD "\","
		  "\"original_base64\":\"eyJpZCI6MSwJYmFkIP8=\","
		  "\"error_type\":\"invalid_json\","
		  "\"error_message\":\"unterminated object\","
		  "\"retry_count\":0,"
		  "\"failed_at\":\"1970-01-01T00:00:00Z\","
		  "\"replayable\":false,"
		  "\"source\":{\"tool\":\"validate\",\"file\":\"-\","
		  "\"line\":1}}");
	buf_free(&b);
}

/* Any bytes that are not JSON, dead-lettered and read back, are the
 * bytes replay hands out: UTF-8 or not, every length mod 3. */
TEST(a_raw_line_comes_back_byte_for_byte)
{
	uint64_t seed = 7;
	struct scan_record rec = {0};
	struct buf b = {0}, back = {0};
	for (int round = 0; round < 2000; round++) {
		char raw[40];
		size_t n = 1 + unit_splitmix(&seed) % (sizeof raw - 1);
		for (size_t i = 0; i < n; i++) {
			uint64_t r = unit_splitmix(&seed);
			/* mostly text, some high bytes, no newline */
			raw[i] = r % 4 ? (char)(' ' + r % 90)
				       : (char)(0x80 + (r >> 8) % 128);
		}
		struct dlq_letter l = {.record = raw, .len = n,
				       .error_type = "invalid_json",
				       .error_message = "m", .file = "-",
				       .line = 1, .replayable = true};
		buf_reset(&b);
		buf_reset(&back);
		dlq_envelope(&b, "t", &l, 0);
		struct dlq_envelope e;
		CHECK_INT(dlq_envelope_parse(&rec, b.p, b.len, &e), 0);
		dlq_envelope_original(&e, &back);
		CHECK(back.len == n && memcmp(back.p, raw, n) == 0);
	}
	scan_record_free(&rec);
	buf_free(&b);
	buf_free(&back);
}

static char *slurp(const char *path, size_t *n)
{
	static char data[8192];
	int fd = open(path, O_RDONLY);
	ssize_t r = fd < 0 ? -1 : read(fd, data, sizeof data - 1);
	if (fd >= 0)
		close(fd);
	if (r < 0)
		return NULL;
	data[r] = '\0';
	*n = (size_t)r;
	return data;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

TEST(put_appends_one_line_per_letter)
{
	char path[300];
	snprintf(path, sizeof path, "%s/dead.ndjson", dir);
	struct dlq_letter l = {
		.record = "[1,2]",
		.len = 5,
		.is_json = true,
		.error_type = "missing_field",
		.error_message = ".id is missing",
		.replayable = true,
		.file = "in.ndjson",
		.line = 3,
	};
	struct dlq *d = dlq_open(path, "dedup", err, sizeof err);
	CHECK(d != NULL);
	if (!d)
		return;
	CHECK_INT(dlq_put(d, &l, err, sizeof err), 0);
	l.line = 4;
	CHECK_INT(dlq_put(d, &l, err, sizeof err), 0);
	CHECK_INT(dlq_count(d), 2);
	CHECK_INT(dlq_close(d, err, sizeof err), 0);

	/* A second run appends after the first one's letters. */
	d = dlq_open(path, "dedup", err, sizeof err);
	CHECK(d != NULL);
	if (!d)
		return;
	l.line = 5;
	CHECK_INT(dlq_put(d, &l, err, sizeof err), 0);
	CHECK_INT(dlq_count(d), 1);
	CHECK_INT(dlq_close(d, err, sizeof err), 0);

	size_t n;
	char *s = slurp(path, &n);
	CHECK(s != NULL);
	if (!s)
		return;
	CHECK_INT(count_lines(s), 3);
	CHECK(n > 0 && s[n - 1] == '\n');
	static const char head[] =
		"{\"original_record\":[1,2],\"error_type\":\"missing_field\","
		"\"error_message\":\".id is missing\",\"retry_count\":0,"
		"\"failed_at\":\"";
	char *line = s;
	for (int i = 3; i <= 5; i++) {
		char tail[128];
		snprintf(tail, sizeof tail,
			 "\",\"replayable\":true,\"source\":{\"tool\":\"dedup\","
			 "\"file\":\"in.ndjson\",\"line\":%d}}\n",
			 i);
		char *nl = strchr(line, '\n');
		CHECK(nl != NULL);
		if (!nl)
			return;
		size_t len = (size_t)(nl + 1 - line);
		CHECK(strncmp(line, head, sizeof head - 1) == 0);
		CHECK(len > strlen(tail) &&
		      strncmp(nl + 1 - strlen(tail), tail, strlen(tail)) == 0);
		/* failed_at is a UTC time of the form 20YY-..Z */
		const char *t = line + sizeof head - 1;
		CHECK(strncmp(t, "20", 2) == 0 && strchr(t, 'Z') < nl);
		line = nl + 1;
	}
	unlink(path);
}

TEST(open_in_a_missing_folder_is_an_error)
{
	char path[300], want[512];
	snprintf(path, sizeof path, "%s/no/such/dead.ndjson", dir);
	CHECK(dlq_open(path, "dedup", err, sizeof err) == NULL);
	snprintf(want, sizeof want,
		 "%s: cannot open dead-letter file: No such file or directory",
		 path);
	CHECK_STR(err, want);
}

TEST(a_full_disk_is_reported)
{
	if (access("/dev/full", W_OK) != 0)
		return;
	struct dlq *d = dlq_open("/dev/full", "dedup", err, sizeof err);
	CHECK(d != NULL);
	if (!d)
		return;
	struct dlq_letter l = {.record = "1", .len = 1, .is_json = true,
			       .error_type = "late", .error_message = "late",
			       .file = "-", .line = 1};
	CHECK_INT(dlq_put(d, &l, err, sizeof err), -1);
	CHECK_STR(err, "/dev/full: write: No space left on device");
	CHECK_INT(dlq_count(d), 0);
	CHECK_INT(dlq_close(d, err, sizeof err), 0);
}

/* A replay leaves letters a file holds already; a device holds none. */
TEST(a_file_keeps_its_letters_a_device_does_not)
{
	char path[300];
	snprintf(path, sizeof path, "%s/keeps.ndjson", dir);
	struct dlq *d = dlq_open(path, "dedup", err, sizeof err);
	CHECK(d != NULL);
	if (d) {
		CHECK(dlq_keeps(d));
		CHECK_INT(dlq_close(d, err, sizeof err), 0);
	}
	d = dlq_open("/dev/null", "dedup", err, sizeof err);
	CHECK(d != NULL);
	if (d) {
		CHECK(!dlq_keeps(d));
		CHECK_INT(dlq_close(d, err, sizeof err), 0);
	}
	unlink(path);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/idem-dlq-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	RUN(plain_ascii_is_quoted);
	RUN(quotes_backslashes_and_controls_are_escaped);
	RUN(valid_utf8_passes_through);
	RUN(invalid_utf8_becomes_replacement_characters);
	RUN(keys_numbers_and_times);
	RUN(envelope_of_a_json_record);
	RUN(envelope_of_a_line_that_is_not_json);
	RUN(a_raw_line_comes_back_byte_for_byte);
	RUN(put_appends_one_line_per_letter);
	RUN(open_in_a_missing_folder_is_an_error);
	RUN(a_full_disk_is_reported);
	RUN(a_file_keeps_its_letters_a_device_does_not);
	rmdir(dir);
	return unit_done();
}
