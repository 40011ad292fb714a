/*
 * dlq: dead letters -- check records into them, count them, replay them,
 * retry a command with backoff, purge old ones.  See dlqtool.h for the
 * map of the files, and dlq(1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commit.h"
#include "dlqtool.h"
#include "timefmt.h"

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
"Usage: dlq check [-e EXPR]... [--schema FILE] [--dlq FILE] [FILE]...\n"
"       dlq stats FILE...\n"
"       dlq replay FILE [--max-retries N] [-- CMD [ARG]...]\n"
"       dlq replay FILE --commit\n"
"       dlq retry --retries N --backoff MIN..MAX [--jitter] [--timeout DUR]\n"
"                 [-j N] [--permanent CODE,...] [--dlq FILE] -- CMD [ARG]...\n"
"       dlq purge --older-than DUR FILE\n"
"Dead letters: keep bad records, explain them, replay them on purpose.\n"
"Run 'dlq VERB --help' for a verb's options.  See dlq(1).\n"
"\n"
"Exit status: 0 done, 2 trouble, 75 the file is locked by another\n"
"replay or the command exited 75.\n");
	cli_examples(f,
"  printf '{\"amount\":1}\\n{\"amount\":null}\\n' > raw.ndjson\n"
"  dlq check -e '.amount != null' --dlq bad.ndjson raw.ndjson\n"
"  dlq stats bad.ndjson\n");
	exit(status);
}

/* The verbs; each parses its own options against this entry. */
static const struct cli_verb verbs[] = {
	{"check", "check [-e EXPR]... [--schema FILE] [--dlq FILE] [FILE]...",
	 NULL, "Pass the records that satisfy every check; dead-letter the "
	 "others",
	 "  printf '{\"amount\":1}\\n{\"amount\":null}\\nnot json\\n' > "
	 "raw.ndjson\n"
	 "  dlq check -e '.amount != null' --dlq bad.ndjson raw.ndjson\n"
	 "  dlq check --stats -e '.amount > 0' raw.ndjson --dlq bad.ndjson\n"},
	{"stats", "stats FILE...", NULL,
	 "Count dead letters by error type",
	 "  printf '{\"a\":1}\\nnot json\\n' | dlq check -e .a --dlq "
	 "bad.ndjson\n"
	 "  dlq stats bad.ndjson\n"},
	{"replay", "replay FILE [--max-retries N] [--allow-unread] "
		   "[-- CMD [ARG]...]",
	 NULL, "Emit the replayable originals",
	 "  printf '{\"a\":1}\\n{\"a\":0}\\n' | dlq check -e '.a > 0' "
	 "--dlq bad.ndjson\n"
	 "  dlq replay bad.ndjson > again.ndjson\n"
	 "  dlq replay bad.ndjson --commit\n"},
	{"retry", "retry [OPTION]... [FILE]... -- CMD [ARG]...", NULL,
	 "Run CMD once per record, retrying failures with backoff",
	 "  printf '{\"n\":1}\\n{\"n\":2}\\n' | dlq retry --retries 2 "
	 "--backoff 10ms..1s -- cat\n"
	 "  printf '{\"n\":1}\\n' | dlq retry --retries 1 --backoff "
	 "1ms..1ms --dlq failed.ndjson -- false\n"},
	{"purge", "purge --older-than DUR FILE", NULL,
	 "Remove the entries that failed more than DUR ago",
	 "  printf 'not json\\n' | dlq check -e .a --dlq bad.ndjson\n"
	 "  dlq purge --older-than 30d bad.ndjson\n"},
};
#define NVERBS (sizeof verbs / sizeof verbs[0])

/* in the order of verbs[] */
static int (*const verb_fn[])(const struct cli_verb *, int, char **) = {
	dlq_check_main, dlq_stats_main, dlq_replay_main, dlq_retry_main,
	dlq_purge_main,
};

int envelope_parse(struct scan_record *rec, const char *line, size_t len,
		   struct envelope *e)
{
	static struct path p_orig, p_type, p_retry, p_at, p_repl;
	static bool ready;
	struct scan_error se;
	if (!ready) {
		path_parse(".original_record", &p_orig);
		path_parse(".error_type", &p_type);
		path_parse(".retry_count", &p_retry);
		path_parse(".failed_at", &p_at);
		path_parse(".replayable", &p_repl);
		ready = true;
	}
	memset(e, 0, sizeof *e);
	e->bad = "";
	e->failed_at = INT64_MIN;
	if (scan_record(rec, line, len, &se) != 0 || line[rec->start] != '{')
		return -1;
	const char *v, *why;
	size_t vl;
	if (path_lookup_record(&p_orig, rec, &e->orig, &e->orig_len, &why) !=
	    PATH_FOUND)
		return -1;
	if (path_lookup_record(&p_type, rec, &v, &vl, &why) == PATH_FOUND &&
	    v[0] == '"') {
		e->error_type = v;
		e->error_type_len = vl;
		e->raw = scan_string_equals(v, vl, "invalid_json", 12) ||
			 scan_string_equals(v, vl, "line_too_long", 13);
	}
	if (path_lookup_record(&p_retry, rec, &v, &vl, &why) == PATH_FOUND) {
		/* A whole number of digits, nothing else: a hand-edited -1,
		 * 1.5 or "2" read loosely would give a count the ledger
		 * cannot match back (and UINT64_MAX is its "used" mark). */
		uint64_t n = 0;
		e->bad = " (retry_count is not a whole number 0 to 2^63-1)";
		for (size_t k = 0; k < vl; k++) {
			if (v[k] < '0' || v[k] > '9' || n > INT64_MAX / 10)
				return -1;
			n = n * 10 + (uint64_t)(v[k] - '0');
		}
		if (vl == 0 || n > INT64_MAX)
			return -1;
		e->bad = "";
		e->retry_count = n;
	}
	if (path_lookup_record(&p_at, rec, &v, &vl, &why) == PATH_FOUND &&
	    v[0] == '"' && vl >= 2) {
		int64_t ns;
		if (time_parse_rfc3339(v + 1, vl - 2, &ns, &why) == 0)
			e->failed_at = ns;
	}
	e->replayable = path_lookup_record(&p_repl, rec, &v, &vl, &why) ==
				PATH_FOUND &&
			vl == 4 && !memcmp(v, "true", 4);
	return 0;
}

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	const struct cli_verb *v = cli_verb_pick(verbs, NVERBS, &argc, &argv,
						 usage);
	return verb_fn[v - verbs](v, argc, argv);
}
