#include "delta/paths.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errbuf.h"
#include "timefmt.h"
#include "xalloc.h"

void dl_uuid(char out[37])
{
	unsigned char r[16];
	size_t got = 0;
	while (got < sizeof r) {
		ssize_t k = getrandom(r + got, sizeof r - got, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			/* no entropy source: time and pid still differ */
			uint64_t t = (uint64_t)time_now() ^ (uint64_t)getpid();
			memcpy(r, &t, 8);
			memcpy(r + 8, &t, 8);
			break;
		}
		got += (size_t)k;
	}
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[r[i] >> 4];
		out[o++] = hex[r[i] & 15];
	}
	out[o] = '\0';
}

static bool plain_char(unsigned char c, const char *extra)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr(extra, c));
}

static void pct(struct buf *b, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	buf_addc(b, '%');
	buf_addc(b, hex[c >> 4]);
	buf_addc(b, hex[c & 15]);
}

void dl_path_encode(struct buf *b, const char *s)
{
	for (; *s; s++)
		if (plain_char((unsigned char)*s, "-._~/="))
			buf_addc(b, *s);
		else
			pct(b, (unsigned char)*s);
}

void dl_part_escape(struct buf *b, const char *s)
{
	if (!s) {
		buf_adds(b, "__HIVE_DEFAULT_PARTITION__");
		return;
	}
	if (!*s || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
		/* never an empty or dot folder name */
		for (; *s; s++)
			pct(b, (unsigned char)*s);
		if (!b->len || b->p[b->len - 1] == '=')
			buf_adds(b, "%00");
		return;
	}
	for (; *s; s++)
		if (plain_char((unsigned char)*s, "-._~ +,@"))
			buf_addc(b, *s);
		else
			pct(b, (unsigned char)*s);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* dl_path_decode() into o (room for n + 1). */
void dl_path_decode_into(char *o, const char *s, size_t n)
{
	const char *pc = memchr(s, '%', n);
	size_t j = pc ? (size_t)(pc - s) : n;
	memcpy(o, s, j);
	for (size_t i = j; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0) {
			o[j++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			o[j++] = s[i];
		}
	}
	o[j] = '\0';
}

char *dl_path_decode(const char *s, size_t n)
{
	char *o = xmalloc(n + 1);
	dl_path_decode_into(o, s, n);
	return o;
}

/* Why path is not a plain relative path inside the table, or NULL:
 * strcspn passes, since every add of every load comes through here. */
static const char *path_outside(const char *path)
{
	if (!*path || path[0] == '/')
		return "absolute or empty";
	if (path[strcspn(path, "\\")])
		return "has a backslash";
	if (path[strcspn(path, ":/")] == ':')
		return "has a URI scheme";
	for (const char *seg = path;;) {
		size_t l = strcspn(seg, "/");
		if (l == 0 || (seg[0] == '.' && (l == 1 || (l == 2 &&
							    seg[1] == '.'))))
			return "has an empty, '.' or '..' segment";
		if (!seg[l])
			return NULL;
		seg += l + 1;
	}
}

int dl_path_lexical(const char *table, const char *path, char *err,
		    size_t errlen)
{
	const char *why = path_outside(path);
	if (why) {
		errbuf_set(err, errlen,
			"%s: the log names a path outside the table (%s): "
			"'%s'; refusing", table, why, path);
		return -1;
	}
	return 0;
}

int dl_path_check(const char *table, const char *path, char *err,
		  size_t errlen)
{
	if (dl_path_lexical(table, path, err, errlen))
		return -1;
	/* No folder on the way may be a symlink: lstat each prefix.  The
	 * file itself is checked when it is opened (dl_open_check), so a
	 * load does not pay one lstat per file. */
	struct buf b = {0};
	buf_adds(&b, table);
	buf_addc(&b, '/');
	int rc = 0;
	for (const char *c = path; *c; c++) {
		if (*c != '/')
			continue;
		struct stat st;
		buf_add(&b, path, (size_t)(c - path));
		if (lstat(b.p, &st) == 0 && S_ISLNK(st.st_mode)) {
			errbuf_set(err, errlen,
				"%s: the log names a path through a symlink: "
				"'%s'; refusing", table, path);
			rc = -1;
			break;
		}
		b.len -= (size_t)(c - path);
		b.p[b.len] = '\0';
	}
	buf_free(&b);
	return rc;
}

int dl_open_check(const char *table, const char *path, char *err,
		  size_t errlen)
{
	struct buf b = {0};
	buf_addf(&b, "%s/%s", table, path);
	struct stat st;
	int rc = 0;
	if (lstat(b.p, &st) == 0 && S_ISLNK(st.st_mode)) {
		errbuf_set(err, errlen, "%s: the log names a symlink: '%s'; "
			"refusing", table, path);
		rc = -1;
	} else if (lstat(b.p, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* a FIFO would hang the reader, a device feed it anything */
		errbuf_set(err, errlen, "%s: the log names '%s', which is not a "
			"regular file; refusing", table, path);
		rc = -1;
	}
	buf_free(&b);
	return rc;
}
