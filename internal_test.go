package famfs

import "github.com/famfs-go/famfs/internal/namespace"

// viewTree runs fn with read access to the namespace tree (white-box tests).
func (f *FS) viewTree(fn func(t *namespace.Tree)) {
	f.mu.RLock()
	defer f.mu.RUnlock()
	fn(f.tree)
}
