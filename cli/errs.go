package cli

import (
	"errors"
	"io/fs"
)

// unwrapPathErr drops the library's "op path:" prefix when the command
// prints the path itself.
func unwrapPathErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
