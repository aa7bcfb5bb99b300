// Package golden loads the golden images written by the reference C famfs
// tools (testdata/famfs-c-golden): the first 10 MiB of a device (superblock
// and log), gzipped, and a JSON manifest of what was done to make it and what
// the reference tools printed about it.
//
// It only parses; the checks live in the tests that use it.
package golden

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/famfs-go/famfs/internal/alloc"
	"github.com/famfs-go/famfs/internal/units"
	"github.com/google/uuid"
)

// EnvDir names an environment variable that overrides where the golden
// images are looked for.
const EnvDir = "FAMFS_GOLDEN_DIR"

// RelDir is where the golden images live relative to the module root.
const RelDir = "testdata/famfs-c-golden"

// Umask is the umask the reference tools ran under when the images were made:
// file modes are logged with it removed (directory modes are logged as given).
const Umask = 0o022

// ImageSize is the number of device bytes each image holds.
const ImageSize = 10 << 20

// Locate returns the directory holding the golden images: $FAMFS_GOLDEN_DIR, or
// RelDir under the module root found by walking up from the working directory.
func Locate() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			g := filepath.Join(d, RelDir)
			if _, err := os.Stat(g); err != nil {
				return "", fmt.Errorf("golden images: %w", err)
			}
			return g, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", fmt.Errorf("golden images: no go.mod above %s (set %s)", wd, EnvDir)
		}
		d = p
	}
}

// Names lists the scenarios in dir (every *.manifest.json), sorted.
func Names(dir string) ([]string, error) {
	ms, err := filepath.Glob(filepath.Join(dir, "*.manifest.json"))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, m := range ms {
		names = append(names, strings.TrimSuffix(filepath.Base(m), ".manifest.json"))
	}
	sort.Strings(names)
	return names, nil
}

// Manifest is a scenario's <name>.manifest.json.
type Manifest struct {
	Scenario          string            `json:"scenario"`
	Description       string            `json:"description"`
	DevicePath        string            `json:"device_path"`
	DeviceSize        string            `json:"device_size"`
	SystemUUID        string            `json:"system_uuid"`
	MkfsOutput        string            `json:"mkfs_output"`
	Ops               []Op              `json:"ops"`
	Files             []File            `json:"files"`
	FsckRC            int               `json:"fsck_rc"`
	FsckOutput        string            `json:"fsck_output"`
	FsckVerboseOutput string            `json:"fsck_verbose_output"`
	LogplayDryrun     string            `json:"logplay_dryrun_output"`
	ShadowYAML        map[string]string `json:"shadow_yaml"`
	Superblock        struct {
		FSUUID          string `json:"fs_uuid"`
		DevUUID         string `json:"dev_uuid"`
		SystemUUID      string `json:"system_uuid"`
		AllocUnit       string `json:"alloc_unit"`
		LogLen          string `json:"log_len"`
		LogEntriesInUse string `json:"log_entries_in_use"`
	} `json:"superblock"`
	Image struct {
		File   string `json:"file"`
		Bytes  int    `json:"bytes"`
		SHA256 string `json:"sha256"`
	} `json:"image"`
}

// Op is one command the generator ran, in order. Which fields are set
// depends on Op: "mkdir", "creat", "creat_multi", "cp" or "add_daxdev".
type Op struct {
	Op        string      `json:"op"`
	Path      string      `json:"path"`
	Size      uint64      `json:"size"`
	Mode      string      `json:"mode"` // requested, octal text
	UID       uint32      `json:"uid"`
	GID       uint32      `json:"gid"`
	Parents   bool        `json:"parents"`
	Seed      *uint64     `json:"seed"`
	ExtraArgs []string    `json:"extra_args"`
	Src       string      `json:"src"`
	SrcSHA256 string      `json:"src_sha256"`
	Files     []MultiFile `json:"files"` // creat_multi
	DDSize    uint64      `json:"dd_size"`
	DDUUID    string      `json:"dd_uuid"`
	DDIndex   uint32      `json:"dd_index"`
	Cmd       string      `json:"cmd"`
	RC        int         `json:"rc"`
	Output    string      `json:"output"`
}

// MultiFile is one file of a creat_multi op.
type MultiFile struct {
	Path string `json:"path"`
	Size uint64 `json:"size"`
	Seed uint64 `json:"seed"`
}

// File is one file the scenario made, with its content's digest.
type File struct {
	Path       string  `json:"path"`
	Size       uint64  `json:"size"`
	Mode       string  `json:"mode"` // requested, octal text
	UID        uint32  `json:"uid"`
	GID        uint32  `json:"gid"`
	Seed       *uint64 `json:"seed"`
	DataSHA256 string  `json:"data_sha256"`
}

// Scenario is a loaded golden image and its manifest.
type Scenario struct {
	Name string
	Manifest
	Image []byte // the first ImageSize bytes of the device, decompressed

	DevSize                     uint64
	FSUUID, DevUUID, SystemUUID uuid.UUID
	AllocUnit, LogLen           uint64
	EntriesInUse, EntriesTotal  uint64
}

// Load reads scenario name from dir, decompresses its image and checks it
// against the manifest's size and sha256.
func Load(dir, name string) (*Scenario, error) {
	s := &Scenario{Name: name}
	raw, err := os.ReadFile(filepath.Join(dir, name+".manifest.json"))
	if err != nil {
		return nil, err
	}
	// Fields this package does not use (timings, rc of tools not rerun) are
	// ignored.
	if err := json.Unmarshal(raw, &s.Manifest); err != nil {
		return nil, fmt.Errorf("%s manifest: %w", name, err)
	}
	if s.Scenario != name {
		return nil, fmt.Errorf("%s manifest names scenario %q", name, s.Scenario)
	}
	if s.DevSize, err = ParseSize(s.DeviceSize); err != nil {
		return nil, fmt.Errorf("%s manifest: device_size: %w", name, err)
	}
	sb := &s.Manifest.Superblock
	for _, u := range []struct {
		dst *uuid.UUID
		txt string
	}{{&s.FSUUID, sb.FSUUID}, {&s.DevUUID, sb.DevUUID}, {&s.SystemUUID, sb.SystemUUID}} {
		if *u.dst, err = uuid.Parse(u.txt); err != nil {
			return nil, fmt.Errorf("%s manifest: %w", name, err)
		}
	}
	if s.SystemUUID.String() != s.Manifest.SystemUUID {
		return nil, fmt.Errorf("%s manifest: system_uuid %s and superblock.system_uuid %s differ", name, s.Manifest.SystemUUID, s.SystemUUID)
	}
	if s.AllocUnit, err = strconv.ParseUint(sb.AllocUnit, 0, 64); err != nil {
		return nil, fmt.Errorf("%s manifest: alloc_unit: %w", name, err)
	}
	if s.LogLen, err = strconv.ParseUint(sb.LogLen, 0, 64); err != nil {
		return nil, fmt.Errorf("%s manifest: log_len: %w", name, err)
	}
	if _, err := fmt.Sscanf(sb.LogEntriesInUse, "%d of %d", &s.EntriesInUse, &s.EntriesTotal); err != nil {
		return nil, fmt.Errorf("%s manifest: log_entries_in_use %q: %w", name, sb.LogEntriesInUse, err)
	}
	if s.Image, err = gunzip(filepath.Join(dir, s.Manifest.Image.File)); err != nil {
		return nil, fmt.Errorf("%s image: %w", name, err)
	}
	if len(s.Image) != s.Manifest.Image.Bytes || len(s.Image) != ImageSize {
		return nil, fmt.Errorf("%s image: %d bytes, manifest says %d", name, len(s.Image), s.Manifest.Image.Bytes)
	}
	if sum := sha256.Sum256(s.Image); hex.EncodeToString(sum[:]) != s.Manifest.Image.SHA256 {
		return nil, fmt.Errorf("%s image: sha256 %x, manifest says %s", name, sum, s.Manifest.Image.SHA256)
	}
	return s, nil
}

func gunzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(z, ImageSize+1))
	if err != nil {
		return nil, err
	}
	return b, z.Close()
}

// ParseSize parses a manifest size ("4G", "2M", "8388608") as the
// reference CLI accepts them.
func ParseSize(s string) (uint64, error) { return units.ParseSize(s) }

// ParseMode parses an octal mode ("0644").
func ParseMode(s string) (uint32, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		return 0, fmt.Errorf("mode %q: %w", s, err)
	}
	if m > 0o7777 {
		return 0, fmt.Errorf("mode %q: not permission bits", s)
	}
	return uint32(m), nil
}

// LoggedMode is the file mode the reference logs for a requested mode.
func LoggedMode(requested uint32) uint32 { return requested &^ Umask }

// Interleave returns the interleave parameters of a creat or cp op's
// -N/-B/-C (or --nstrips/--nbuckets/--chunksize) arguments; the zero value if
// it has none. Giving any of them turns striping on with a 2 MiB default chunk,
// as the reference CLI does.
func (o *Op) Interleave() (alloc.Interleave, error) {
	var p alloc.Interleave
	args := o.ExtraArgs
	for i := 0; i < len(args); i++ {
		var dst *uint64
		switch args[i] {
		case "-N", "--nstrips":
			dst = &p.NStrips
		case "-B", "--nbuckets":
			dst = &p.NBuckets
		case "-C", "--chunksize":
			dst = &p.ChunkSize
		default:
			return p, fmt.Errorf("op %s: unknown argument %q", o.Op, args[i])
		}
		if i+1 == len(args) {
			return p, fmt.Errorf("op %s: %s needs a value", o.Op, args[i])
		}
		i++
		v, err := ParseSize(args[i])
		if err != nil {
			return p, fmt.Errorf("op %s: %s %q: %w", o.Op, args[i-1], args[i], err)
		}
		*dst = v
	}
	if p.Enabled() && p.ChunkSize == 0 {
		p.ChunkSize = 2 << 20
	}
	return p, nil
}

// Dir is a directory a scenario's ops made.
type Dir struct {
	Path     string
	Mode     uint32 // as logged: directory modes are not umask-masked
	UID, GID uint32
}

// Dirs lists the directories the ops make, in log order: mkdir -p logs each
// missing component top down with the leaf's mode and owner (docs/format.md,
// "MKDIR").
func Dirs(ops []Op) ([]Dir, error) {
	var out []Dir
	have := map[string]bool{}
	for _, o := range ops {
		if o.Op != "mkdir" {
			continue
		}
		mode, err := ParseMode(o.Mode)
		if err != nil {
			return nil, err
		}
		comps := strings.Split(o.Path, "/")
		for k := range comps {
			p := strings.Join(comps[:k+1], "/")
			last := k == len(comps)-1
			if have[p] {
				if last {
					return nil, fmt.Errorf("mkdir %s: exists", p)
				}
				continue
			}
			if !last && !o.Parents {
				return nil, fmt.Errorf("mkdir %s: parent %s missing", o.Path, p)
			}
			have[p] = true
			out = append(out, Dir{Path: p, Mode: mode, UID: o.UID, GID: o.GID})
		}
	}
	return out, nil
}

// ErrNoDevsize is returned by MkfsFsckText when the mkfs output lacks the
// "devsize:" line the fsck summary follows.
var ErrNoDevsize = errors.New("mkfs output has no devsize line")

// MkfsFsckText returns the fsck summary mkfs printed: the lines after
// "devsize: ...".
func (m *Manifest) MkfsFsckText() (string, error) {
	const tag = "\ndevsize: "
	i := strings.Index("\n"+m.MkfsOutput, tag)
	if i < 0 {
		return "", ErrNoDevsize
	}
	rest := m.MkfsOutput[i+len(tag)-1:]
	j := strings.IndexByte(rest, '\n')
	if j < 0 {
		return "", ErrNoDevsize
	}
	return rest[j+1:], nil
}

// MkfsDevsize returns the number on mkfs's "devsize:" line.
func (m *Manifest) MkfsDevsize() (uint64, error) {
	for _, l := range strings.Split(m.MkfsOutput, "\n") {
		if v, ok := strings.CutPrefix(l, "devsize: "); ok {
			return strconv.ParseUint(v, 10, 64)
		}
	}
	return 0, ErrNoDevsize
}

// ExpandDev replaces the generator's $DEV placeholder with dev.
func ExpandDev(text, dev string) string { return strings.ReplaceAll(text, "$DEV", dev) }
