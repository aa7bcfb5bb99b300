// Package omf owns the famfs on-media format: the superblock, the log header,
// log entries (FILE, MKDIR, ADD_DAXDEV; DELETE and INVALID are decoded and
// ignored) and the file maps (simple and interleaved) they carry.
//
// Everything here is pure: byte slices in, Go values out, and the reverse. There
// is no I/O. Layouts, CRCs and limits follow docs/format.md exactly, so images
// move between this implementation and the reference C tools byte for byte.
//
// Encoders zero every byte they do not set. Decoders never panic on any input;
// they return a *FieldError naming the structure, the field and the value that
// was wrong. Use errors.Is with the Err* kinds to classify an error, and IsTorn
// to tell an entry that may still be in flight (bad CRC or sequence number)
// from one that is intact but unusable.
package omf
