#include "fault.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * The variable is read once: fault points sit on commit paths that run
 * many times per process, and a test sets the variable before exec.
 */
static int fault_ready;
static char fault_name[128]; /* empty: no fault armed */
static unsigned long fault_at = 1, fault_hits;

static void fault_init(void)
{
	fault_ready = 1;
	const char *v = getenv("IDEM_FAULT");
	if (!v || !*v)
		return;
	const char *colon = strchr(v, ':');
	size_t n = colon ? (size_t)(colon - v) : strlen(v);
	if (n == 0 || n >= sizeof fault_name)
		return;
	if (colon) {
		char *end;
		unsigned long at = strtoul(colon + 1, &end, 10);
		/* A malformed count arms nothing rather than the wrong hit. */
		if (end == colon + 1 || *end != '\0' || at == 0)
			return;
		fault_at = at;
	}
	memcpy(fault_name, v, n);
	fault_name[n] = '\0';
}

void fault_point(const char *name)
{
	if (!fault_ready)
		fault_init();
	if (fault_name[0] == '\0' || strcmp(name, fault_name) != 0)
		return;
	if (++fault_hits == fault_at)
		_exit(FAULT_EXIT);
}
