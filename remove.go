package famfs

import (
	"fmt"
	"io/fs"

	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
)

// RemoveOptions tune Remove.
type RemoveOptions struct {
	// Recursive removes directories with everything in them; without it a
	// directory must be empty.
	Recursive bool
	// Force ignores paths that do not exist.
	Force bool
}

// Remove deletes files and directories (docs/delete.md): one DELETE entry per
// node, children before their directory, all logged in one append, so the
// removal is whole or absent even across a crash. Every path is checked
// before anything is written; the first one that fails its checks fails the
// call and nothing is logged. The names go at once; the space is reused only
// once every participant has released past the delete.
//
// Only the master may remove, and only on a file system made for delete
// (ErrNoReclaim otherwise).
func (f *FS) Remove(paths []string, o RemoveOptions) error {
	if !f.sb.Reclaim() {
		if len(paths) == 0 {
			return ErrNoReclaim
		}
		return pathErr("remove", paths[0], ErrNoReclaim)
	}
	return f.update(func(tx *txn) error { return tx.Remove(paths, o) })
}

// Remove is FS.Remove inside a transaction.
func (tx *txn) Remove(paths []string, o RemoveOptions) error {
	f := tx.f
	if !f.sb.Reclaim() {
		return ErrNoReclaim
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var entries []omf.Entry
	seen := map[*namespace.Node]bool{}
	for _, p := range paths {
		n, err := f.removableLocked(p, o)
		if err != nil {
			return err
		}
		if n == nil || seen[n] || coveredBy(n, seen) {
			continue
		}
		entries = appendDeletes(entries, n, seen)
	}
	if len(entries) == 0 {
		return nil
	}
	if err := f.checkSlotsLocked(uint64(len(entries))); err != nil {
		return pathErr("remove", paths[0], err)
	}
	if err := f.appendLocked(entries, nil); err != nil {
		return pathErr("remove", paths[0], err)
	}
	return nil
}

// removableLocked finds the node p names and checks that it may go; nil
// with no error for a missing path under Force.
func (f *FS) removableLocked(p string, o RemoveOptions) (*namespace.Node, error) {
	c, err := cleanPath(p)
	if err != nil {
		return nil, pathErr("remove", p, err)
	}
	switch {
	case c == "":
		return nil, pathErr("remove", p, fmt.Errorf("%w: the root of the file system cannot be removed", fs.ErrInvalid))
	case c == MetaDir || len(c) > len(MetaDir) && c[:len(MetaDir)+1] == MetaDir+"/":
		return nil, pathErr("remove", p, fmt.Errorf("%w: %s is the mount's metadata, not a logged file", fs.ErrPermission, MetaDir))
	}
	n := f.tree.Lookup(c)
	if n == nil {
		if o.Force {
			return nil, nil
		}
		return nil, pathErr("remove", p, fs.ErrNotExist)
	}
	if n.IsDir() && n.NumChildren() > 0 && !o.Recursive {
		return nil, pathErr("remove", p, fmt.Errorf("%w: %d entries in it (remove them first, or recursively)", ErrNotEmpty, n.NumChildren()))
	}
	return n, nil
}

// coveredBy reports whether an ancestor of n is already being removed.
func coveredBy(n *namespace.Node, seen map[*namespace.Node]bool) bool {
	for p := n.Parent(); p != nil; p = p.Parent() {
		if seen[p] {
			return true
		}
	}
	return false
}

// appendDeletes adds the DELETE entries of n and everything under it,
// children first, to entries.
func appendDeletes(entries []omf.Entry, n *namespace.Node, seen map[*namespace.Node]bool) []omf.Entry {
	seen[n] = true
	if n.IsDir() {
		for _, c := range n.Children() {
			if !seen[c] {
				entries = appendDeletes(entries, c, seen)
			}
		}
	}
	return append(entries, omf.Entry{Type: omf.EntryDelete, Path: n.Path(),
		Delete: omf.Delete{Target: uint64(n.Index()), Dir: n.IsDir(), Symlink: n.IsSymlink(), Size: n.Size()}})
}
