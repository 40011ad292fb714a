/* window merge: the verb that joins the outputs of window --shard. */
#ifndef WINDOW_MERGE_H
#define WINDOW_MERGE_H

/* argv[0] is "merge"; returns the exit status. */
int window_merge(int argc, char **argv);

#endif
