/*
 * fuzz timefmt: event times and durations.  The input is read as an
 * RFC 3339 time, as an epoch number in each unit, as a JSON value and as
 * a duration; whatever parses formats back to text that parses to the
 * same instant or length.  Its first 8 bytes are also an int64 that
 * must survive time_format and duration_format the same way.
 */
#include "fuzz.h"
#include "timefmt.h"

static void time_back(int64_t ns)
{
	char buf[TIME_STRMAX];
	size_t n = time_format(ns, buf);
	FUZZ_CHECK(n > 0 && n < TIME_STRMAX && strlen(buf) == n);
	int64_t back = ns ^ 1; /* anything but ns */
	const char *why = NULL;
	FUZZ_CHECK(time_parse_rfc3339(buf, n, &back, &why) == 0);
	FUZZ_CHECK(back == ns);
	/* and as a JSON string */
	char js[TIME_STRMAX + 2];
	js[0] = '"';
	memcpy(js + 1, buf, n);
	js[n + 1] = '"';
	back = ns ^ 1;
	FUZZ_CHECK(time_from_json(js, n + 2, TIME_S, &back, &why) == 0);
	FUZZ_CHECK(back == ns);
}

static void duration_back(int64_t ns)
{
	char buf[48];
	size_t n = duration_format(ns, buf);
	FUZZ_CHECK(n > 0 && n < sizeof buf && strlen(buf) == n);
	int64_t back = ns ^ 1; /* anything but ns */
	const char *why = NULL;
	FUZZ_CHECK(duration_parse(buf, &back, &why) == 0);
	FUZZ_CHECK(back == ns);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *why;
	int64_t ns;
	why = NULL;
	if (time_parse_rfc3339(s, size, &ns, &why) == 0)
		time_back(ns);
	else
		FUZZ_CHECK(why && why[0]);
	static const enum time_unit units[] = {TIME_S, TIME_MS, TIME_US,
					       TIME_NS};
	for (size_t u = 0; u < 4; u++) {
		why = NULL;
		if (time_from_number(s, size, units[u], &ns, &why) == 0)
			time_back(ns);
		else
			FUZZ_CHECK(why && why[0]);
		why = NULL;
		if (time_from_json(s, size, units[u], &ns, &why) == 0)
			time_back(ns);
		else
			FUZZ_CHECK(why && why[0]);
	}
	char *c = fuzz_cstr(data, size);
	enum time_unit unit;
	if (time_unit_parse(c, &unit) == 0)
		FUZZ_CHECK(unit == TIME_S || unit == TIME_MS ||
			   unit == TIME_US || unit == TIME_NS);
	why = NULL;
	if (duration_parse(c, &ns, &why) == 0) {
		FUZZ_CHECK(ns >= 0);
		duration_back(ns);
	} else {
		FUZZ_CHECK(why && why[0]);
	}
	free(c);
	if (size >= 8) {
		uint64_t v = 0;
		for (int k = 0; k < 8; k++)
			v = v << 8 | data[k];
		time_back((int64_t)v);
		duration_back((int64_t)(v >> 1)); /* durations are >= 0 */
	}
	return 0;
}
