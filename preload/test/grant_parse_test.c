/* A unit test of the grant reply parser (grant_parse, preload/grant.c) and
 * of the library's formatter (famfs_format, preload/log.c), linked with
 * them alone; run under AddressSanitizer and UndefinedBehaviorSanitizer.
 *
 * Replies are made here byte by byte as docs/protocol.md lays them out:
 * good ones (decoded field by field), refusals, and one of each kind of
 * damage the parser must refuse. Then random damage to good replies, each
 * parsed from a buffer of exactly its length (an overread is an ASan
 * error); whatever is accepted must satisfy what the library relies on.
 * (preload/fuzz holds the parser to the Go decoder, internal/control/grant.go.)
 * Prints "ok". */
#include "../internal.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail(const char *what, long a, long b)
{
	printf("FAIL %s: %ld %ld\n", what, a, b);
	fflush(stdout);
	exit(1);
}

static void put(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

struct reply {
	uint32_t magic, flags, nseg;
	uint16_t version, status;
	uint64_t size, alloc, align, ino;
	uint8_t uuid[16];
	struct seg segs[8];
	int nsegs; /* segments written (nseg is what the header says) */
};

static struct reply good(int nsegs)
{
	struct reply r = {.magic = GRANT_MAGIC, .version = GRANT_VERSION, .flags = GRANT_WRITABLE | GRANT_DEVDAX,
			  .alloc = 2 << 20, .align = 2 << 20, .ino = 0x1234567890ull};
	for (int i = 0; i < 16; i++)
		r.uuid[i] = (uint8_t)(0xA0 + i);
	uint64_t off = 0;
	for (int i = 0; i < nsegs; i++) {
		r.segs[i] = (struct seg){off, 0x40000000ull + 0x1000000ull * (uint64_t)(nsegs - i), 0x200000ull * (i + 1)};
		off += r.segs[i].len;
	}
	r.nseg = (uint32_t)nsegs, r.nsegs = nsegs;
	r.size = off - 3; /* EOF inside the last segment */
	return r;
}

static size_t encode(const struct reply *r, uint8_t *b)
{
	memset(b, 0, GRANT_HDR_SIZE);
	put(b, r->magic, 4);
	put(b + 4, r->version, 2);
	put(b + 6, r->status, 2);
	put(b + 8, r->flags, 4);
	put(b + 12, r->nseg, 4);
	put(b + 16, r->size, 8);
	put(b + 24, r->alloc, 8);
	put(b + 32, r->align, 8);
	put(b + 40, r->ino, 8);
	memcpy(b + 48, r->uuid, 16);
	for (int i = 0; i < r->nsegs; i++) {
		uint8_t *p = b + GRANT_HDR_SIZE + GRANT_SEG_SIZE * i;
		put(p, r->segs[i].file_off, 8);
		put(p + 8, r->segs[i].dev_off, 8);
		put(p + 16, r->segs[i].len, 8);
	}
	return GRANT_HDR_SIZE + (size_t)GRANT_SEG_SIZE * (size_t)r->nsegs;
}

/* parse b[0, len) from a heap copy of exactly that size */
static int parse(const uint8_t *b, size_t len, struct grant *g, struct seg *segs)
{
	uint8_t *c = malloc(len ? len : 1);
	memcpy(c, b, len);
	memset(g, 0x5a, sizeof(*g));
	int rc = grant_parse(c, len, g);
	if (rc == 0 && g->status == 0 && segs)
		memcpy(segs, c, g->nseg * sizeof(struct seg));
	free(c);
	return rc;
}

static void want_ok(const char *name, const struct reply *r)
{
	uint8_t b[GRANT_HDR_SIZE + GRANT_SEG_SIZE * 8];
	size_t len = encode(r, b);
	struct grant g;
	struct seg segs[8];
	int rc = parse(b, len, &g, segs);
	if (rc != 0) {
		printf("%s: %s\n", name, g.why);
		fail(name, rc, 0);
	}
	if (g.status != r->status || g.flags != r->flags || g.nseg != r->nseg || g.size != r->size ||
	    g.alloc_unit != r->alloc || g.dev_align != r->align || g.ino != r->ino || memcmp(g.uuid, r->uuid, 16) ||
	    g.why)
		fail(name, 1, 0);
	for (int i = 0; r->status == 0 && i < r->nsegs; i++)
		if (segs[i].file_off != r->segs[i].file_off || segs[i].dev_off != r->segs[i].dev_off ||
		    segs[i].len != r->segs[i].len)
			fail(name, 2, i);
}

static void want_bad(const char *name, const struct reply *r, long cut)
{
	uint8_t b[GRANT_HDR_SIZE + GRANT_SEG_SIZE * 9];
	size_t len = encode(r, b);
	if (cut)
		len = (size_t)((long)len + cut);
	struct grant g;
	int rc = parse(b, len, &g, NULL);
	if (rc != EPROTO || !g.why)
		fail(name, rc, 0);
}

static void cases(void)
{
	struct reply r;
	for (int n = 1; n <= 8; n++) {
		r = good(n);
		want_ok("a good reply", &r);
	}
	r = good(1);
	r.size = r.segs[0].len; /* exactly covered */
	want_ok("a file its segments cover exactly", &r);
	r.size = 0;
	want_ok("an empty file", &r);
	r = good(2);
	r.flags = 0;
	want_ok("no flags", &r);
	r.flags = GRANT_WRITABLE | GRANT_NONCOHERENT | GRANT_DEVDAX;
	want_ok("every flag", &r);
	r = good(0);
	r.status = EACCES;
	r.alloc = r.align = 0;
	want_ok("a refusal", &r);
	r.status = 0xffff;
	want_ok("a refusal of any number", &r);

	r = good(2);
	r.magic ^= 1;
	want_bad("bad magic", &r, 0);
	r = good(2);
	r.version = 1;
	want_bad("version 1", &r, 0);
	r = good(2);
	want_bad("shorter than the header", &r, -(long)(GRANT_SEG_SIZE * 2) - 1);
	want_bad("no header", &r, -(long)(GRANT_SEG_SIZE * 2) - GRANT_HDR_SIZE);
	want_bad("a byte short", &r, -1);
	want_bad("a byte long", &r, 1);
	r.nseg = 3;
	want_bad("more segments announced than sent", &r, 0);
	r.nseg = 1;
	want_bad("fewer segments announced than sent", &r, 0);
	r = good(1);
	r.status = EIO;
	want_bad("a refusal with segments", &r, 0);
	r = good(1);
	r.flags |= 8;
	want_bad("an unknown flag", &r, 0);
	r = good(0);
	want_bad("granted without segments", &r, 0);
	r = good(2);
	r.alloc = 0;
	want_bad("allocation unit 0", &r, 0);
	r.alloc = 3 << 20;
	want_bad("allocation unit not a power of 2", &r, 0);
	r = good(2);
	r.align = 0;
	want_bad("alignment 0", &r, 0);
	r.align = 12288;
	want_bad("alignment not a power of 2", &r, 0);
	r = good(3);
	r.segs[0].file_off = 4096;
	want_bad("not starting at 0", &r, 0);
	r = good(3);
	r.segs[1].file_off += 4096;
	want_bad("a gap", &r, 0);
	r = good(3);
	r.segs[2].file_off -= 4096;
	want_bad("an overlap", &r, 0);
	r = good(3);
	r.segs[1].len = 0;
	want_bad("an empty segment", &r, 0);
	r = good(2);
	r.segs[1].dev_off += 512;
	want_bad("a device offset not page-aligned", &r, 0);
	r = good(2);
	r.segs[0].len += 512;
	r.segs[1].file_off += 512;
	want_bad("a length not page-aligned", &r, 0);
	r = good(1);
	r.segs[0].dev_off = UINT64_MAX & ~4095ull;
	want_bad("a device range that wraps", &r, 0);
	r = good(2);
	r.segs[1].len = (UINT64_MAX & ~4095ull) - r.segs[1].file_off + 4096;
	want_bad("a file range that wraps", &r, 0);
	r = good(3);
	r.size = r.segs[2].file_off + r.segs[2].len + 1;
	want_bad("segments short of the file", &r, 0);
	/* the length check is not fooled by a count whose byte size wraps 32 bits */
	r = good(1);
	r.nseg = (uint32_t)(((1ull << 32) + 1) / GRANT_SEG_SIZE) + 1;
	want_bad("a huge segment count", &r, 0);
	uint8_t big[GRANT_HDR_SIZE];
	encode(&(struct reply){.magic = GRANT_MAGIC, .version = GRANT_VERSION}, big);
	struct grant g;
	if (grant_parse(big, GRANT_REPLY_MAX + 1, &g) != EPROTO) /* refused on its length, unread */
		fail("a reply longer than the largest", 0, 0);
}

static uint64_t rnd64(uint64_t *s)
{
	*s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
	return *s;
}

/* random damage: never a crash; what is accepted is usable */
static void damage(long iters)
{
	uint64_t s = 88172645463325252ull;
	long accepted = 0;
	for (long it = 0; it < iters; it++) {
		struct reply r = good(1 + (int)(rnd64(&s) % 8));
		if (rnd64(&s) % 8 == 0)
			r = good(0), r.status = (uint16_t)rnd64(&s), r.alloc = r.align = 0;
		uint8_t b[GRANT_HDR_SIZE + GRANT_SEG_SIZE * 9];
		size_t len = encode(&r, b);
		int k = (int)(rnd64(&s) % 6);
		for (int i = 0; i < k && len > 0; i++) {
			uint64_t x = rnd64(&s);
			switch (x % 4) {
			case 0: b[(x >> 8) % len] ^= (uint8_t)(1u << ((x >> 40) % 8)); break;
			case 1: b[(x >> 8) % len] = (uint8_t)(x >> 32); break;
			case 2: len = (x >> 8) % (len + 1); break;
			default:
				if (len + GRANT_SEG_SIZE <= sizeof(b))
					memset(b + len, (int)(x >> 16), GRANT_SEG_SIZE), len += GRANT_SEG_SIZE;
			}
		}
		struct grant g;
		struct seg segs[9];
		if (parse(b, len, &g, segs) != 0) {
			if (!g.why)
				fail("refused without a reason", it, 0);
			continue;
		}
		accepted++;
		if (len != GRANT_HDR_SIZE + (size_t)GRANT_SEG_SIZE * g.nseg)
			fail("accepted: length", it, (long)len);
		if (g.status != 0) {
			if (g.nseg != 0)
				fail("accepted: a refusal with segments", it, g.nseg);
			continue;
		}
		if (g.nseg == 0 || !g.alloc_unit || (g.alloc_unit & (g.alloc_unit - 1)) || !g.dev_align ||
		    (g.dev_align & (g.dev_align - 1)) || (g.flags & ~7u))
			fail("accepted: header", it, 0);
		uint64_t next = 0;
		for (uint32_t i = 0; i < g.nseg; i++) {
			if (segs[i].file_off != next || !segs[i].len || ((segs[i].file_off | segs[i].dev_off | segs[i].len) & 4095) ||
			    segs[i].dev_off + segs[i].len < segs[i].dev_off || next + segs[i].len < next)
				fail("accepted: segments", it, i);
			next += segs[i].len;
		}
		if (next < g.size)
			fail("accepted: coverage", it, 0);
	}
	printf("damaged replies: %ld parsed, %ld accepted\n", iters, accepted);
}

static void format(void)
{
	char b[64];
	struct {
		size_t n;
		const char *want;
	} c[] = {
		{famfs_format(b, sizeof(b), GRANT_LINK_FMT, 259u, 7u), "/run/famfs/dev-259-7.grant"},
	};
	if (c[0].n != strlen(c[0].want) || strcmp(b, c[0].want)) {
		printf("link path: %s\n", b);
		fail("link path", (long)c[0].n, 0);
	}
#define F(want, ...)                                                                                                   \
	do {                                                                                                           \
		size_t n = famfs_format(b, sizeof(b), __VA_ARGS__);                                                    \
		if (strcmp(b, want) || n != strlen(want)) {                                                            \
			printf("format: got \"%s\", want \"%s\"\n", b, want);                                          \
			exit(1);                                                                                       \
		}                                                                                                      \
	} while (0)
	F("0 -1 2147483647 -2147483648", "%d %i %d %d", 0, -1, INT_MAX, INT_MIN);
	F("4294967295 ffffffff", "%u %x", UINT_MAX, UINT_MAX);
	F("-9223372036854775808 18446744073709551615", "%lld %llu", LLONG_MIN, ULLONG_MAX);
	F("-5 7 123 -4", "%ld %lu %zu %zd", -5L, 7UL, (size_t)123, (ssize_t)-4);
	F("0x1000 (null) x 100%", "%p %s %c 100%%", (void *)0x1000, (char *)NULL, 'x');
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat"
	F("%q", "%q"); /* not a conversion of its: as it is */
	F("trailing %", "trailing %");
#pragma GCC diagnostic pop
	/* truncation: always terminated, never past the buffer */
	char small[8];
	size_t n = famfs_format(small, sizeof(small), "%s", "0123456789");
	if (n != 7 || strcmp(small, "0123456"))
		fail("truncation", (long)n, 0);
	if (famfs_format(small, 0, "x") != 0)
		fail("a buffer of 0 bytes", 0, 0);
	if (strcmp(err_name(EACCES), "EACCES") || strcmp(err_name(EDQUOT), "EDQUOT") || !err_name(99999))
		fail("err_name", 0, 0);
}

int main(int argc, char **argv)
{
	cases();
	damage(argc > 1 ? atol(argv[1]) : 300000);
	format();
	printf("ok\n");
	return 0;
}
