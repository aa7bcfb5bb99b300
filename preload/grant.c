/* The grant protocol, client side (docs/protocol.md, "Grant protocol"):
 * grant_request passes the descriptor the program opened through the
 * mount to the mount's daemon (SCM_RIGHTS over a SOCK_SEQPACKET socket)
 * and reads back the file's map and, when granted, a descriptor of the
 * device; grant_parse checks and decodes the reply, with no system call
 * (the C unit test and the Go fuzz test, preload/test and preload/fuzz,
 * run it alone). One connection per grant: a granted connection is the
 * grant's lease (protocol version 2) and goes back to the caller, which
 * keeps it open while the process holds the file (lease.c); nothing more
 * is ever sent on it. Nothing to share between threads; a forked child
 * shares the connection, and with it the lease. */
#include "internal.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v), put16(p + 2, (uint16_t)(v >> 16)); }

static void fail(struct grant *g, int err, const char *why)
{
	g->status = err;
	g->why = why;
}

void grant_free_segs(struct grant *g)
{
	if (g->segs)
		sys_munmap(g->segs, g->segs_len);
	g->segs = NULL;
	g->segs_len = 0;
}

/* The daemon's checks are in internal/control/grant.go (DecodeGrantReply is the Go
 * client's decoder); this parser accepts exactly the replies that one
 * accepts, less those a mapping cannot use: a granted reply must have at
 * least one segment and every segment page-aligned (4 KiB) on the file and
 * the device, and a reply longer than the protocol's largest is refused
 * unread. The fuzz test in preload/fuzz holds the two to that. */
int grant_parse(uint8_t *buf, size_t len, struct grant *g)
{
#define BAD(msg)                                                                                                       \
	do {                                                                                                           \
		g->why = msg;                                                                                          \
		return EPROTO;                                                                                         \
	} while (0)
	g->why = NULL;
	if (len < GRANT_HDR_SIZE || len > GRANT_REPLY_MAX)
		BAD("grant reply of a bad length");
	if (le32(buf) != GRANT_MAGIC || le16(buf + 4) != GRANT_VERSION)
		BAD("grant reply: bad magic or version");
	g->status = le16(buf + 6);
	g->flags = le32(buf + 8);
	g->nseg = le32(buf + 12);
	g->size = le64(buf + 16);
	g->alloc_unit = le64(buf + 24);
	g->dev_align = le64(buf + 32);
	g->ino = le64(buf + 40);
	memcpy(g->uuid, buf + 48, 16);
	if ((uint64_t)len != GRANT_HDR_SIZE + (uint64_t)GRANT_SEG_SIZE * g->nseg)
		BAD("grant reply: segment count does not match its length");
	if (g->status != 0) {
		if (g->nseg != 0)
			BAD("grant reply: a refusal with segments");
		return 0; /* the daemon's answer */
	}
	if (g->flags & ~(GRANT_WRITABLE | GRANT_NONCOHERENT | GRANT_DEVDAX))
		BAD("grant reply: unknown flags");
	if (g->nseg == 0 || g->alloc_unit == 0 || (g->alloc_unit & (g->alloc_unit - 1)) || g->dev_align == 0 ||
	    (g->dev_align & (g->dev_align - 1)))
		BAD("grant reply: no segments or a bad allocation unit or alignment");
	/* Segments in place: file order, contiguous from 0, page-aligned, no
	 * wrap, covering at least the file size. */
	struct seg *sg = (struct seg *)(void *)buf;
	uint64_t next = 0;
	for (uint32_t i = 0; i < g->nseg; i++) {
		const uint8_t *p = buf + GRANT_HDR_SIZE + (size_t)GRANT_SEG_SIZE * i;
		struct seg x = {le64(p), le64(p + 8), le64(p + 16)};
		if (x.file_off != next || x.len == 0 || ((x.file_off | x.dev_off | x.len) & 4095) ||
		    x.file_off + x.len < x.file_off || x.dev_off + x.len < x.dev_off)
			BAD("grant reply: segments out of order, unaligned or overlapping");
		next = x.file_off + x.len;
		sg[i] = x; /* writes behind what is read: 24-byte records move down 64 bytes */
	}
	if (next < g->size)
		BAD("grant reply: segments do not cover the file");
	return 0;
#undef BAD
}

void grant_request(int fd, const char *sockpath, int want_dev, struct grant *g)
{
	memset(g, 0, sizeof(*g));
	g->devfd = -1;
	g->lease = -1;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	size_t plen = strlen(sockpath);
	if (sockpath[0] != '/' || plen >= sizeof(sa.sun_path))
		return fail(g, EINVAL, "the grant socket path is not absolute or too long");
	memcpy(sa.sun_path, sockpath, plen + 1);

	int s0 = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s0 < 0)
		return fail(g, errno, "socket");
	/* The connection may stay open for the life of the process (the
	 * lease): above the program's descriptors, or not at all. */
	int s = high_dup(s0);
	sys_close(s0);
	if (s < 0)
		return fail(g, EMFILE, "no descriptor free for the lease above the program's (RLIMIT_NOFILE)");
	struct timeval tv = {.tv_sec = 5};
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	int r;
	do
		r = connect(s, (struct sockaddr *)&sa, sizeof(sa));
	while (r < 0 && errno == EINTR);
	if (r < 0) {
		fail(g, errno, "connect to the grant socket");
		goto out;
	}
	/* Only a daemon running as root (famfs mounts directly as root) or as
	 * ourselves may hand us a map: another user's socket is not a famfs
	 * daemon we trust with our file's bytes. */
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 ||
	    (cred.uid != 0 && cred.uid != geteuid())) {
		fail(g, EPERM, "the grant socket's peer is not root");
		goto out;
	}

	uint8_t req[GRANT_REQ_SIZE] = {0};
	put32(req, GRANT_MAGIC);
	put16(req + 4, GRANT_VERSION);
	put16(req + 6, GRANT_OP);
	put32(req + 8, want_dev ? GRANT_WANT_DEVICE : 0);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
	memset(&cm, 0, sizeof(cm));
	struct iovec iov = {.iov_base = req, .iov_len = sizeof(req)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.buf, .msg_controllen = sizeof(cm.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	ssize_t n;
	do
		n = sendmsg(s, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(req)) {
		fail(g, n < 0 ? errno : EIO, "send the grant request");
		goto out;
	}

	/* The reply's length first (a peek without a control buffer installs
	 * no descriptor), then the whole message. */
	uint8_t hdr[GRANT_HDR_SIZE];
	do
		n = recv(s, hdr, sizeof(hdr), MSG_PEEK | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		fail(g, errno, "receive the grant reply");
		goto out;
	}
	if (n < GRANT_HDR_SIZE || (size_t)n > GRANT_REPLY_MAX) {
		fail(g, EPROTO, "grant reply of a bad length");
		goto out;
	}
	size_t rlen = (size_t)n, blen = (rlen + 4095) & ~(size_t)4095;
	uint8_t *buf = sys_mmap(NULL, blen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED) {
		fail(g, ENOMEM, "no memory for the grant reply");
		goto out;
	}
	union {
		char buf[CMSG_SPACE(sizeof(int) * 8)];
		struct cmsghdr align;
	} rc;
	memset(&rc, 0, sizeof(rc));
	struct iovec riov = {.iov_base = buf, .iov_len = rlen};
	struct msghdr rm = {.msg_iov = &riov, .msg_iovlen = 1, .msg_control = rc.buf, .msg_controllen = sizeof(rc.buf)};
	do
		n = recvmsg(s, &rm, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	int got = -1;
	for (struct cmsghdr *h = n >= 0 ? CMSG_FIRSTHDR(&rm) : NULL; h; h = CMSG_NXTHDR(&rm, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int d;
			memcpy(&d, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (got < 0)
				got = d;
			else
				sys_close(d); /* more than the one descriptor the protocol allows */
		}
	}
	if (n != (ssize_t)rlen || (rm.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		fail(g, EPROTO, "grant reply truncated");
		goto bad;
	}
	if ((r = grant_parse(buf, rlen, g)) != 0) {
		fail(g, r, g->why);
		goto bad;
	}
	if (g->status != 0)
		goto bad; /* the daemon's answer: why stays NULL */
	if (want_dev && got < 0) {
		fail(g, EPROTO, "grant reply without the device descriptor");
		goto bad;
	}
	g->segs = (struct seg *)(void *)buf;
	g->segs_len = blen;
	g->devfd = got;
	g->lease = s; /* the lease: the caller keeps it open */
	return;
bad:
	if (got >= 0)
		sys_close(got);
	sys_munmap(buf, blen);
out:
	sys_close(s);
}
