package migrate

import (
	"errors"
	"fmt"
	"io"
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
	version, err := nextVersion(dir, o)
	if err != nil {
		return nil, err
	}
	var paths []string
	for _, direction := range []string{"up", "down"} {
		p := filepath.Join(dir, fmt.Sprintf("%s_%s.%s.sql", version, title, direction))
		if err := writeNew(p, fmt.Sprintf("-- %s: %s\n", direction, name)); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	return paths, nil
}

// nextVersion is the version of a new migration in dir: a timestamp, or the one after the last.
func nextVersion(dir string, o CreateOptions) (string, error) {
	if !o.Sequential {
		return o.Now.UTC().Format("20060102150405"), nil
	}
	src, err := ReadSource(os.DirFS(dir))
	if err != nil {
		return "", err
	}
	next := uint64(1)
	if n := len(src.Migrations); n > 0 {
		next = src.Migrations[n-1].Version + 1
	}
	return fmt.Sprintf("%06d", next), nil
}

// CreatePhase writes a part of a live migration called name in dir and returns the paths it wrote:
// expand makes the directory {version}_{name}/ with expand.up.sql and expand.down.sql; backfill adds
// backfill.yaml and contract adds contract.up.sql and contract.down.sql to the newest live migration of
// that name. It never overwrites a file.
func CreatePhase(dir, name string, p Phase, o CreateOptions) ([]string, error) {
	title := slug(name)
	if title == "" {
		return nil, fmt.Errorf("migration name %q has no letters or digits", name)
	}
	var live string
	if p == PhaseExpand {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", dir, err)
		}
		version, err := nextVersion(dir, o)
		if err != nil {
			return nil, err
		}
		live = filepath.Join(dir, version+"_"+title)
		if err := os.Mkdir(live, 0o755); err != nil {
			return nil, fmt.Errorf("creating %s: %w", live, err)
		}
	} else {
		src, err := ReadSource(os.DirFS(dir))
		if err != nil {
			return nil, err
		}
		for _, m := range src.Migrations {
			if m.Live != nil && m.Live.Operation == nil && m.Name == title {
				live = filepath.Join(dir, m.Live.Dir)
			}
		}
		if live == "" {
			return nil, &FileError{File: dir, Msg: fmt.Sprintf("no live migration %s: write its expand part first (%s)", title, expandUpFile)}
		}
	}
	var paths []string
	for _, part := range phaseTemplates[p] {
		path := filepath.Join(live, part.file)
		if err := writeNew(path, fmt.Sprintf(part.body, name)); err != nil {
			return paths, err
		}
		paths = append(paths, path)
	}
	return paths, nil
}

// phaseTemplates are the files create writes for each phase: what goes there, as comments.
var phaseTemplates = map[Phase][]struct{ file, body string }{
	PhaseExpand: {
		{expandUpFile, "-- expand: %s\n-- Runs before the deploy, while the old service still serves: only add (new columns, tables,\n-- indexes built CONCURRENTLY, triggers that write both shapes, constraints NOT VALID).\n"},
		{expandDownFile, "-- expand down: %s\n-- Undoes expand.up.sql (migrate rollback): drop what it added, with IF EXISTS.\n"},
	},
	PhaseBackfill: {
		{backfillFile, "# backfill: %s\n# The rows that existed before expand, in batches by key: UPDATE table SET … WHERE key in the batch.\ntable: TABLE\nkey: id\nset:\n  new_column: old_column\nwhere: new_column IS NULL\nbatch_size: 1000\n"},
	},
	PhaseContract: {
		{contractUpFile, "-- contract: %s\n-- Runs once every instance runs the new code: drop the old shape and the triggers, validate\n-- constraints, SET NOT NULL after a validated CHECK.\n"},
		{contractDownFile, "-- contract down: %s\n-- Brings back what contract.up.sql dropped (migrate down runs it before expand.down.sql).\n"},
	},
}

// writeNew creates path with body, refusing to overwrite it.
func writeNew(path, body string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists already: nothing was overwritten", path)
	}
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	_, err = io.WriteString(f, body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
