/*
 * badrec: the bad records a prep finds, carried to apply in the words
 * cli_reject would have printed inline: the line check (torn, too long,
 * invalid JSON, not an object), an expression's failure, a time that is
 * no time, and a message cut at cli_reject's bound of 1023 bytes.  Run
 * through par_each_line with 1 and 3 threads and one-line chunks, so the
 * messages must outlive the worker's scratch.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "badrec.h"
#include "buf.h"
#include "cli.h"
#include "expr.h"
#include "lines.h"
#include "par.h"
#include "scan.h"
#include "unit.h"

struct slot {
	struct badrec bad;
	int64_t t;
};

struct wctx {
	struct expr *t;
	struct scan_record rec;
};

static struct buf log_buf;

static void *w_new(void *arg, int index)
{
	(void)arg;
	(void)index;
	char err[256];
	struct wctx *w = calloc(1, sizeof *w);
	w->t = expr_compile("if .e then error(\"boom\") else .t end", err,
			    sizeof err);
	return w;
}

static void w_free(void *v)
{
	struct wctx *w = v;
	expr_free(w->t);
	scan_record_free(&w->rec);
	free(w);
}

static void prep(void *wctx, const struct line *ln, void *vslot,
		 struct par_chunk *ch)
{
	struct wctx *w = wctx;
	struct slot *s = vslot;
	if (!badrec_line(&s->bad, ch, ln, 64, &w->rec, true))
		return;
	if (ln->p[w->rec.start + 2] == 'L') { /* {"L":...}: a long message */
		char big[3000];
		memset(big, 'x', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		badrec_set(&s->bad, ch, true, "long", "%s", big);
		return;
	}
	badrec_time(&s->bad, ch, w->t, &w->rec, "event time", TIME_S, &s->t);
}

static void apply(const struct line *ln, const char *name, void *vslot)
{
	const struct slot *s = vslot;
	(void)name;
	if (!s->bad.type) {
		buf_addf(&log_buf, "%llu ok %lld\n",
			 (unsigned long long)ln->lineno, (long long)s->t);
		return;
	}
	size_t n = strlen(s->bad.msg);
	if (n > 200)
		buf_addf(&log_buf, "%llu %s %d len %zu\n",
			 (unsigned long long)ln->lineno, s->bad.type,
			 s->bad.is_json, n);
	else
		buf_addf(&log_buf, "%llu %s %d %s\n",
			 (unsigned long long)ln->lineno, s->bad.type,
			 s->bad.is_json, s->bad.msg);
}

static const char input[] =
	"{\"t\":5}\n"
	"{\"t\":\n"
	"[1]\n"
	"{\"t\":\"soon\"}\n"
	"{\"u\":1}\n"
	"{\"e\":true}\n"
	"{\"L\":1}\n"
	"{\"t\":1, \"pad\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}\n"
	"{\"t\":\"2024-05-01T00:00:00Z\"}\n";

static const char want[] =
	"1 ok 5000000000\n"
	"2 invalid_json 0 invalid JSON: unexpected end of input at byte 6\n"
	"3 wrong_type 1 record is an array, not an object\n"
	"4 wrong_type 1 event time if .e then error(\"boom\") else .t end: "
	"not an RFC 3339 time\n"
	"5 wrong_type 1 event time if .e then error(\"boom\") else .t end: "
	"must be an RFC 3339 string or a number\n"
	"6 expression_error 1 event time if .e then error(\"boom\") else .t "
	"end: boom\n"
	"7 long 1 len 1023\n"
	"8 line_too_long 0 line of 87 bytes is longer than --max-line 64\n"
	"9 ok 1714521600000000000\n";

TEST(messages_outlive_the_worker)
{
	char dir[] = "/tmp/test_badrec.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char path[64];
	snprintf(path, sizeof path, "%s/in", dir);
	FILE *f = fopen(path, "w");
	CHECK(f && fwrite(input, 1, sizeof input - 1, f) == sizeof input - 1);
	CHECK(fclose(f) == 0);
	char *files[] = {path, NULL};
	struct par_ops ops = {
		.slot_size = sizeof(struct slot), .worker_new = w_new,
		.worker_free = w_free, .prep = prep, .apply = apply,
	};
	setenv("IDEM_PAR_CHUNK", "1", 1);
	for (int threads = 1; threads <= 3; threads += 2) {
		char err[256];
		buf_reset(&log_buf);
		CHECK(par_each_line(files, 64, threads, &ops, err,
				    sizeof err) == 0);
		CHECK_STR(log_buf.p, want);
	}
	unsetenv("IDEM_PAR_CHUNK");
	remove(path);
	remove(dir);
	buf_free(&log_buf);
}

int main(void)
{
	RUN(messages_outlive_the_worker);
	return unit_done();
}
