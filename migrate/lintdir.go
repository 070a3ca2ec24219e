package migrate

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"

	"github.com/shipyardci/shipyard/internal/usererr"
)

// LintOptions say which migrations LintDir reads and for which database.
type LintOptions struct {
	// Dir is the migrations directory as the repository names it (migrations): the problems name their
	// files under it, the same in text, JSON and annotations.
	Dir string
	// Root is what a relative Dir, Files and SQLite path are relative to ("" for the working directory).
	Root string
	// Files are the files of Dir to read (paths, or names in Dir); none means every file.
	Files []string
	// Dialect is the database the rules are for; "" takes Database's kind, and with no Database every
	// rule applies.
	Dialect Dialect
	// Database is the configured database URL, or "". Nothing connects to it.
	Database string
}

// LintDir reads the migrations directory of o for dangerous operations (Lint), and names each problem's
// file under o.Dir.
func LintDir(o LintOptions) ([]Problem, error) {
	dialect, err := lintDialect(o)
	if err != nil {
		return nil, err
	}
	fsys, err := OpenDir(o.Root, o.Dir)
	if err != nil {
		return nil, err
	}
	src, err := ReadSource(fsys)
	if err != nil {
		return nil, err
	}
	files, err := src.fileNames(o.Dir, o.Files)
	if err != nil {
		return nil, err
	}
	problems, err := Lint(src, dialect, files...)
	for i, p := range problems {
		problems[i].File = filepath.ToSlash(filepath.Join(o.Dir, p.File))
	}
	return problems, err
}

// lintDialect is o.Dialect, else the kind of o.Database, else "" (every rule).
func lintDialect(o LintOptions) (Dialect, error) {
	switch o.Dialect {
	case Postgres, MySQL, SQLite:
		return o.Dialect, nil
	case "":
	default:
		return "", &usererr.Error{Option: "migrate.Dialect", Err: fmt.Errorf("%q is not postgres, mysql or sqlite", string(o.Dialect))}
	}
	if o.Database == "" {
		return "", nil
	}
	t, err := ParseURL(o.Database, o.Root)
	if err != nil {
		return "", err
	}
	return t.Dialect, nil
}

// fileNames maps paths of files of the directory dir to the file names of its migrations.
func (s *Source) fileNames(dir string, paths []string) ([]string, error) {
	var known []string
	for _, m := range s.Migrations {
		known = append(known, m.Up)
		if m.Down != "" {
			known = append(known, m.Down)
		}
	}
	var files []string
	for _, p := range paths {
		name := filepath.Base(p)
		if !slices.Contains(known, name) {
			return nil, &usererr.Error{Err: fmt.Errorf("%s is not a migration file of %s", p, dir)}
		}
		files = append(files, name)
	}
	return files, nil
}

// DirError is a migrations directory that is not there.
type DirError struct{ Dir string }

func (e *DirError) Error() string { return e.Dir + " is not a directory of migrations" }

// InputError says that the directory is the user's to fix: the command exits 2.
func (e *DirError) InputError() bool { return true }

// InputOption is the option that names the directory.
func (e *DirError) InputOption() string { return "migrate.Dir" }

// OpenDir is the migrations directory dir (relative to root unless absolute) as a file system, or a
// DirError naming dir when it is not a directory.
func OpenDir(root, dir string) (fs.FS, error) {
	path := dir
	if !filepath.IsAbs(dir) {
		path = filepath.Join(root, dir)
	}
	if info, err := os.Stat(path); err != nil || !info.IsDir() {
		return nil, &DirError{Dir: dir}
	}
	return os.DirFS(path), nil
}
