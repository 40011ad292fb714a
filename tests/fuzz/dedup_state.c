/*
 * fuzz dedup_state: dedup's state file, read by dedup's own state_load()
 * (cmd/dedup.c is compiled into this harness with its main renamed;
 * cli_die unwinds back here instead of exiting, and what the decoder
 * allocated on the way is freed).  An accepted state is written back by
 * state_save() and read again: the same keys, of the same form (a state
 * of format 1 or 2 keeps text keys, 3 and 4 instants).  Keys are "-k .id";
 * bit 3 of the first byte turns --ttl on (-t .t).  See state.h for bits 0-2.
 */
#include "cli.h"
#include "state.h"
#include "xalloc.h"

static void *fuzz_held[4];               /* xmalloc'd, not yet freed */

static void *fuzz_xmalloc(size_t n)
{
	void *p = xmalloc(n);
	for (size_t k = 0; k < 4; k++)
		if (!fuzz_held[k]) {
			fuzz_held[k] = p;
			return p;
		}
	FUZZ_CHECK(!"more than 4 allocations held");
	return p;
}

static void fuzz_free(void *p)
{
	for (size_t k = 0; k < 4; k++)
		if (fuzz_held[k] == p)
			fuzz_held[k] = NULL;
	free(p);
}

/* main, renamed, may end in a call that exits. */
#pragma GCC diagnostic ignored "-Wreturn-type"
#define cli_die fuzz_die
#define cli_state_open fuzz_state_open
#define cli_state_read_all fuzz_state_read_all
#define state_read_begin(...) fuzz_track(state_read_begin(__VA_ARGS__))
#define state_read_begin_gen(...) fuzz_track(state_read_begin_gen(__VA_ARGS__))
#define state_read_end(...) (fuzz_reader = NULL, state_read_end(__VA_ARGS__))
#define xmalloc fuzz_xmalloc
#define free fuzz_free
#define main dedup_main
/* an old format says so on each load: not what a replay is checking */
static void fuzz_quiet(const char *fmt, ...)
{
	(void)fmt;
}
#define cli_warn fuzz_quiet
int dedup_main(int argc, char **argv);
#include "../../cmd/dedup.c"
#undef main
#undef cli_warn
#undef free
#undef xmalloc
#undef state_read_end
#undef state_read_begin_gen
#undef state_read_begin
#undef cli_state_read_all
#undef cli_state_open
#undef cli_die

static void forget(void)
{
	fpset_free(run.seen);
	run.seen = NULL;
	fuzz_release_reader();
	for (size_t k = 0; k < 4; k++) {
		free(fuzz_held[k]);
		fuzz_held[k] = NULL;
	}
}

static void fresh(bool ttl)
{
	opt.ttl = ttl ? 3600LL * 1000000000 : 0;
	run.seen = fpset_new(ttl);
	run.watermark = 0;
	run.have_watermark = false;
	run.keys = VALUE_KEYS_INSTANT;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *in, *out;
	static char desc[] = "-k .id";
	if (!in) {
		in = fuzz_file("in.state");
		out = fuzz_file("out.state");
		run.key_desc = desc;
		run.key_desc_base = strlen(desc); /* no --shard */
		char err[256];
		opt.time = expr_compile(".t", err, sizeof err); /* --ttl's -t */
		FUZZ_CHECK(opt.time != NULL);
	}
	bool ttl = size && (data[0] & 8);
	fuzz_state_write(in, STATE_KIND, data, size);
	opt.state_path = in;
	fresh(ttl);
	if (setjmp(fuzz_jmp) != 0) {
		forget(); /* refused: the tool would exit 2 here */
		return 0;
	}
	state_load();
	size_t count = fpset_count(run.seen);
	enum value_keys keys = run.keys; /* text before format 3 */
	int64_t wm = run.watermark;
	bool have = run.have_watermark;
	/* Accepted: write it back and read that again. */
	opt.state_path = out;
	state_save();
	size_t kept = fpset_count(run.seen); /* after --ttl expiry */
	FUZZ_CHECK(kept <= count);
	forget();
	fresh(ttl);
	opt.state_path = out;
	state_load();
	FUZZ_CHECK(fpset_count(run.seen) == kept);
	FUZZ_CHECK(run.keys == keys); /* saved in the form it was loaded */
	if (ttl)
		FUZZ_CHECK(run.have_watermark == have &&
			   (!have || run.watermark == wm));
	forget();
	return 0;
}
