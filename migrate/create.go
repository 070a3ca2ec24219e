package migrate

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// CreateOptions says how a new migration is numbered.
type CreateOptions struct {
	// Sequential numbers 000001, 000002, … instead of timestamps (golang-migrate's -seq -digits 6).
	Sequential bool
	// Now stamps timestamp versions (UTC, 20060102150405).
	Now time.Time
}

// Create writes an empty up and down file for a migration called name in dir and returns their paths.
// It never overwrites a file.
func Create(dir, name string, o CreateOptions) ([]string, error) {
	title := slug(name)
	if title == "" {
		return nil, fmt.Errorf("migration name %q has no letters or digits", name)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	version := o.Now.UTC().Format("20060102150405")
	if o.Sequential {
		src, err := ReadSource(os.DirFS(dir))
		if err != nil {
			return nil, err
		}
		next := uint64(1)
		if n := len(src.Migrations); n > 0 {
			next = src.Migrations[n-1].Version + 1
		}
		version = fmt.Sprintf("%06d", next)
	}
	var paths []string
	for _, direction := range []string{"up", "down"} {
		p := filepath.Join(dir, fmt.Sprintf("%s_%s.%s.sql", version, title, direction))
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if errors.Is(err, fs.ErrExist) {
			return paths, fmt.Errorf("%s exists already: nothing was overwritten", p)
		}
		if err != nil {
			return paths, fmt.Errorf("creating %s: %w", p, err)
		}
		_, err = fmt.Fprintf(f, "-- %s: %s\n", direction, name)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return paths, fmt.Errorf("writing %s: %w", p, err)
		}
		paths = append(paths, p)
	}
	return paths, nil
}
