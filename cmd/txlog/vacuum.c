/*
 * vacuum: (being written).
 */
#include "cli.h"
#include "txlog.h"

int verb_vacuum(void)
{
	cli_die(EXIT_TROUBLE, "vacuum: not yet");
}
