// Package gomod checks the go.mod that governs a directory before the go command runs there, so that a
// broken file is reported as the user's input error at its line (exit 2), not as failed tests or a failed
// build (exit 1).
package gomod

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/mod/modfile"
)

// Error is a go.mod that the go command would refuse: the file, the line, and what is wrong there.
type Error struct {
	File string
	Line int // 0 when the problem has no line (the file cannot be read)
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// InputError says that the problem is the user's to fix.
func (e *Error) InputError() bool { return true }

// Check parses the go.mod of dir's module (dir's own, or the nearest above it) with the go command's own
// parser. It returns nil when the file parses or when there is none (the go command then says why).
func Check(dir string) error {
	path, err := find(dir)
	if path == "" {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", unwrap(err))}
	}
	if _, err := modfile.Parse(path, data, nil); err != nil {
		var list modfile.ErrorList
		if errors.As(err, &list) && len(list) > 0 {
			first := list[0]
			return &Error{File: path, Line: first.Pos.Line, Msg: first.Err.Error()}
		}
		return &Error{File: path, Msg: err.Error()}
	}
	return nil
}

// find is the go.mod nearest to dir, walking up; "" when there is none.
func find(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("finding go.mod above %s: %w", dir, err)
	}
	for d, rel := abs, dir; ; d, rel = filepath.Dir(d), filepath.Join(rel, "..") {
		if info, err := os.Stat(filepath.Join(d, "go.mod")); err == nil && !info.IsDir() {
			return filepath.Join(rel, "go.mod"), nil
		}
		if filepath.Dir(d) == d {
			return "", nil
		}
	}
}

func unwrap(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
