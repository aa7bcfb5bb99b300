package famfs

import "github.com/famfs-go/famfs/internal/participants"

// fsck checks the open file system by scanning its whole log afresh.
func (f *FS) fsck() *FsckReport {
	r := &FsckReport{Device: f.dev.Path, DeviceSize: f.dev.Size, Problems: []Problem{}}
	var table participants.Media
	if f.part.mem != nil {
		table = tableMedia{f.part.mem}
	}
	fsckLog(r, f.sb, FsckOptions{SystemUUID: f.host}, f.log, table)
	return r
}
