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
 *
 * The hook stays in release builds on purpose: build/ is both the binary
 * `make test` checks and the one `make install` ships, so a build for
 * tests only would test other bytes than those installed, and double the
 * compiling in `make test`.  Armed by mistake, it can only do what a kill
 * does at that step, which the commit protocol survives by design.
 */
#ifndef IDEM_FAULT_H
#define IDEM_FAULT_H

#define FAULT_EXIT 86

void fault_point(const char *name);

#endif
