/*
 * txlog: an ACID table on a folder that speaks the Delta Lake log.
 *
 * This file holds the options and the dispatch to the verbs: write.c
 * (init, append, overwrite, delete, merge), read.c (cat, log, files,
 * schema, checkpoint), data.c (data files and predicates), tx.c
 * (commit by put-if-absent, conflict rules), and the maintenance verbs
 * verify.c, vacuum.c, optimize.c, stats.c.  The log itself is
 * lib/delta_log.c, the schema lib/delta_schema.c.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "timefmt.h"
#include "txlog.h"

struct txopt opt = {.version = -1, .level = 3, .target_size = 256u << 20};

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f,
"Usage: txlog VERB TABLE [OPTION]... [FILE]...\n"
"An ACID table on a folder, kept as a Delta Lake transaction log.\n"
"\n"
"Verbs:\n"
"  init TABLE [--schema FILE | --infer] [--partition-by COL]...\n"
"  append TABLE [--txn APP:VERSION] [--merge-schema] [FILE]...\n"
"  overwrite TABLE [--where 'COL = VALUE']... [FILE]...\n"
"  merge TABLE -k EXPR [--when-newer EXPR] [--delete-when EXPR] [FILE]...\n"
"  delete TABLE --where EXPR\n"
"  cat TABLE [--version N | --as-of TIME] [--where EXPR]\n"
"  log TABLE          history, newest first\n"
"  files TABLE [--version N | --as-of TIME]\n"
"  schema TABLE\n"
"  checkpoint TABLE   write a checkpoint now\n"
"  verify TABLE [--deep]  check the log and every data file\n"
"  vacuum TABLE [--retain DUR] [--dry-run] [--force]\n"
"  optimize TABLE [--where EXPR] [--target-size SIZE] [--zorder-by COL,...]\n"
"  stats TABLE [--target-size SIZE]  files, bytes, records per partition\n"
"\n"
"Options:\n"
"      --schema FILE         table schema (Delta struct JSON)\n"
"      --infer               infer the schema from the first write\n"
"      --partition-by COL    partition column (repeatable)\n"
"      --checkpoint-interval N  checkpoint every N commits (default 10)\n"
"      --txn APP:VERSION     idempotent write: skip if APP is at VERSION\n"
"      --merge-schema        add new nullable columns, widen numbers\n"
"      --where EXPR          predicate (repeatable, ANDed)\n"
"  -k, --key EXPR            merge key (a jq path or program)\n"
"      --when-newer EXPR     merge: update only when EXPR grows\n"
"      --delete-when EXPR    merge: delete the target when EXPR is true\n"
"      --version N           read version N\n"
"      --as-of TIME          read the version current at TIME (RFC 3339)\n"
"      --level N             zstd level of data files (default 3)\n"
"      --retain DUR          vacuum: keep what time travel within DUR\n"
"                            needs (default 7d)\n"
"      --dry-run             vacuum: list what would go, delete nothing\n"
"      --force               vacuum: allow --retain under 7d\n"
"      --target-size SIZE    optimize: output file size, uncompressed\n"
"                            (default 256M)\n"
"      --zorder-by COL,...   optimize: cluster records by these columns\n"
"      --deep                verify: read every record, check statistics\n"
"      --stats               print counts as one JSON line on stderr\n"
"  -h, --help                show this help\n"
"      --version             (alone) show the version\n"
"\n"
"Exit status: 0 done, 1 verify found damage, 2 trouble,\n"
"75 a conflicting concurrent commit: retry.\n"
"See txlog(1).\n");
	exit(status);
}

enum {
	O_SCHEMA = 256, O_INFER, O_PART, O_CPI, O_TXN, O_MERGE_SCHEMA,
	O_WHERE, O_NEWER, O_DELWHEN, O_VERSION, O_ASOF, O_LEVEL, O_STATS,
	O_RETAIN, O_DRY_RUN, O_FORCE, O_TARGET, O_ZORDER, O_DEEP,
};

static const struct option longopts[] = {
	{"schema", required_argument, 0, O_SCHEMA},
	{"infer", no_argument, 0, O_INFER},
	{"partition-by", required_argument, 0, O_PART},
	{"checkpoint-interval", required_argument, 0, O_CPI},
	{"txn", required_argument, 0, O_TXN},
	{"merge-schema", no_argument, 0, O_MERGE_SCHEMA},
	{"where", required_argument, 0, O_WHERE},
	{"key", required_argument, 0, 'k'},
	{"when-newer", required_argument, 0, O_NEWER},
	{"delete-when", required_argument, 0, O_DELWHEN},
	{"version", required_argument, 0, O_VERSION},
	{"as-of", required_argument, 0, O_ASOF},
	{"level", required_argument, 0, O_LEVEL},
	{"stats", no_argument, 0, O_STATS},
	{"retain", required_argument, 0, O_RETAIN},
	{"dry-run", no_argument, 0, O_DRY_RUN},
	{"force", no_argument, 0, O_FORCE},
	{"target-size", required_argument, 0, O_TARGET},
	{"zorder-by", required_argument, 0, O_ZORDER},
	{"deep", no_argument, 0, O_DEEP},
	{"help", no_argument, 0, 'h'},
	{0, 0, 0, 0},
};

static const struct {
	const char *name;
	int (*fn)(void);
} verbs[] = {
	{"init", verb_init},       {"append", verb_append},
	{"overwrite", verb_overwrite}, {"delete", verb_delete},
	{"merge", verb_merge},     {"cat", verb_cat},
	{"log", verb_log},         {"files", verb_files},
	{"schema", verb_schema},   {"checkpoint", verb_checkpoint},
	{"verify", verb_verify},   {"vacuum", verb_vacuum},
	{"optimize", verb_optimize}, {"stats", verb_stats},
};

int main(int argc, char **argv)
{
	cli_init("txlog");
	if (argc < 2)
		cli_usage_error("missing verb");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		usage(0);
	if (strcmp(argv[1], "--version") == 0)
		cli_version();
	int (*fn)(void) = NULL;
	for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			fn = verbs[i].fn;
	if (!fn)
		cli_usage_error("unknown verb '%s'", argv[1]);
	argc--;
	argv++;
	int c;
	while ((c = getopt_long(argc, argv, "hk:", longopts, NULL)) != -1) {
		switch (c) {
		case O_SCHEMA:
			opt.schema_file = optarg;
			break;
		case O_INFER:
			opt.infer = true;
			break;
		case O_PART:
			if (opt.npart == MAX_PART)
				cli_usage_error("too many --partition-by");
			opt.part[opt.npart++] = optarg;
			break;
		case O_CPI:
			opt.checkpoint_every =
				(int64_t)cli_count("--checkpoint-interval",
						   optarg);
			if (opt.checkpoint_every < 1)
				cli_usage_error("--checkpoint-interval must "
						"be at least 1");
			break;
		case O_TXN:
			opt.txn = optarg;
			break;
		case O_MERGE_SCHEMA:
			opt.merge_schema = true;
			break;
		case O_WHERE:
			if (opt.nwhere == MAX_WHERE)
				cli_usage_error("too many --where");
			opt.where[opt.nwhere++] = optarg;
			break;
		case 'k':
			opt.key = optarg;
			break;
		case O_NEWER:
			opt.when_newer = optarg;
			break;
		case O_DELWHEN:
			opt.delete_when = optarg;
			break;
		case O_VERSION: {
			/* a Delta version is a signed 64-bit Long: 2^63 and
			 * up would wrap to "the newest" */
			uint64_t v = cli_count("--version", optarg);
			if (v > INT64_MAX)
				cli_usage_error("--version %s: a Delta version "
						"is at most %lld", optarg,
						(long long)INT64_MAX);
			opt.version = (int64_t)v;
			break;
		}
		case O_ASOF:
			opt.as_of = optarg;
			break;
		case O_LEVEL:
			opt.level = (int)cli_count("--level", optarg);
			if (opt.level < 1 || opt.level > 19)
				cli_usage_error("--level must be 1 to 19");
			break;
		case O_STATS:
			opt.stats = true;
			break;
		case O_RETAIN:
			opt.retain_ns = cli_duration("--retain", optarg);
			opt.retain_set = true;
			break;
		case O_DRY_RUN:
			opt.dry_run = true;
			break;
		case O_FORCE:
			opt.force = true;
			break;
		case O_TARGET:
			opt.target_size = cli_size("--target-size", optarg);
			if (opt.target_size < 1)
				cli_usage_error("--target-size must be above 0");
			break;
		case O_ZORDER:
			opt.zorder = optarg;
			break;
		case O_DEEP:
			opt.deep = true;
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(EXIT_TROUBLE);
		}
	}
	if (optind >= argc)
		cli_usage_error("%s: missing TABLE", argv[0]);
	opt.table = argv[optind++];
	opt.files = argv + optind;
	opt.nfiles = (size_t)(argc - optind);
	if (opt.version >= 0 && opt.as_of)
		cli_usage_error("--version and --as-of exclude each other");
	int rc = fn();
	cli_out_close();
	return rc;
}
