// The per-core limit for make bench: simdjson's On-Demand API pulls one
// top-level field out of every line of an NDJSON file and hashes it, the
// least work any tool that reads a key (dedup -k) can do.  One thread, one
// parser reused for every line, the file read a block at a time into one
// padded buffer (the read is timed too, as it is for the tools).
//
//   extract FILE FIELD        (FILE - for standard input)
//
// Prints "lines L found F hash H" on stdout: the hash (FNV-1a over each
// string's decoded bytes, or over the raw token of any other value, XORed
// over the lines) is printed so that no compiler can drop the work.
// Exit 1 when a line does not parse or lacks the field (the bench data
// has it on every line: a count that is not the line count is a bug).
//
// Built from Debian's libsimdjson-dev by `make deps-bench` only.
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <simdjson.h>

static uint64_t fnv1a(std::string_view s)
{
	uint64_t h = 1469598103934665603ULL;
	for (unsigned char c : s) {
		h ^= c;
		h *= 1099511628211ULL;
	}
	return h;
}

// Hashes the field of each complete line in [p, end); returns where the
// last complete line ended.  cap: readable bytes from p on (the buffer's
// padding included), so each line is parsed in place without a copy.
struct counts {
	uint64_t lines, found, hash;
};

static const char *scan(simdjson::ondemand::parser &parser, const char *field, const char *p,
			const char *end, size_t cap, bool last, counts &c)
{
	const char *base = p;
	while (p < end) {
		const char *nl = static_cast<const char *>(std::memchr(p, '\n', size_t(end - p)));
		if (!nl && !last)
			break;
		size_t len = nl ? size_t(nl - p) : size_t(end - p);
		if (len > 0) {
			c.lines++;
			simdjson::ondemand::document doc;
			simdjson::ondemand::value v;
			if (!parser.iterate(simdjson::padded_string_view(p, len, cap - size_t(p - base)))
				     .get(doc) &&
			    !doc[field].get(v)) {
				std::string_view s;
				if (v.type() == simdjson::ondemand::json_type::string) {
					if (!v.get_string().get(s)) {
						c.hash ^= fnv1a(s);
						c.found++;
					}
				} else {
					c.hash ^= fnv1a(v.raw_json_token());
					c.found++;
				}
			}
		}
		p += len + 1;
	}
	return p < end ? p : end;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		std::fprintf(stderr, "usage: extract FILE FIELD\n");
		return 2;
	}
	int fd = std::strcmp(argv[1], "-") ? open(argv[1], O_RDONLY) : 0;
	if (fd < 0) {
		std::fprintf(stderr, "extract: cannot open %s\n", argv[1]);
		return 2;
	}
	// Read in blocks, as the tools do (a whole-file buffer costs a page
	// fault per 4 KiB, which a streaming reader does not pay).
	size_t size = size_t(1) << 22, have = 0;
	std::vector<char> buf(size + simdjson::SIMDJSON_PADDING);
	simdjson::ondemand::parser parser;
	counts c = {0, 0, 0};
	for (;;) {
		if (have == size) { // a line longer than the buffer
			size *= 2;
			buf.resize(size + simdjson::SIMDJSON_PADDING);
		}
		ssize_t n = read(fd, buf.data() + have, size - have);
		if (n < 0) {
			std::fprintf(stderr, "extract: cannot read %s\n", argv[1]);
			return 2;
		}
		have += size_t(n);
		std::memset(buf.data() + have, 0, simdjson::SIMDJSON_PADDING);
		const char *p = buf.data();
		const char *q = scan(parser, argv[2], p, p + have, buf.size(), n == 0, c);
		size_t rest = have - size_t(q - p);
		std::memmove(buf.data(), q, rest);
		have = rest;
		if (n == 0)
			break;
	}
	std::printf("lines %llu found %llu hash %016llx\n", (unsigned long long)c.lines,
		    (unsigned long long)c.found, (unsigned long long)c.hash);
	return c.found == c.lines ? 0 : 1;
}
