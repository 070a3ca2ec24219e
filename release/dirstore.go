package release

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"github.com/google/renameio/v2"
)

// DirStore keeps records as JSON files in a directory, one directory per environment: DIR/ENV/N.json.
// A lock file per environment serialises Create across processes.
type DirStore struct {
	Dir string
}

var envName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

func (s DirStore) envDir(env string) (string, error) {
	if !envName.MatchString(env) {
		return "", &InputError{Option: "release.Env", Msg: fmt.Sprintf("%q is not an environment name (lower-case letters, digits, ., _ and -)", env)}
	}
	return filepath.Join(s.Dir, env), nil
}

// Create implements Store.
func (s DirStore) Create(ctx context.Context, r *Record, scheme Scheme) error {
	dir, err := s.envDir(r.Env)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	lock := flock.New(filepath.Join(dir, ".lock"))
	locked, err := lock.TryLockContext(ctx, 10*time.Millisecond)
	if err != nil || !locked {
		return fmt.Errorf("locking the releases of %s: %w", r.Env, err)
	}
	defer lock.Unlock() //nolint:errcheck // closing releases it too
	prior, err := s.List(ctx, r.Env)
	if err != nil {
		return err
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now().UTC()
	}
	if err := next(r, scheme, prior); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return renameio.WriteFile(filepath.Join(dir, strconv.Itoa(r.Number)+".json"), append(data, '\n'), 0o644)
}

// List implements Store.
func (s DirStore) List(_ context.Context, env string) ([]Record, error) {
	dir, err := s.envDir(env)
	if err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", dir, err)
	}
	var out []Record
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		var r Record
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("reading %s: %w", filepath.Join(dir, e.Name()), err)
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Record) int { return cmp.Compare(b.Number, a.Number) })
	return out, nil
}
