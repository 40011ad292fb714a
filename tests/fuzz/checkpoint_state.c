/*
 * fuzz checkpoint_state: checkpoint's state file, read by checkpoint's
 * own state_load() (cmd/checkpoint.c is compiled into this harness with
 * its main renamed; cli_die unwinds back here instead of exiting).  A
 * state it accepts is written back by its state_save() with the same
 * payload, byte for byte.  See state.h for the input's first byte.
 */
#include "cli.h"
#include "commit.h"
#include "state.h"

static int fuzz_lock_fd = -1;

/* The lock is commit.h's business, not the decoder's. */
static int fuzz_lock(const char *path, char *err, size_t errlen)
{
	(void)path;
	(void)err;
	(void)errlen;
	return fuzz_lock_fd;
}

/* state_lock resolves and locks through commit.h: the same. */
static int fuzz_state_lock(const char *path, char **use, char *err,
			   size_t errlen)
{
	*use = (char *)path;
	return fuzz_lock(path, err, errlen);
}

#define cli_die fuzz_die
#define cli_state_open fuzz_state_open
#define cli_state_read_all fuzz_state_read_all
#define state_read_begin(...) fuzz_track(state_read_begin(__VA_ARGS__))
#define state_read_begin_gen(...) fuzz_track(state_read_begin_gen(__VA_ARGS__))
#define state_read_end(...) (fuzz_reader = NULL, state_read_end(__VA_ARGS__))
#define state_read_all_log(...) \
	(fuzz_reader = NULL, state_read_all_log(__VA_ARGS__))
#define commit_lock fuzz_lock
#define state_lock fuzz_state_lock
#define main checkpoint_main
int checkpoint_main(int argc, char **argv);
#include "../../cmd/checkpoint.c"
#undef main
#undef commit_lock
#undef state_lock
#undef state_read_all_log
#undef state_read_end
#undef state_read_begin_gen
#undef state_read_begin
#undef cli_state_read_all
#undef cli_state_open
#undef cli_die

static void forget(void)
{
	for (size_t k = 0; k < st.n; k++) {
		free(st.src[k].path);
		free(st.src[k].origin);
	}
	free(st.src);
	free(st.cwd);
	memset(&st, 0, sizeof st);
	state_log_close(&slog);
	nbat = ndirty = plan_from = 0;
	fuzz_release_reader();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char *in, *out;
	if (!in) {
		in = fuzz_file("in.state");
		out = fuzz_file("out.state");
		fuzz_lock_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		FUZZ_CHECK(fuzz_lock_fd >= 0);
	}
	fuzz_state_write(in, STATE_KIND, data, size);
	opt.state = in;
	if (setjmp(fuzz_jmp) != 0) {
		forget(); /* refused: the tool would exit 2 here */
		return 0;
	}
	state_load();
	for (size_t k = 0; k < st.n; k++)
		FUZZ_CHECK(st.src[k].path && st.src[k].fp_len <= FP_MAX);
	/* Accepted: write it back, as a snapshot, and compare the
	 * payloads. */
	opt.state = out;
	state_log_close(&slog);
	save_full = true;
	state_save();
	size_t an, bn;
	char *a = fuzz_slurp(in, &an), *b = fuzz_slurp(out, &bn);
	FUZZ_CHECK(an >= 40 && bn >= 40);
	uint64_t alen = le64_get((const unsigned char *)a + 24);
	uint64_t blen = le64_get((const unsigned char *)b + 24);
	FUZZ_CHECK(blen == bn - 40);
	/* A NUL inside a stored path ends it when written back (so does a
	 * range normalized, below: nul is "not written back as read").  Version
	 * 2 entries are 80 bytes, then the path and the origin; version 3
	 * has a fourth counter before the count. */
	bool nul = false;
	uint32_t ver = le32_get((const unsigned char *)a + 16);
	size_t esz = ver >= 2 ? 80 : 64, at = 32 + (ver >= 3 ? 40 : 32);
	uint64_t pending = le64_get((const unsigned char *)a + 40);
	for (size_t k = 0; k < st.n; k++) {
		const unsigned char *e = (const unsigned char *)a + at;
		uint32_t plen = le32_get(e + 60);
		uint32_t olen = ver >= 2 ? le32_get(e + 68) : 0;
		/* a source outside the pending batch is loaded with its
		 * range at its committed offset (start = end = committed):
		 * what a crafted range said there is not written back */
		uint64_t c = le64_get(e + 24), s0 = le64_get(e + 32),
			 s1 = le64_get(e + 40);
		nul |= !(pending && s1 > s0) && (s0 != c || s1 != c);
		nul |= memchr(e + esz, 0, plen) != NULL;
		nul |= olen && memchr(e + esz + plen, 0, olen) != NULL;
		at += esz + plen + olen;
	}
	if (!nul && ver == STATE_VERSION)
		/* (a payload may go on past what the reader needs) */
		FUZZ_CHECK(alen >= blen && !memcmp(a + 32, b + 32, blen));
	free(a);
	free(b);
	forget();
	return 0;
}
