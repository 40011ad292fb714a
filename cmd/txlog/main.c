/*
 * txlog: an ACID table on a folder that speaks the Delta Lake log.
 *
 * This file holds the options and the dispatch to the verbs: write.c
 * (init, append, overwrite, delete, merge), read.c (cat, log, files,
 * schema, checkpoint), data.c (data files and predicates), tx.c
 * (commit by put-if-absent, conflict rules), and the maintenance verbs
 * verify.c, vacuum.c, optimize.c, stats.c.  The log itself is
 * lib/delta/ (snapshot, log, protocol, checkpoint, paths, schema).
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lines.h"
#include "timefmt.h"
#include "txlog.h"


/* The examples' first lines: a table with two rows. */
#define EX_INIT "  txlog init orders --infer\n"
#define EX_ROWS                                                          \
	"  printf '{\"id\":1,\"v\":1}\\n{\"id\":2,\"v\":1}\\n' | txlog "   \
	"append orders\n"

/* Each verb names the options it takes; any other is refused. */
static const struct cli_verb verbs[] = {
	{"init", "init TABLE [--schema FILE | --infer] [--partition-by COL]...",
	 "schema infer partition-by checkpoint-interval",
	 "Create an empty table",
	 EX_INIT "  txlog init daily --infer --partition-by day\n"},
	{"append", "append TABLE [--txn APP:VERSION] [--merge-schema] [FILE]...",
	 "txn merge-schema level threads checkpoint-interval max-line stats",
	 "Add records in one commit",
	 EX_INIT "  printf '{\"id\":1}\\n' | txlog append orders --txn load:1\n"
	 "  printf '{\"id\":1}\\n' | txlog append orders --txn load:1\n"},
	{"overwrite", "overwrite TABLE [--where EXPR]... "
		      "[--txn APP:VERSION] [--merge-schema] [FILE]...",
	 "where txn merge-schema level threads checkpoint-interval max-line "
	 "stats",
	 "Replace the rows --where matches (or all) with the records",
	 EX_INIT EX_ROWS
	 "  printf '{\"id\":2,\"v\":5}\\n' | txlog overwrite orders --where "
	 "'id = 2'\n"},
	{"merge", "merge TABLE -k EXPR [--when-newer EXPR] [--delete-when EXPR] "
		  "[--txn APP:VERSION] [--merge-schema] [FILE]...",
	 "key when-newer delete-when txn merge-schema level threads "
	 "checkpoint-interval max-line stats",
	 "Upsert records by key",
	 EX_INIT EX_ROWS
	 "  printf '{\"id\":2,\"v\":2}\\n' | txlog merge orders -k .id "
	 "--when-newer .v\n"},
	{"delete", "delete TABLE --where EXPR [--txn APP:VERSION]",
	 "where txn level threads checkpoint-interval stats",
	 "Delete the rows that match",
	 EX_INIT EX_ROWS "  txlog delete orders --where 'id = 2'\n"},
	{"cat", "cat TABLE [--version N | --as-of TIME] [--where EXPR]",
	 "version as-of where threads stats", "Print the rows",
	 EX_INIT EX_ROWS "  txlog cat orders --where 'id = 2'\n"},
	{"log", "log TABLE [--utc] [--format table|ndjson]", "utc format",
	 "The history, newest first: a table on a terminal, else NDJSON",
	 EX_INIT EX_ROWS "  txlog log orders --format table --utc\n"
	 "  txlog log orders | jq -c '[.version, .operation]'\n"},
	{"files", "files TABLE [--version N | --as-of TIME]",
	 "version as-of stats", "The data files of a version",
	 EX_INIT EX_ROWS "  txlog files orders --version 1\n"},
	{"schema", "schema TABLE", "", "The table's schema",
	 EX_INIT EX_ROWS "  txlog schema orders\n"},
	{"checkpoint", "checkpoint TABLE", "", "Write a checkpoint now",
	 EX_INIT EX_ROWS "  txlog checkpoint orders\n"},
	{"verify", "verify TABLE [--deep]", "deep stats",
	 "Check the log and every data file",
	 EX_INIT EX_ROWS "  txlog verify orders --deep\n"},
	{"vacuum", "vacuum TABLE [--retain DUR] [--dry-run] [--force]",
	 "retain dry-run force stats",
	 "Delete the data files no version within --retain needs",
	 EX_INIT EX_ROWS "  txlog vacuum orders --dry-run\n"},
	{"optimize", "optimize TABLE [--where EXPR] [--target-size SIZE] "
		     "[--zorder-by COL,...]",
	 "where target-size zorder-by level threads checkpoint-interval "
	 "stats",
	 "Compact small files",
	 EX_INIT EX_ROWS EX_ROWS "  txlog optimize orders --zorder-by id\n"},
	{"stats", "stats TABLE [--version N] [--target-size SIZE]",
	 "version target-size", "Files, bytes, records per partition",
	 EX_INIT EX_ROWS "  txlog stats orders\n"},
	{"restore", "restore TABLE --version N | --as-of TIME [--dry-run]",
	 "version as-of dry-run checkpoint-interval stats",
	 "Make the files of an older version current again, in one commit",
	 EX_INIT EX_ROWS "  txlog restore orders --version 0 --dry-run\n"
	 "  txlog restore orders --version 0\n"},
	{"update", "update TABLE --set 'COL = VALUE'... --where EXPR",
	 "set where level threads checkpoint-interval stats",
	 "Set columns of the rows that match (copy-on-write)",
	 EX_INIT EX_ROWS "  txlog update orders --set 'v = 7' --where 'id = 2'\n"},
	{"changes", "changes TABLE --from V1 [--to V2]", "from to stats",
	 "The rows inserted, deleted and updated by versions V1 to V2",
	 EX_INIT EX_ROWS "  txlog changes orders --from 1\n"},
};
#define NVERBS (sizeof verbs / sizeof verbs[0])

/* The verbs that read records from FILE... (or stdin). */
static bool reads_files(const struct cli_verb *v)
{
	return strstr(v->usage, "[FILE]...") != NULL;
}

static const struct cli_opthelp option_help[] = {
	{"schema", "      --schema FILE         table schema (Delta struct JSON)\n"},
	{"infer", "      --infer               infer the schema from the first write\n"},
	{"partition-by", "      --partition-by COL    partition column (repeatable)\n"},
	{"checkpoint-interval", "      --checkpoint-interval N  checkpoint every N commits (default: the\n"
				"                            table's delta.checkpointInterval, else 10)\n"},
	{"txn", "      --txn APP:VERSION     idempotent write: skip if APP is at VERSION\n"},
	{"merge-schema", "      --merge-schema        add new nullable columns, widen numbers\n"},
	{"where", "      --where EXPR          predicate (repeatable, ANDed)\n"},
	{"set", "      --set 'COL = VALUE'   update: the new value (repeatable)\n"},
	{"key", "  -k, --key EXPR            merge key (a jq path or program)\n"},
	{"when-newer", "      --when-newer EXPR     merge: update only when EXPR grows\n"},
	{"delete-when", "      --delete-when EXPR    merge: delete the target when EXPR is true\n"},
	{"version", "      --version N           read version N\n"},
	{"from", "      --from V1             changes: the first version\n"},
	{"to", "      --to V2               changes: the last version (default the newest)\n"},
	{"as-of", "      --as-of TIME          read the version current at TIME (RFC 3339,\n"
		  "                            or -DUR: DUR before now, as -90m)\n"},
	{"level", "      --level N             zstd level of data files, 1 to 19 (default 3)\n"},
	{"threads", "  -j, --threads N           threads (0: all cores; default the cores, at\n"
		    "                            most 8); the table is the same with any N\n"},
	{"retain", "      --retain DUR          vacuum: keep what time travel within DUR\n"
		   "                            needs (default the table's\n"
		   "                            delta.deletedFileRetentionDuration, else 7d)\n"},
	{"dry-run", "      --dry-run             vacuum, restore: print the plan, change nothing\n"},
	{"force", "      --force               vacuum: allow --retain under the default\n"},
	{"target-size", "      --target-size SIZE    optimize, stats: output file size,\n"
			"                            uncompressed (default 256M)\n"},
	{"zorder-by", "      --zorder-by COL,...   optimize: cluster records by these columns\n"},
	{"deep", "      --deep                verify: read every record, check statistics\n"},
	{"utc", "      --utc                 log: times in UTC, not local time\n"},
	{"format", "      --format table|ndjson  log: a table, or NDJSON (default: a table\n"
		   "                            on a terminal, NDJSON otherwise)\n"},
	{"max-line", "      --max-line SIZE       longest accepted record (default and at most 64M)\n"},
	{"stats", "      --stats               print counts as one JSON line on stderr\n"},
};
#define NHELP (sizeof option_help / sizeof option_help[0])

static void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f, "Usage: txlog VERB TABLE [OPTION]... [FILE]...\n"
		   "An ACID table on a folder, kept as a Delta Lake "
		   "transaction log.\n\nVerbs:\n");
	for (size_t i = 0; i < NVERBS; i++)
		fprintf(f, "  %s\n", verbs[i].usage);
	fprintf(f, "\nOptions (a verb takes only its own; 'txlog VERB "
		   "--help' lists them):\n");
	for (size_t i = 0; i < NHELP; i++)
		fputs(option_help[i].help, f);
	fprintf(f,
"  -h, --help                show this help\n"
"      --version             (alone) show the version\n"
"\n"
"Exit status: 0 done, 1 verify found damage, 2 trouble,\n"
"75 a conflicting concurrent commit: retry.\n"
"See txlog(1).\n");
	cli_examples(f, EX_INIT EX_ROWS "  txlog cat orders --where 'id = 2'\n");
	cli_exit(status);
}

enum {
	O_SCHEMA = 256, O_INFER, O_PART, O_CPI, O_TXN, O_MERGE_SCHEMA,
	O_WHERE, O_NEWER, O_DELWHEN, O_VERSION, O_ASOF, O_LEVEL, O_STATS,
	O_RETAIN, O_DRY_RUN, O_FORCE, O_TARGET, O_ZORDER, O_DEEP, O_SET, O_FROM, O_TO, O_UTC, O_FORMAT,
	O_MAXLINE,
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
	{"max-line", required_argument, 0, O_MAXLINE},
	{"retain", required_argument, 0, O_RETAIN},
	{"dry-run", no_argument, 0, O_DRY_RUN},
	{"force", no_argument, 0, O_FORCE},
	{"target-size", required_argument, 0, O_TARGET},
	{"zorder-by", required_argument, 0, O_ZORDER},
	{"deep", no_argument, 0, O_DEEP},
	{"set", required_argument, 0, O_SET},
	{"from", required_argument, 0, O_FROM},
	{"utc", no_argument, 0, O_UTC},
	{"format", required_argument, 0, O_FORMAT},
	{"to", required_argument, 0, O_TO},
	{"threads", required_argument, 0, 'j'},
	{"help", no_argument, 0, 'h'},
	{0, 0, 0, 0},
};

/* in the order of verbs[] */
static int (*const verb_fn[])(void) = {
	verb_init,     verb_append, verb_overwrite, verb_merge,
	verb_delete,   verb_cat,    verb_log,       verb_files,
	verb_schema,   verb_checkpoint, verb_verify, verb_vacuum,
	verb_optimize, verb_stats, verb_restore, verb_update, verb_changes,
};

/* A count that is a Delta Long (a version, an interval): 2^63 and up
 * would wrap negative, which means "the newest" or "never". */
static int64_t delta_long(const char *o, const char *arg, const char *what)
{
	uint64_t n = cli_count(o, arg);
	if (n > INT64_MAX)
		cli_usage_error("%s %s: %sat most %lld", o, arg, what,
				(long long)INT64_MAX);
	return (int64_t)n;
}

int main(int argc, char **argv)
{
	cli_init("txlog");
	const struct cli_verb *v = cli_verb_pick(verbs, NVERBS, &argc, &argv,
						 usage);
	int (*fn)(void) = verb_fn[v - verbs];
	int c;
	/* merge -k .a -k .b would key on .b alone: one value an option,
	 * but --where, --set and --partition-by add up */
	cli_refuse_twice("where set partition-by");
	while ((c = cli_verb_getopt(v, argc, argv, "hk:j:", longopts)) != -1) {
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
			/* "" made a column named "" and folders '%00=...' */
			if (!*optarg)
				cli_usage_error("--partition-by: an empty "
						"column name");
			opt.part[opt.npart++] = optarg;
			break;
		case O_CPI:
			opt.checkpoint_every = delta_long(
				"--checkpoint-interval", optarg, "");
			if (opt.checkpoint_every < 1)
				cli_usage_error("--checkpoint-interval must "
						"be at least 1");
			/* Delta's delta.checkpointInterval is an Int: a
			 * table that stored more is one Spark cannot read */
			if (opt.checkpoint_every > INT32_MAX)
				cli_usage_error("--checkpoint-interval %s: at "
						"most 2147483647 (Delta's "
						"delta.checkpointInterval is an "
						"Int)", optarg);
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
		case 'j':
			opt.threads = cli_threads(optarg);
			break;
		case O_NEWER:
			opt.when_newer = optarg;
			break;
		case O_DELWHEN:
			opt.delete_when = optarg;
			break;
		case O_VERSION:
			opt.version = delta_long("--version", optarg,
						 "a Delta version is ");
			break;
		case O_ASOF:
			opt.as_of = optarg;
			break;
		case O_LEVEL:
		{
			/* checked before the cast: 2^32 + 3 is no level 3 */
			uint64_t n = cli_count("--level", optarg);
			if (n < 1 || n > 19)
				cli_usage_error("--level must be 1 to 19");
			opt.level = (int)n;
		}
			break;
		case O_STATS:
			opt.stats = true;
			break;
		case O_MAXLINE:
			/* the table's readers (cat, update, optimize) hold a
			 * row whole up to LINES_DEFAULT_MAX, and would take a
			 * longer one for a damaged file */
			opt.max_line = cli_max_line(optarg);
			if (opt.max_line > LINES_DEFAULT_MAX)
				cli_usage_error("--max-line %s: at most 64M, the "
						"longest row the table's readers "
						"take", optarg);
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
			opt.target_set = true;
			if (opt.target_size < 1)
				cli_usage_error("--target-size must be above 0");
			break;
		case O_ZORDER:
			opt.zorder = optarg;
			break;
		case O_DEEP:
			opt.deep = true;
			break;
		case O_FROM:
		case O_TO:
			*(c == O_FROM ? &opt.from : &opt.to) = delta_long(
				c == O_FROM ? "--from" : "--to", optarg,
				"a Delta version is ");
			break;
		case O_UTC:
			opt.utc = true;
			break;
		case O_FORMAT:
			if (strcmp(optarg, "table") && strcmp(optarg, "ndjson"))
				cli_usage_error("--format '%s': give table or "
						"ndjson", optarg);
			opt.format = optarg;
			break;
		case O_SET:
			if (opt.nset == MAX_WHERE)
				cli_usage_error("too many --set");
			opt.set[opt.nset++] = optarg;
			break;
		case 'h':
			cli_verb_help(v, option_help, NHELP);
		default:
			cli_verb_usage_error(v, "unexpected option");
		}
	}
	if (optind >= argc)
		cli_verb_usage_error(v, "missing TABLE");
	opt.table = argv[optind++];
	/* "" (an unset shell variable) would make "/_delta_log": a table
	 * at the root of the file system */
	if (!*opt.table)
		cli_verb_usage_error(v, "an empty TABLE name; name the table's "
				     "folder");
	opt.files = argv + optind;
	opt.nfiles = (size_t)(argc - optind);
	if (opt.nfiles && !reads_files(v))
		cli_verb_usage_error(v, "unexpected operand '%s'; %s reads "
				     "no FILE", opt.files[0], v->name);
	/* a file named twice would write its rows twice */
	cli_inputs_once(opt.files, "in the table");
	if (opt.version >= 0 && opt.as_of)
		cli_usage_error("--version and --as-of exclude each other");
	/* a partitioned write holds a file a partition, on threads */
	if (v->options && strstr(v->options, "level"))
		cli_many_files(8192);
	int rc = fn();
	cli_out_close();
	return rc;
}
