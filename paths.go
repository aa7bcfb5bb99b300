package famfs

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/famfs-go/famfs/internal/namespace"
	"github.com/famfs-go/famfs/internal/omf"
)

// Info describes a file or directory.
type Info struct {
	Path  string      // relative to the file system root; "" for the root
	Name  string      // last path component
	Mode  fs.FileMode // permission bits, plus fs.ModeDir for directories
	UID   uint32
	GID   uint32
	Size  uint64
	Ino   uint64  // derived from the log index: the same on every host
	Index int64   // log index of the entry; -1 for the root
	Map   FileMap // files only: where the bytes are on the device
	// Target is a symbolic link's target (Mode has fs.ModeSymlink).
	Target string
}

// IsDir reports whether the entry is a directory.
func (i Info) IsDir() bool { return i.Mode.IsDir() }

func infoOf(n *namespace.Node) Info { return infoAt(n, n.Path()) }

// withMap adds the public form of n's file map to i (what callers see; the
// library itself works from the log's map).
func withMap(i Info, n *namespace.Node) Info {
	if !n.IsDir() && !n.IsSymlink() {
		fm := n.FMap()
		i.Map = fileMapOf(&fm)
	}
	return i
}

// infoAt is infoOf for a node whose path p the caller already has (it saves
// rebuilding the path from the node's ancestors).
func infoAt(n *namespace.Node, p string) Info {
	i := Info{Path: p, Name: n.Name(), Mode: fileMode(n.Mode(), n.IsDir()), UID: n.UID(), GID: n.GID(), Size: n.Size(),
		Ino: n.Ino(), Index: n.Index()}
	if n.IsSymlink() {
		i.Mode |= fs.ModeSymlink
		i.Target = n.Target()
		i.Size = uint64(len(i.Target)) // as lstat(2) gives it
	}
	return i
}

// fileMode turns logged permission bits (07777) into an fs.FileMode.
func fileMode(perm uint32, dir bool) fs.FileMode {
	mode := fs.FileMode(perm & 0o777)
	if perm&0o4000 != 0 {
		mode |= fs.ModeSetuid
	}
	if perm&0o2000 != 0 {
		mode |= fs.ModeSetgid
	}
	if perm&0o1000 != 0 {
		mode |= fs.ModeSticky
	}
	if dir {
		mode |= fs.ModeDir
	}
	return mode
}

// cleanPath turns a path relative to the file system root into the form the
// log uses: no leading '/', no "." or empty components, ".." resolved. The
// root is "". A path that climbs above the root, or holds a NUL byte, is an
// error wrapping ErrBadPath.
func cleanPath(p string) (string, error) {
	if omf.CheckRelPath(p, false) == nil {
		return p, nil // already clean: the common case, without allocating
	}
	if strings.IndexByte(p, 0) >= 0 {
		return "", fmt.Errorf("%w: %q contains a NUL byte", ErrBadPath, p)
	}
	c := path.Clean("/" + p)
	// path.Clean of a rooted path never climbs above "/"; detect attempts.
	depth := 0
	for _, comp := range strings.Split(p, "/") {
		switch comp {
		case "", ".":
		case "..":
			if depth--; depth < 0 {
				return "", fmt.Errorf("%w: %q leads outside the file system", ErrBadPath, p)
			}
		default:
			depth++
		}
	}
	return strings.TrimPrefix(c, "/"), nil
}

// findLocked cleans p and returns its node and clean path, or an error for
// op naming p. The caller holds f.mu.
func (f *FS) findLocked(op, p string) (*namespace.Node, string, error) {
	c, err := cleanPath(p)
	if err != nil {
		return nil, "", pathErr(op, p, err)
	}
	n := f.tree.Lookup(c)
	if n == nil {
		return nil, "", pathErr(op, p, fs.ErrNotExist)
	}
	return n, c, nil
}

// Stat describes the file or directory at path.
func (f *FS) Stat(p string) (Info, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n, c, err := f.findLocked("stat", p)
	if err != nil {
		return Info{}, err
	}
	return withMap(infoAt(n, c), n), nil
}

// ReadDir lists a directory in log order.
func (f *FS) ReadDir(p string) ([]Info, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n, _, err := f.findLocked("readdir", p)
	if err != nil {
		return nil, err
	}
	if !n.IsDir() {
		return nil, pathErr("readdir", p, ErrNotDir)
	}
	out := make([]Info, 0, n.NumChildren())
	for _, k := range n.Children() {
		out = append(out, withMap(infoOf(k), k))
	}
	return out, nil
}

// Walk calls fn for the entry at root and everything below it, depth first in
// log order. If fn returns fs.SkipDir for a directory, its contents are
// skipped; any other error stops the walk and is returned. The tree is read
// under the FS's read lock, so fn must not call any method of the FS (a
// nested read lock deadlocks once a refresh waits for the lock): collect what
// you need and act after Walk returns.
func (f *FS) Walk(root string, fn func(Info) error) error {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n, _, err := f.findLocked("walk", root)
	if err != nil {
		return err
	}
	err = walk(n, fn)
	if err == fs.SkipDir {
		return nil
	}
	return err
}

func walk(n *namespace.Node, fn func(Info) error) error {
	if err := fn(withMap(infoOf(n), n)); err != nil {
		return err
	}
	for _, k := range n.Children() {
		if err := walk(k, fn); err != nil && err != fs.SkipDir {
			return err
		}
	}
	return nil
}
