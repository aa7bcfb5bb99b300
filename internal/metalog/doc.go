// Package metalog owns the famfs metadata log as it lives in shared memory:
// formatting it, reading and validating entries incrementally from a cursor,
// scanning every entry for fsck, and appending on the master in a crash-safe
// order.
//
// The log is reached through a Media, a small interface over the memory that
// holds it (a device.Mapping in production, a model of non-coherent shared
// memory in tests), so that every load is preceded by a cache invalidate of
// exactly the lines it reads and every store is followed by a flush of exactly
// the lines it wrote. A Media that is also a Viewer (a mapping) is read in
// place rather than copied, and a long replay then checks entries on a second
// goroutine ahead of the caller applying them (ahead.go).
//
// Append order: the zeroed, CRC'd entries are stored and their lines flushed
// and fenced; only then are the header's next_seqnum and next_index advanced
// and that one line flushed. A reader on any host therefore sees either the old
// log or the new one. A torn or not yet visible entry fails its sequence-number
// or CRC check; Replay stops there and the caller retries from that index on
// its next poll.
//
// The log lock is not taken here: Append requires the caller to hold the
// host-local log lock (see the famfs package).
package metalog
