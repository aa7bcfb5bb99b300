// Package cli owns the famfs command line: `mkfs.famfs` and `famfs <command>`,
// with the reference's command names and flags. Each command lives in its own
// file and is a thin user of the famfs library.
//
// The binary picks its personality from argv[0]: `mkfs.famfs` runs mkfs,
// `mount.famfs` runs the mount helper, anything else is `famfs`.
//
// Exit codes are a contract (never 128 or more; a panic is a bug):
//
//	mkfs.famfs   0 done, 1 failed, 16 usage
//	famfs fsck   fsck(8) bits: 0 clean, 4 problems found (bad entries, cross-links,
//	             misplaced paths), 8 operational error (no device, no valid
//	             superblock), 16 usage
//	famfs mount  0 mounted, 1 usage or permission, 32 mount failure
//	famfs getmap 0 mapped famfs file, 1 not in famfs, 2 in famfs but no map
//	             could be read, 9 (EBADF) no such file, 21 (EISDIR) not a
//	             regular file, 16 usage (the reference's codes)
//	famfs verify number of files that failed (capped at 127), 16 usage
//	famfs flush  number of errors (capped at 127), 16 usage
//	all others   0 success, 1 failure, 16 usage
//
// `-h`/`--help` is help everywhere (the reference's `fsck -h` for
// human-readable sizes is `fsck --human`); `-?` is accepted as help too.
package cli
