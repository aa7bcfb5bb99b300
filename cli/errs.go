package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"regexp"
	"strings"

	famfs "github.com/famfs-go/famfs"
)

// explained is a library error reworded for the user; errors.Is and As
// still see the original.
type explained struct {
	msg string
	err error
}

func (e *explained) Error() string { return e.msg }
func (e *explained) Unwrap() error { return e.err }

// unwrapPathErr drops the library's "op path:" prefix when the command
// prints the path itself, and words what is left as explain does.
func unwrapPathErr(err error) error { return explain(err, nil) }

// pathErr is err about the path p, named as the user typed it.
func pathErr(p fpath, err error) error {
	return &explained{msg: p.arg + ": " + explain(err, &p).Error(), err: err}
}

// Library phrasings of a missing directory, naming it relative to the mount.
var (
	missingParent = regexp.MustCompile(`parent directory (\S+) does not exist`)
	missingDir    = regexp.MustCompile(`directory ("(?:[^"\\]|\\.)*") does not exist`)
	// the log's path rule, as the library words it (famfs.ErrBadPath)
	relpathRule = regexp.MustCompile(`path: relpath: ("(?:[^"\\]|\\.)*") is (\d+) bytes, the limit is (\d+)`)
)

// explain words a library error for a message that already names the path
// the user typed (p, when known): without the library's "op path:" prefix,
// without a "file does not exist:" before the reason, with the log's path
// rule said once, and with directories the library names relative to the
// mount named as the user would have typed them.
func explain(err error, p *fpath) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	msg := err.Error()
	msg = relpathRule.ReplaceAllStringFunc(msg, func(m string) string {
		sm := relpathRule.FindStringSubmatch(m)
		var rel string
		fmt.Sscanf(sm[1], "%q", &rel)
		if p != nil && p.rel == rel {
			return fmt.Sprintf("%s bytes relative to the mount; the limit is %s", sm[2], sm[3])
		}
		if p != nil && p.mount != nil {
			rel = p.typedAncestor(rel)
		}
		return fmt.Sprintf("%s is %s bytes relative to the mount; the limit is %s", rel, sm[2], sm[3])
	})
	msg = strings.Replace(msg, "path: relpath: ", "", 1)
	if errors.Is(err, famfs.ErrNotExist) {
		if msg == fs.ErrNotExist.Error() {
			msg = "no such file or directory"
		}
		msg = strings.TrimPrefix(msg, fs.ErrNotExist.Error()+": ")
	}
	if p != nil && p.mount != nil {
		msg = missingParent.ReplaceAllStringFunc(msg, func(m string) string {
			rel := missingParent.FindStringSubmatch(m)[1]
			return fmt.Sprintf("parent directory %s does not exist", p.typedAncestor(rel))
		})
		msg = missingDir.ReplaceAllStringFunc(msg, func(m string) string {
			var rel string
			fmt.Sscanf(missingDir.FindStringSubmatch(m)[1], "%q", &rel)
			return fmt.Sprintf("directory %s does not exist", p.typedAncestor(rel))
		})
	}
	if msg == err.Error() && pe == nil {
		return err
	}
	return &explained{msg: msg, err: err}
}

// typedAncestor names rel, an ancestor of p relative to the mount, the way
// the user typed p: "a/b/c" typed as "/mnt/famfs/a/b/c" makes "a" read
// "/mnt/famfs/a".
func (p fpath) typedAncestor(rel string) string {
	rel = strings.Trim(rel, "/")
	if rel == "" || p.rel != rel && !strings.HasPrefix(p.rel, rel+"/") {
		return rel
	}
	t := filepath.Clean(p.arg)
	for range strings.Count(p.rel[len(rel):], "/") {
		t = filepath.Dir(t)
	}
	return t
}

// typedPathErr names the path of a library *fs.PathError as the user typed
// it, when it is one of ps.
func typedPathErr(err error, ps ...fpath) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		for _, p := range ps {
			if p.rel == pe.Path {
				return pathErr(p, pe.Err)
			}
		}
	}
	return explain(err, nil)
}
