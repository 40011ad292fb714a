/*
 * optimize: (being written).
 */
#include "cli.h"
#include "txlog.h"

int verb_optimize(void)
{
	cli_die(EXIT_TROUBLE, "optimize: not yet");
}
