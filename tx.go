package famfs

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/famfs-go/famfs/internal/metalog"
	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
	"github.com/google/uuid"
)

// CreateOptions describe a new file.
type CreateOptions struct {
	Size uint64 // bytes, at least 1; space is allocated in whole 2 MiB units
	Mode uint32 // permission bits, logged as given (the CLI removes the umask)
	UID  uint32
	GID  uint32
	// Interleave, if enabled, stripes the file across buckets of the device
	// (docs/format.md, "Interleaved allocation"); the zero value allocates one
	// contiguous extent.
	Interleave Interleave
	// NoZero leaves the file's space as it is instead of zeroing what the
	// caller did not write before the file becomes visible: faster, but the
	// file — and the slack after its end up to the allocation unit, which a
	// mapping shows — then holds whatever was in that memory (on a dax
	// device, what an earlier file system's files left; mkfs -f releases a
	// regular-file device's memory, so there it reads as zero). Only for
	// callers that write every byte themselves or trust the device.
	NoZero bool
	// FirstFit searches for the file's space from the start of the device,
	// as the reference's creat does for every file; the default continues
	// from where the batch's last allocation ended (next fit, as the
	// reference's multi-file cp).
	FirstFit bool
	// CloneOf, a path of an existing file, makes the new file share that
	// file's extents, size, mode and owner (Size and the rest are ignored):
	// a deliberate cross-link, which fsck then reports — the reference's
	// test tool `famfs clone`. Nothing is allocated or zeroed. Refused on a
	// file system made for delete.
	CloneOf string
}

// MkdirOptions describe a new directory.
type MkdirOptions struct {
	Mode uint32
	UID  uint32
	GID  uint32
	// Parents creates missing parents (each with this mode and owner, as the
	// reference's mkdir -p does) and accepts an existing directory.
	Parents bool
}

// txn is a sequence of namespace changes made under one hold of the log
// lock. Each change is appended to the log (and durable) when its method
// returns; the log is append-only, so there is no rollback. Batch is the
// public form.
type txn struct {
	f *FS
}

// update runs fn holding the log lock: this process's writer mutex plus an
// exclusive flock on the device, which serialises every writer on this host.
// Entries appended by other processes since the last look are replayed first.
// Only the master may update; anyone else gets ErrNotMaster and nothing is
// written.
func (f *FS) update(fn func(tx *txn) error) error {
	if f.role != Master {
		return ErrNotMaster
	}
	if !f.dev.Writable {
		return fmt.Errorf("device %s: %w: opened without write access", f.dev.Path, ErrReadOnly)
	}
	f.wmu.Lock()
	defer f.wmu.Unlock()
	if err := f.dev.Lock(); err != nil {
		return err
	}
	defer f.dev.Unlock()
	err := f.session(fn)
	f.afterReplay() // what this FS logged itself is replayed too: publish it
	return err
}

// session runs fn as one transaction. The caller holds the log lock (wmu and
// the flock); tests that model the log in non-coherent memory call it
// directly.
func (f *FS) session(fn func(tx *txn) error) error {
	if err := f.catchUp(); err != nil {
		return err
	}
	f.mu.Lock()
	f.alloc.StartSession(f.tree.Bitmap())
	err := f.reservePendingLocked()
	f.mu.Unlock()
	if err != nil {
		return err
	}
	return fn(&txn{f: f})
}

// catchUp replays what other writers appended. Under the lock no append is in
// flight, so a torn entry below next_index is damage, not a race: refuse to
// append after it, since no host could ever replay past it.
func (f *FS) catchUp() error {
	_, err := f.refresh(false)
	if errors.Is(err, ErrLogDamaged) {
		return fmt.Errorf("%w; refusing to append after it (run famfs fsck)", err)
	}
	return err
}

// appendLocked logs entries and applies them to the tree, storing the node
// each one made in nodes[k] if nodes is long enough. The caller holds f.mu.
func (f *FS) appendLocked(entries []omf.Entry, nodes []*namespace.Node) error {
	first, err := f.log.Append(entries)
	if err != nil {
		return err
	}
	for k := range entries {
		n := f.tree.Apply(first+uint64(k), &entries[k], nil)
		if k < len(nodes) {
			nodes[k] = n
		}
	}
	f.next = first + uint64(len(entries))
	return nil
}

// Create allocates and logs a new file. Its space is zeroed first, unless
// o.NoZero (see Stage, which also prepares several files to be logged at
// once and lets their data be written before any of them is visible).
func (tx *txn) Create(p string, o CreateOptions) (*File, error) {
	st := tx.batch()
	if _, err := st.Create(p, o); err != nil {
		st.abandon()
		return nil, err
	}
	files, err := st.commit()
	if err != nil {
		return nil, err
	}
	return files[0], nil
}

// Mkdir logs a new directory (and, with Parents, its missing parents, top
// down, each with the given mode and owner) in one append.
func (tx *txn) Mkdir(p string, o MkdirOptions) error {
	st := tx.batch()
	if err := st.Mkdir(p, o); err != nil {
		return err
	}
	_, err := st.commit()
	return err
}

// Symlink logs a symbolic link at p pointing to target (see Stage.Symlink).
func (tx *txn) Symlink(target, p string, o SymlinkOptions) error {
	st := tx.batch()
	if err := st.Symlink(target, p, o); err != nil {
		return err
	}
	_, err := st.commit()
	return err
}

// AddDevice logs an ADD_DAXDEV entry (OMF 2.2, "multi-daxdev phase 1";
// docs/format.md, "ADD_DAXDEV"): device d.UUID of d.Size bytes joins the file
// system as device d.Index. Nothing is allocated and no file may use the
// device yet (every extent's devindex is 0); the entry only records the device
// table, as the reference library's __famfs_add_daxdev does.
//
// The entry is refused, and nothing is written, unless replay would accept
// it: d.Index must be the next free slot of the table (the primary device is
// 0, so the first added device is 1), d.UUID must be set and not already in
// the table, and d.Size must be non-zero.
// Master only.
func (f *FS) AddDevice(dev Device) error {
	return f.update(func(tx *txn) error { return tx.addDaxdev(omf.Daxdev(dev)) })
}

func (tx *txn) addDaxdev(d omf.Daxdev) error {
	f := tx.f
	f.mu.Lock()
	defer f.mu.Unlock()
	table := f.tree.Daxdevs()
	switch {
	case d.Size == 0:
		return fmt.Errorf("add daxdev %s: %w: size 0", d.UUID, fs.ErrInvalid)
	case d.UUID == uuid.Nil:
		return fmt.Errorf("add daxdev: %w: no device UUID", fs.ErrInvalid)
	case len(table) >= namespace.MaxDaxdevs:
		return fmt.Errorf("add daxdev %s: %w: the device table is full (%d devices)", d.UUID, fs.ErrInvalid, namespace.MaxDaxdevs)
	case uint64(d.Index) != uint64(len(table)):
		return fmt.Errorf("add daxdev %s: %w: index %d, the next free index is %d", d.UUID, fs.ErrInvalid, d.Index, len(table))
	}
	for k, x := range table[1:] {
		if x.UUID == d.UUID {
			return fmt.Errorf("add daxdev %s: %w: already device %d", d.UUID, fs.ErrExist, k+1)
		}
	}
	if err := f.checkSlotsLocked(1); err != nil {
		return fmt.Errorf("add daxdev %s: %w", d.UUID, err)
	}
	if err := f.appendLocked([]omf.Entry{{Type: omf.EntryAddDaxdev, Daxdev: d}}, nil); err != nil {
		return fmt.Errorf("add daxdev %s: %w", d.UUID, err)
	}
	return nil
}

// checkNewPath cleans p and applies the log's writing rules.
func checkNewPath(p string) (string, error) {
	c, err := cleanPath(p)
	if err != nil {
		return "", err
	}
	if c == "" {
		return "", fmt.Errorf("%w: the root already exists", fs.ErrExist)
	}
	if err := checkReserved(c); err != nil {
		return "", err
	}
	if err := omf.CheckRelPath(c, true); err != nil {
		return "", fmt.Errorf("%w: %v", ErrBadPath, err)
	}
	return c, nil
}

// MetaDir is the directory at the root of every famfs mount that holds
// .superblock and .log. It is not in the log, and nothing may be logged
// under its name: every mount would hide it.
const MetaDir = ".meta"

// The files in MetaDir: the superblock region and the log, read-only.
const (
	MetaSuperblock = ".superblock"
	MetaLog        = ".log"
)

// checkReserved refuses the clean path c if it is MetaDir or inside it.
func checkReserved(c string) error {
	if c == MetaDir {
		return &ExistError{Info: Info{Path: MetaDir, Name: MetaDir, Mode: fs.ModeDir | 0o755}}
	}
	if strings.HasPrefix(c, MetaDir+"/") {
		return fmt.Errorf("%w: %s is the mount's metadata directory; nothing can be created in it", ErrBadPath, MetaDir)
	}
	return nil
}

// checkParentLocked verifies that c's parent is a directory and c is free.
func (f *FS) checkParentLocked(c string) error {
	parent, name, kind, reason := f.tree.Parent(c)
	if parent == nil {
		if kind == namespace.NotDir {
			return fmt.Errorf("%w: %s", ErrNotDir, reason)
		}
		return fmt.Errorf("%w: %s", fs.ErrNotExist, reason)
	}
	if old := f.tree.Child(parent, name); old != nil {
		return &ExistError{Info: infoOf(old)}
	}
	return nil
}

// checkSlotsLocked fails before anything is allocated when the log cannot take
// n more entries. It runs inside Update, under the log lock and after catchUp,
// so the log holds exactly the f.next entries this FS has applied (its own
// appends included) and the header need not be read again: Append reads and
// validates it anyway. Reading it here too cost a second cache-missing load
// of the header line per file created.
func (f *FS) checkSlotsLocked(n uint64) error {
	capacity := f.logCap
	free := capacity - min(f.next, capacity)
	if n > free {
		return &metalog.FullError{Need: n, Free: free, Capacity: capacity}
	}
	return nil
}

// Create logs one file under its own hold of the log lock.
func (f *FS) Create(p string, o CreateOptions) (file *File, err error) {
	err = f.update(func(tx *txn) error {
		file, err = tx.Create(p, o)
		return err
	})
	return file, err
}

// Mkdir logs a directory under its own hold of the log lock.
func (f *FS) Mkdir(p string, o MkdirOptions) error {
	return f.update(func(tx *txn) error { return tx.Mkdir(p, o) })
}

// Symlink makes a symbolic link at p pointing to target (master only). It
// takes one log entry and no space; the reference's tools skip it.
func (f *FS) Symlink(target, p string, o SymlinkOptions) error {
	return f.update(func(tx *txn) error { return tx.Symlink(target, p, o) })
}
