package famfs

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
)

// devBytes reads device bytes [off, off+n) straight from the device file.
func devBytes(t *testing.T, dev string, off, n uint64) []byte {
	t.Helper()
	f, err := os.Open(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, n)
	if _, err := f.ReadAt(b, int64(off)); err != nil {
		t.Fatal(err)
	}
	return b
}

// A stage's entries appear to other hosts all at once, only at Commit, and
// its files hold the data written before it.
func TestStageCommitsAtOnce(t *testing.T) {
	m, dev := newFS(t)
	c := openAs(t, dev, clientID)
	var files []*File
	err := m.update(func(tx *txn) error {
		st := tx.batch()
		if err := st.Mkdir("a/b", MkdirOptions{Mode: 0o755, Parents: true}); err != nil {
			return err
		}
		sf, err := st.Create("a/b/data", CreateOptions{Size: 5 << 20, Mode: 0o644})
		if err != nil {
			return err
		}
		if _, err := sf.ReadFrom(bytes.NewReader(bytes.Repeat([]byte("x"), 5<<20))); err != nil {
			return err
		}
		if _, err := st.Create("a/top", CreateOptions{Size: 1, Mode: 0o600}); err != nil {
			return err
		}
		if changed, _ := c.Changed(); changed {
			t.Error("a client sees the stage before Commit")
		}
		files, err = st.commit()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Path() != "a/b/data" || files[1].Path() != "a/top" {
		t.Fatalf("files %v", files)
	}
	st, err := c.Refresh()
	if err != nil || st.Applied != 4 || len(st.Added) != 4 {
		t.Fatalf("client replay %+v %v", st, err)
	}
	cf, _ := c.OpenFile("a/b/data")
	b := make([]byte, 5<<20)
	if _, err := cf.ReadAt(b, 0); err != nil || !bytes.Equal(b, bytes.Repeat([]byte("x"), 5<<20)) {
		t.Fatalf("data %v", err)
	}
}

// An abandoned stage logs nothing and its space is free again; checks fail
// before anything is logged.
func TestStageAbandonAndChecks(t *testing.T) {
	m, _ := newFS(t)
	if _, err := m.Create("file", CreateOptions{Size: 1, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	var first *StagedFile
	err := m.update(func(tx *txn) error {
		st := tx.batch()
		defer st.abandon()
		var err error
		if first, err = st.Create("d1", CreateOptions{Size: 4 << 20, Mode: 0o644}); err != nil {
			return err
		}
		for _, c := range []struct {
			do   func() error
			want error
		}{
			{func() error { _, err := st.Create("d1", CreateOptions{Size: 1}); return err }, fs.ErrExist},
			{func() error { _, err := st.Create("file", CreateOptions{Size: 1}); return err }, fs.ErrExist},
			{func() error { _, err := st.Create("d1/x", CreateOptions{Size: 1}); return err }, ErrNotDir},
			{func() error { return st.Mkdir("d1/y", MkdirOptions{Parents: true}) }, ErrNotDir},
			{func() error { _, err := st.Create("nodir/x", CreateOptions{Size: 1}); return err }, fs.ErrNotExist},
			{func() error { _, err := st.Create(strings.Repeat("n", 79), CreateOptions{Size: 1}); return err }, ErrBadPath},
			{func() error { _, err := st.Create("big", CreateOptions{Size: 8 << 30}); return err }, ErrNoSpace},
		} {
			if err := c.do(); !errors.Is(err, c.want) {
				t.Errorf("got %v, want %v", err, c.want)
			}
		}
		if st.Len() != 1 {
			t.Errorf("failed checks staged entries: %d", st.Len())
		}
		return nil // abandoned by the deferred call
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, _, _ := m.LogStatus(); n != 1 {
		t.Fatalf("an abandoned stage was logged: %d entries", n)
	}
	f, err := m.Create("again", CreateOptions{Size: 4 << 20, Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.Segments()[0].DevOff, first.file.Segments()[0].DevOff; got != want {
		t.Errorf("abandoned space not reused: %#x, abandoned %#x", got, want)
	}
}

// New files never show what an earlier file (here of a file system that
// mkfs -f replaced) left in their memory: not in the file, not in the slack
// after its end that a mapping exposes. What a stage's caller wrote stays;
// NoZero keeps the old bytes (but not the slack).
func TestNewFilesAreZeroed(t *testing.T) {
	m, dev := newFS(t)
	secret := bytes.Repeat([]byte("secret!!"), 6<<20/8)
	old, err := m.Create("secret", CreateOptions{Size: uint64(len(secret)), Mode: 0o600})
	if err != nil {
		t.Fatal(err)
	}
	old.WriteAt(secret, 0)
	old.Flush()
	base := old.Segments()[0].DevOff
	m.Close()
	if _, err := Mkfs(dev, MkfsOptions{Force: true, SystemUUID: masterID}); err != nil {
		t.Fatal(err)
	}
	// mkfs -f gave the old files' memory back (a regular-file device
	// punches a hole)...
	if got := devBytes(t, dev, base, uint64(len(secret))); !bytes.Equal(got, make([]byte, len(got))) {
		t.Error("mkfs -f left the old file's bytes in the device file")
	}
	// ...which a dax device cannot do: there the old bytes stay. Put them
	// back, as a dax device would still hold them.
	df, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	df.WriteAt(secret, int64(base))
	df.Close()
	m = openAs(t, dev, masterID)

	zero := func(name string, b []byte) {
		t.Helper()
		if !bytes.Equal(b, make([]byte, len(b))) {
			t.Errorf("%s: %d bytes of old data exposed", name, len(b)-bytes.Count(b, []byte{0}))
		}
	}
	plain, err := m.Create("plain", CreateOptions{Size: 1<<20 + 5, Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	if plain.Segments()[0].DevOff != base {
		t.Fatalf("the new file is not over the old one's space: %#x vs %#x", plain.Segments()[0].DevOff, base)
	}
	zero("plain file and its slack", devBytes(t, dev, base, 2<<20))

	var part, nozero *StagedFile
	err = m.update(func(tx *txn) error {
		st := tx.batch()
		var err error
		if part, err = st.Create("part", CreateOptions{Size: 2 << 20, Mode: 0o644}); err != nil {
			return err
		}
		part.WriteAt([]byte("written"), 1000)
		if nozero, err = st.Create("nozero", CreateOptions{Size: 1 << 20, Mode: 0o644, NoZero: true}); err != nil {
			return err
		}
		_, err = st.commit()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	p := part.file.Segments()[0].DevOff
	got := devBytes(t, dev, p, 2<<20)
	if string(got[1000:1007]) != "written" {
		t.Errorf("written bytes lost: %q", got[1000:1007])
	}
	zero("part before the write", got[:1000])
	zero("part after the write", got[1007:])
	n := nozero.file.Segments()[0].DevOff
	if got := devBytes(t, dev, n, 1<<20); !bytes.Equal(got, secret[n-base:n-base+1<<20]) {
		t.Error("NoZero changed the file's bytes")
	}
	if got := devBytes(t, dev, n+1<<20, 1<<20); !bytes.Equal(got, secret[n-base+1<<20:n-base+2<<20]) {
		t.Error("NoZero changed the slack")
	}
}

// A StagedFile of a batch that was given up writes nothing: its space may
// already be another file's. A Mapping of it made while staging faults
// rather than store there (not tested: it would kill the test).
func TestStagedFileAfterGivingUp(t *testing.T) {
	m, _ := newFS(t)
	var sf *StagedFile
	err := m.Batch(func(b *Batch) error {
		var err error
		sf, err = b.Create("x", CreateOptions{Size: 4 << 20, Mode: 0o644})
		if err != nil {
			return err
		}
		return errors.New("giving up")
	})
	if err == nil || err.Error() != "giving up" {
		t.Fatalf("Batch: %v", err)
	}
	if sf.File() != nil {
		t.Fatal("a given-up batch has a logged file")
	}
	v, err := m.Create("victim", CreateOptions{Size: 4 << 20, Mode: 0o644})
	if err != nil {
		t.Fatal(err)
	}
	for name, try := range map[string]func() error{
		"WriteAt": func() error { _, err := sf.WriteAt([]byte("stray"), 0); return err },
		"Fill":    func() error { return sf.Fill(7) },
		"ReadFrom": func() error {
			_, err := sf.ReadFrom(bytes.NewReader(make([]byte, 4<<20)))
			return err
		},
		"Map": func() error { _, err := sf.Map(); return err },
	} {
		if err := try(); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("%s after the batch was given up: %v, want ErrInvalid", name, err)
		}
	}
	b := make([]byte, 8)
	if _, err := v.ReadAt(b, 0); err != nil || !bytes.Equal(b, make([]byte, 8)) {
		t.Fatalf("the next file on that space reads % x, %v", b, err)
	}
}

// A Mapping made while a file was staged is, once the batch commits, a hold
// on the logged file like any other Map: on a file system made for delete
// its space is not reused while the mapping lives.
func TestStagedMapHoldsAfterCommit(t *testing.T) {
	m, _ := newReclaimFS(t)
	fillBut(t, m, 2)
	var mp *Mapping
	err := m.Batch(func(b *Batch) error {
		sf, err := b.Create("x", CreateOptions{Size: 2 << 20, Mode: 0o644})
		if err != nil {
			return err
		}
		if mp, err = sf.Map(); err != nil {
			return err
		}
		copy(mp.Bytes(), "staged")
		sf.MarkWritten(0, 6)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Remove([]string{"x"}, RemoveOptions{}); err != nil {
		t.Fatal(err)
	}
	// One unit is free, the deleted file's is held by the mapping.
	if _, err := m.Create("y", CreateOptions{Size: 2 << 20, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create("z", CreateOptions{Size: 2 << 20, Mode: 0o644}); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("a create onto the space a live staged mapping holds: %v, want ErrNoSpace", err)
	}
	if err := mp.Unmap(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create("z", CreateOptions{Size: 2 << 20, Mode: 0o644}); err != nil {
		t.Fatalf("create after the staged mapping ended: %v", err)
	}
}

// A clone is refused on a file system made for delete: freeing either file
// would free space the other still uses.
func TestCloneRefusedOnReclaim(t *testing.T) {
	m, _ := newReclaimFS(t)
	if _, err := m.Create("a", CreateOptions{Size: 2 << 20, Mode: 0o644}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create("b", CreateOptions{CloneOf: "a"}); !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("clone on a file system made for delete: %v, want ErrInvalid", err)
	}
	if _, err := m.Stat("b"); err == nil {
		t.Fatal("the refused clone was logged")
	}
}
