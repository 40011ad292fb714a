/*
 * The table the options name, loaded for a verb: apart from tx.c, which
 * commits (and checkpoints after), so that the readers of a table
 * (history's commit times among them) do not depend on the writer.
 */
#include "cli.h"
#include "txlog.h"

struct dl_snapshot *load_table(int64_t version)
{
	char err[1024];
	struct dl_snapshot *s = dl_load(opt.table, version, err, sizeof err);
	if (!s)
		cli_die(EXIT_TROUBLE, "%s", err);
	if (s->version < 0) {
		dl_snapshot_free(s);
		cli_die(EXIT_TROUBLE, "%s: not a table (no _delta_log); "
			"create it with txlog init", opt.table);
	}
	return s;
}

void need_write(const struct dl_snapshot *s)
{
	char err[1024];
	if (dl_can_write(s, err, sizeof err) != 0)
		cli_die(EXIT_TROUBLE, "%s", err);
}
