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

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
"Usage: dlq check [-e EXPR]... [--schema FILE] [--dlq FILE] [FILE]...\n"
"       dlq stats FILE...\n"
"       dlq replay FILE [--max-retries N] [--allow-unread] [-- CMD [ARG]...]\n"
"       dlq replay FILE --commit\n"
"       dlq retry [--retries N] [--backoff MIN..MAX] [--jitter] [--timeout DUR]\n"
"                 [-j N] [--permanent CODE,...] [--dlq FILE] [FILE]...\n"
"                 -- CMD [ARG]...\n"
"       dlq purge --older-than DUR FILE\n"
"Dead letters: keep bad records, explain them, replay them on purpose.\n"
"\n"
"  -h, --help     show this help\n"
"      --version  show the version\n"
"\n"
"Run 'dlq VERB --help' for a verb's options.  See dlq(1).\n"
"\n"
"Exit status: 0 done, 2 trouble, 75 the file is locked by another\n"
"replay or a replay's command exited 75.\n");
	cli_examples(f,
"  printf '{\"amount\":1}\\n{\"amount\":null}\\n' > raw.ndjson\n"
"  dlq check -e '.amount != null' --dlq bad.ndjson raw.ndjson\n"
"  dlq stats bad.ndjson\n");
	cli_exit(status);
}

/* The verbs; each parses its own options against this entry. */
static const struct cli_verb verbs[] = {
	{"check", "check [-e EXPR]... [--schema FILE] [--dlq FILE] [FILE]...",
	 "expr schema dlq stats max-line threads", "Pass the records that satisfy every check; dead-letter the "
	 "others",
	 "  printf '{\"amount\":1}\\n{\"amount\":null}\\nnot json\\n' > "
	 "raw.ndjson\n"
	 "  dlq check -e '.amount != null' --dlq bad.ndjson raw.ndjson\n"
	 "  dlq check --stats -e '.amount > 0' raw.ndjson --dlq bad.ndjson\n"},
	{"stats", "stats FILE...", "",
	 "Count dead letters by error type",
	 "  printf '{\"a\":1}\\nnot json\\n' | dlq check -e .a --dlq "
	 "bad.ndjson\n"
	 "  dlq stats bad.ndjson\n"},
	{"replay", "replay FILE [--max-retries N] [--allow-unread] "
		   "[-- CMD [ARG]...]",
	 "max-retries commit allow-unread", "Emit the replayable originals",
	 "  printf '{\"a\":1}\\n{\"a\":0}\\n' | dlq check -e '.a > 0' "
	 "--dlq bad.ndjson\n"
	 "  dlq replay bad.ndjson > again.ndjson\n"
	 "  dlq replay bad.ndjson --commit\n"},
	{"retry", "retry [OPTION]... [FILE]... -- CMD [ARG]...",
	 "retries backoff jitter timeout jobs permanent dlq stats "
	 "allow-unread max-line",
	 "Run CMD once per record, retrying failures with backoff",
	 "  printf '{\"n\":1}\\n{\"n\":2}\\n' | dlq retry --retries 2 "
	 "--backoff 10ms..1s -- cat\n"
	 "  printf '{\"n\":1}\\n' | dlq retry --retries 1 --backoff "
	 "1ms..1ms --dlq failed.ndjson -- false\n"},
	{"purge", "purge --older-than DUR FILE", "older-than",
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

int main(int argc, char **argv)
{
	cli_init(argv[0]);
	const struct cli_verb *v = cli_verb_pick(verbs, NVERBS, &argc, &argv,
						 usage);
	return verb_fn[v - verbs](v, argc, argv);
}
