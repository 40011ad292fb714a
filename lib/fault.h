/*
 * fault: crash points for tests.  fault_point("commit.renamed") does
 * nothing unless the environment names that point:
 *
 *   IDEM_FAULT=NAME[:N]   _exit(86) the N-th time (default 1st) the
 *                         process reaches point NAME
 *
 * so a test can stop a process at each step of a protocol and check that
 * what it left behind is the old state or the new one.  Reading the
 * variable costs one getenv per process.
 */
#ifndef IDEM_FAULT_H
#define IDEM_FAULT_H

#define FAULT_EXIT 86

void fault_point(const char *name);

#endif
