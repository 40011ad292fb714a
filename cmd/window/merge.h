/* window merge: the verb that joins the outputs of window --shard. */
#ifndef WINDOW_MERGE_H
#define WINDOW_MERGE_H

/* argv[0] is "merge"; returns the exit status. */
struct cli_verb;
int window_merge(const struct cli_verb *v, int argc, char **argv);

#endif
