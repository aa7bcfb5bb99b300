package fusefs

import (
	"sync"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// override holds a chmod/chown made through this mount: kept in the daemon's
// memory for the life of the mount (the log has no record of it).
type override struct {
	mode     *uint32
	uid, gid *uint32
}

type overrides struct {
	mu sync.RWMutex
	m  map[uint64]*override
}

func (o *overrides) apply(ino uint64, a *fuse.Attr) {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if v := o.m[ino]; v != nil {
		if v.mode != nil {
			a.Mode = a.Mode&syscall.S_IFMT | *v.mode
		}
		if v.uid != nil {
			a.Uid = *v.uid
		}
		if v.gid != nil {
			a.Gid = *v.gid
		}
	}
}

func (o *overrides) set(ino uint64, in *fuse.SetAttrIn) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m == nil {
		o.m = map[uint64]*override{}
	}
	v := o.m[ino]
	if v == nil {
		v = &override{}
		o.m[ino] = v
	}
	if m, ok := in.GetMode(); ok {
		m &= 0o7777
		v.mode = &m
	}
	if u, ok := in.GetUID(); ok {
		v.uid = &u
	}
	if g, ok := in.GetGID(); ok {
		v.gid = &g
	}
}
