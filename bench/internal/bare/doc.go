// Package bare owns what famfs bench measures the library against, and
// the workload its figures share (docs/bench.md):
//   - Meta, a plain mmap(2) of a device file's superblock region and log;
//   - Log, a bare log appender: encode entries into their slots, publish the
//     header, flush, nothing more;
//   - ReadCRC, the replay floor: read the log and checksum every byte;
//   - Workload and AppendAll, generated logs as a master would write them.
//
// It is built from the format codec and plain mappings, never from the
// library's engine (of the library it uses only the cache-flush helpers and
// the maps of files it made):
// a baseline that went through the library's own mapping and log code would
// measure the library against itself. The bench package reaches the format
// only through this package; the lower layers' benchmarks get Workload's
// entries through bench.LogEntries for the same work.
package bare
