/*
 * txlog's options, apart from main.c: every verb file reads them, and
 * main.c calls every verb, so defining them in main.c made each verb
 * file and main.c depend on each other (a file-level cycle).
 */
#include "lines.h"
#include "txlog.h"

struct txopt opt = {.version = -1, .from = -1, .to = -1, .level = 3,
		    .target_size = 256u << 20, .max_line = LINES_DEFAULT_MAX};
