/* The zero-copy grant protocol (v2), client side: constants and the decoded
 * reply. The wire format is described in docs/protocol.md, "Grant protocol",
 * and internal/control/grant.go (the daemon's side); both must agree byte for byte. All integers on the wire are
 * little-endian.
 *
 * Version 2 has version 1's bytes and makes every grant a lease: the daemon
 * holds the file until the connection the grant was made on closes, so the
 * client keeps it open for as long as it uses the file (lease.c). A daemon
 * refuses version-1 requests (EINVAL). */
#ifndef FAMFS_PRELOAD_PROTOCOL_H
#define FAMFS_PRELOAD_PROTOCOL_H

#include <stdint.h>

/* The grant socket of the famfs mount whose files have device number
 * MAJOR:MINOR (st_dev): a link the mount's daemon (root) makes in /run/famfs. */
#define GRANT_LINK_FMT "/run/famfs/dev-%u-%u.grant"
#define GRANT_MAGIC 0x5a434d46u        /* "FMCZ" */
#define GRANT_VERSION 2 /* 2: a grant is a lease held until its connection closes */
#define GRANT_OP 1

#define GRANT_REQ_SIZE 16
#define GRANT_HDR_SIZE 64
#define GRANT_SEG_SIZE 24

/* request flags */
#define GRANT_WANT_DEVICE 1u

/* reply flags */
#define GRANT_WRITABLE 1u     /* the device descriptor is O_RDWR */
#define GRANT_NONCOHERENT 2u  /* flush after stores, invalidate before loads */
#define GRANT_DEVDAX 4u       /* devdax char device: mappings honour dev_align */

/* the generic FUSE statfs magic: the cheap filter before looking for the link */
#define FUSE_SUPER_MAGIC_ 0x65735546

/* famfs superblock: magic (u64 at offset 0) and file system UUID (offset 0x30) */
#define FAMFS_SB_MAGIC 0x87B282FFull
#define FAMFS_SB_UUID_OFF 0x30

struct seg {
	uint64_t file_off, dev_off, len;
};

#endif
