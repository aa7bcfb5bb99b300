package mount

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	famfs "github.com/famfs-go/famfs"
	"github.com/famfs-go/famfs/mount/internal/guard"
	"github.com/google/uuid"
)

// CacheMode chooses how the kernel caches file data of the mount.
type CacheMode string

const (
	// CacheDirect: every read and write goes to the daemon (FOPEN_DIRECT_IO);
	// a read always sees the device as it is at that moment. mmap works
	// (through the page cache of this mount) on kernels with
	// FUSE_DIRECT_IO_ALLOW_MMAP (6.6+).
	CacheDirect CacheMode = "direct"
	// CacheOpen: the kernel page cache is used but dropped at every open, so
	// a file opened after another host wrote it sees the new data
	// (close-to-open).
	CacheOpen CacheMode = "open"
	// CacheKeep: the page cache is kept across opens; only the local master's
	// CLI drops it (famfs cp/creat over an existing file). Fastest re-reads,
	// weakest freshness.
	CacheKeep CacheMode = "keep"
)

// Coherence chooses whether the daemon flushes and invalidates CPU caches
// around data it copies (needed on non-coherent shared memory).
type Coherence string

const (
	CoherenceAuto Coherence = "auto" // on for dax devices, off for files
	CoherenceOn   Coherence = "on"
	CoherenceOff  Coherence = "off"
)

// Options configure a mount.
type Options struct {
	Device     string // device path (the mount's source in /proc/mounts)
	Mountpoint string // absolute mount point

	SystemUUID uuid.UUID // host identity; default famfs.SystemUUID()

	ReadWrite bool // a client mount may write file data (-o rw)
	ReadOnly  bool // no data writes even on the master (-o ro)

	AllowOther         bool // let every user in (default)
	DefaultPermissions bool // the kernel checks mode/uid/gid (default)

	Cache        CacheMode
	Coherence    Coherence
	PollInterval time.Duration // log header poll; DefaultPollInterval (also when zero)
	Timeout      time.Duration // kernel entry/attribute cache; DefaultTimeout (invalidated on change)
	// Lease (-o lease=SECONDS), on a file system made for delete: the
	// master leaves this daemon out of its reckoning when its heartbeat is
	// older, and the daemon stops serving data when it finds it was not
	// running for that long (docs/delete.md). Zero: never expires.
	Lease time.Duration

	// ZeroCopyGroup names a group whose members get device descriptors
	// from the grant socket (-o zerocopy_group=NAME); empty: only users who
	// may open the device themselves.
	ZeroCopyGroup string

	Debug  bool
	Logger *slog.Logger
	Level  *slog.LevelVar
}

// DefaultOptions returns the defaults.
func DefaultOptions() Options {
	return Options{
		AllowOther:         true,
		DefaultPermissions: true,
		Cache:              CacheDirect,
		Coherence:          CoherenceAuto,
		PollInterval:       DefaultPollInterval,
		Timeout:            DefaultTimeout,
	}
}

// ignoredOptions are fstab/mount(8) habits that mean nothing to famfs.
var ignoredOptions = map[string]bool{
	"defaults": true, "nofail": true, "_netdev": true, "auto": true, "noauto": true,
	"user": true, "users": true, "nouser": true, "owner": true, "group": true,
	"noatime": true, "relatime": true, "atime": true, "nodiratime": true, "strictatime": true,
	"nosuid": true, "nodev": true, "noexec": true, "suid": true, "dev": true, "exec": true,
	"async": true, "sync": true, "lazytime": true, "nolazytime": true,
}

// ParseOptions applies a mount(8)-style -o list to o.
func (o *Options) ParseOptions(list string) error {
	for _, opt := range strings.Split(list, ",") {
		opt = strings.TrimSpace(opt)
		if opt == "" || ignoredOptions[opt] || strings.HasPrefix(opt, "x-") || strings.HasPrefix(opt, "comment=") {
			continue
		}
		key, val, hasVal := strings.Cut(opt, "=")
		if !hasVal && (key == "cache" || key == "coherence" || key == "poll" || key == "timeout") {
			return fmt.Errorf("mount option %q needs a value", key)
		}
		var err error
		switch key {
		case "rw":
			o.ReadWrite, o.ReadOnly = true, false
		case "ro":
			o.ReadOnly, o.ReadWrite = true, false
		case "allow_other":
			o.AllowOther = true
		case "noallow_other":
			o.AllowOther = false
		case "default_permissions":
			o.DefaultPermissions = true
		case "nodefault_permissions":
			o.DefaultPermissions = false
		case "debug":
			o.Debug = true
		case "cache":
			switch CacheMode(val) {
			case CacheDirect, CacheOpen, CacheKeep:
				o.Cache = CacheMode(val)
			default:
				err = fmt.Errorf("cache=%s: use direct, open or keep", val)
			}
		case "coherence":
			switch Coherence(val) {
			case CoherenceAuto, CoherenceOn, CoherenceOff:
				o.Coherence = Coherence(val)
			default:
				err = fmt.Errorf("coherence=%s: use auto, on or off", val)
			}
		case "poll":
			err = parseDuration(&o.PollInterval, key, val, time.Millisecond, MinPollInterval, MaxPollInterval)
		case "timeout":
			err = parseDuration(&o.Timeout, key, val, time.Second, 0, MaxTimeout)
		case "lease":
			err = parseDuration(&o.Lease, key, val, time.Second, MinLease, MaxTimeout)
		case "zerocopy_group":
			o.ZeroCopyGroup = val
			if !hasVal || val == "" {
				err = fmt.Errorf("mount option %q needs a group name", key)
			} else {
				_, err = guard.LookupGroup(val)
			}
		default:
			err = fmt.Errorf("unknown mount option %q", opt)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// Bounds of the numeric options, inclusive.
const (
	// MinLease: a lease must outlast several heartbeats.
	MinLease = 5 * famfs.HeartbeatInterval
	// DefaultPollInterval is how often the daemon looks at the log header.
	DefaultPollInterval = 2 * time.Millisecond
	MinPollInterval     = 100 * time.Microsecond // below, polling costs a core
	MaxPollInterval     = 24 * time.Hour         // in effect: no polling, logplay replays
	DefaultTimeout      = time.Hour
	MaxTimeout          = 24 * time.Hour // entries are invalidated on change anyway
)

// parseDuration reads the value of the numeric option key: a bare number in
// unit (poll=5 is 5 ms, timeout=30 is 30 s; fractions allowed) or a Go
// duration ("5ms", "1h"), and stores it in dst. The value must lie in
// [lo, hi]: "inf", "nan", negative values and values too large for a duration
// are refused, with an error naming the option and the range, and dst is left
// as it was.
func parseDuration(dst *time.Duration, key, s string, unit, lo, hi time.Duration) error {
	bad := func() error {
		inUnit := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/float64(unit), 'f', -1, 64) }
		return fmt.Errorf("mount option %s=%s: want a number of %s from %s to %s, or a duration from %s to %s",
			key, s, unitName(unit), inUnit(lo), inUnit(hi), shortDuration(lo), shortDuration(hi))
	}
	var d time.Duration
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		// Compare in the unit before converting: inf, nan and 1e300 would
		// overflow (to a negative duration) in the conversion.
		if !(n >= float64(lo)/float64(unit) && n <= float64(hi)/float64(unit)) {
			return bad()
		}
		d = time.Duration(n * float64(unit))
	} else if d, err = time.ParseDuration(s); err != nil {
		return bad()
	}
	if d < lo || d > hi {
		return bad()
	}
	*dst = d
	return nil
}

// shortDuration prints d without zero minutes and seconds ("24h", not
// "24h0m0s").
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func unitName(unit time.Duration) string {
	switch unit {
	case time.Millisecond:
		return "milliseconds"
	case time.Second:
		return "seconds"
	}
	return unit.String()
}
