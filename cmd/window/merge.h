/* window merge: the verb that joins the outputs of window --shard. */
#ifndef WINDOW_MERGE_H
#define WINDOW_MERGE_H

/* argv[0] is "merge"; returns the exit status.  window: window's own
 * long options, so that one merge does not take (--tumble, -j) is
 * refused as window's, not as an unknown option. */
struct cli_verb;
struct option;
int window_merge(const struct cli_verb *v, int argc, char **argv,
		 const struct option *window);

#endif
