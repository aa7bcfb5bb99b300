package famfs

import "github.com/famfs-go/famfs/internal/namespace"

// Node is a file or directory of the namespace, as replaying the log made it.
//
// A node never changes and never moves: its name, parent, size, mode, owner
// and map are those its log entry gave it. A Node may therefore be kept,
// copied and used from any goroutine for the life of its FS; only a
// directory's list of children changes, and Children returns a snapshot of
// it. On a file system made for delete a node may be deleted (Deleted); it
// keeps its attributes, but it is out of its directory, and its file can no
// longer be opened, held or mapped. The zero Node is not a node (IsValid
// reports false).
type Node struct {
	fs *FS
	n  *namespace.Node
}

func (f *FS) node(n *namespace.Node) Node {
	if n == nil {
		return Node{}
	}
	return Node{fs: f, n: n}
}

// Root returns the root directory.
func (f *FS) Root() Node {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.node(f.tree.Root())
}

// Lookup returns the node at path (relative to the root; "" is the root).
func (f *FS) Lookup(p string) (Node, error) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n, _, err := f.findLocked("lookup", p)
	if err != nil {
		return Node{}, err
	}
	return f.node(n), nil
}

// NodeByIno returns the node whose inode number is ino (Info.Ino: derived
// from the log index, the same on every host).
func (f *FS) NodeByIno(ino uint64) (Node, bool) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	n := f.tree.ByIno(ino)
	return f.node(n), n != nil
}

// Deleted reports whether a DELETE entry this FS has replayed removed n.
func (n Node) Deleted() bool {
	n.fs.mu.RLock()
	defer n.fs.mu.RUnlock()
	_, del := n.n.Deleted()
	return del
}

// IsValid reports whether n is a node (not the zero Node).
func (n Node) IsValid() bool { return n.n != nil }

// Info describes the node.
func (n Node) Info() Info { return withMap(infoOf(n.n), n.n) }

// Name is the last component of the node's path ("" for the root).
func (n Node) Name() string { return n.n.Name() }

// Path is the node's path relative to the root ("" for the root).
func (n Node) Path() string { return n.n.Path() }

// Ino is the node's inode number: derived from its log index, so the same on
// every host (1 for the root).
func (n Node) Ino() uint64 { return n.n.Ino() }

// IsDir reports whether the node is a directory.
func (n Node) IsDir() bool { return n.n.IsDir() }

// IsSymlink reports whether the node is a symbolic link.
func (n Node) IsSymlink() bool { return n.n.IsSymlink() }

// Target is a symbolic link's target, as logged ("" for other nodes).
func (n Node) Target() string { return n.n.Target() }

// IsRoot reports whether the node is the root directory.
func (n Node) IsRoot() bool { return n.n.Parent() == nil }

// Perm returns the logged permission bits (0o7777: with setuid, setgid and
// sticky as in chmod(2)).
func (n Node) Perm() uint32 { return n.n.Mode() }

// UID is the owner's user id.
func (n Node) UID() uint32 { return n.n.UID() }

// GID is the owner's group id.
func (n Node) GID() uint32 { return n.n.GID() }

// Size is a file's size in bytes (0 for a directory).
func (n Node) Size() uint64 { return n.n.Size() }

// Allocated is the device space behind a file: its size rounded up to whole
// allocation units, the unit's slack included (0 for a directory).
func (n Node) Allocated() uint64 {
	m := n.n.FMap()
	return m.Backing()
}

// Parent returns the directory holding n; false for the root.
func (n Node) Parent() (Node, bool) {
	p := n.n.Parent()
	return n.fs.node(p), p != nil
}

// NumChildren is the number of entries of a directory.
func (n Node) NumChildren() int {
	n.fs.mu.RLock()
	defer n.fs.mu.RUnlock()
	return n.n.NumChildren()
}

// Children lists a directory's entries in log order: a snapshot, which the
// caller may keep after the namespace grows.
func (n Node) Children() []Node {
	n.fs.mu.RLock()
	kids := n.n.Children()
	n.fs.mu.RUnlock()
	out := make([]Node, len(kids))
	for i, k := range kids {
		out[i] = Node{fs: n.fs, n: k}
	}
	return out
}

// Child returns the entry named name of the directory n.
func (n Node) Child(name string) (Node, bool) {
	n.fs.mu.RLock()
	defer n.fs.mu.RUnlock()
	if !n.n.IsDir() {
		return Node{}, false
	}
	c := n.fs.tree.Child(n.n, name)
	return n.fs.node(c), c != nil
}

// Open returns the file n, without looking its path up again.
func (n Node) Open() (*File, error) {
	if err := regular(n.n); err != nil {
		return nil, pathErr("open", n.n.Path(), err)
	}
	return &File{fs: n.fs, info: infoOf(n.n), fmap: n.n.FMap(), node: n.n}, nil
}
