package famfs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
)

// systemUUIDFile is where the host identity lives, as in the reference.
const systemUUIDFile = "/opt/famfs/system_uuid"

// SystemUUIDEnv overrides the host identity, so one machine can play several
// hosts (each process with its own value).
const SystemUUIDEnv = "FAMFS_SYSTEM_UUID"

// SystemUUID returns this host's identity: $FAMFS_SYSTEM_UUID if set, else
// the UUID in /opt/famfs/system_uuid, which is created (a random UUID, mode
// 0444, written as the reference writes it) if it does not exist. A set but
// invalid $FAMFS_SYSTEM_UUID is an error wrapping ErrBadSystemUUID.
func SystemUUID() (uuid.UUID, error) {
	if u, err := SystemUUIDFromEnv(); u != uuid.Nil || err != nil {
		return u, err
	}
	return systemUUIDFrom(systemUUIDFile)
}

// SystemUUIDFromEnv returns the identity $FAMFS_SYSTEM_UUID sets: uuid.Nil
// and no error when it is unset or empty, an error naming the variable and
// wrapping ErrBadSystemUUID when it is not a UUID. Commands check it before
// they do anything, so a mistyped identity never turns a master into a
// client.
func SystemUUIDFromEnv() (uuid.UUID, error) {
	v := os.Getenv(SystemUUIDEnv)
	if v == "" {
		return uuid.Nil, nil
	}
	u, err := uuid.Parse(strings.TrimSpace(v))
	if err != nil {
		return uuid.Nil, fmt.Errorf("%s=%q: %w (%v); unset it or set it to a UUID (as uuidgen prints one)", SystemUUIDEnv, v, ErrBadSystemUUID, err)
	}
	if u == uuid.Nil {
		return uuid.Nil, fmt.Errorf("%s=%q: %w (the nil UUID identifies no host)", SystemUUIDEnv, v, ErrBadSystemUUID)
	}
	return u, nil
}

func systemUUIDFrom(path string) (uuid.UUID, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return createSystemUUID(path)
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("system UUID: %w", err)
	}
	// The reference writes the 36-character text and a NUL; accept a newline
	// or other whitespace too, and either case.
	tok := strings.Fields(string(bytes.TrimRight(b, "\x00")))
	if len(tok) == 0 {
		return uuid.Nil, fmt.Errorf("system UUID: %s is empty", path)
	}
	u, err := uuid.Parse(strings.TrimRight(tok[0], "\x00"))
	if err != nil {
		return uuid.Nil, fmt.Errorf("system UUID: %s: %w", path, err)
	}
	return u, nil
}

func createSystemUUID(path string) (uuid.UUID, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return uuid.Nil, fmt.Errorf("system UUID: %w", err)
	}
	u := uuid.New()
	data := append([]byte(u.String()), 0)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o444)
	if os.IsExist(err) { // another process won the race
		return systemUUIDFrom(path)
	}
	if err != nil {
		return uuid.Nil, fmt.Errorf("system UUID: %w", err)
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return uuid.Nil, fmt.Errorf("system UUID: write %s: %w", path, err)
	}
	return u, nil
}
