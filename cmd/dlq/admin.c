#include "cli.h"
#include "dlqtool.h"
int dlq_stats_main(int argc, char **argv) { (void)argc; (void)argv; cli_die(2, "todo"); }
int dlq_replay_main(int argc, char **argv) { (void)argc; (void)argv; cli_die(2, "todo"); }
int dlq_purge_main(int argc, char **argv) { (void)argc; (void)argv; cli_die(2, "todo"); }
int dlq_retry_main(int argc, char **argv) { (void)argc; (void)argv; cli_die(2, "todo"); }
