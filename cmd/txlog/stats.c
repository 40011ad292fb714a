/*
 * stats: (being written).
 */
#include "cli.h"
#include "txlog.h"

int verb_stats(void)
{
	cli_die(EXIT_TROUBLE, "stats: not yet");
}
