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

// List implements Store. A file that is not a sealed record of the environment is reported damaged.
func (s DirStore) List(_ context.Context, env string) (Listing, error) {
	var l Listing
	dir, err := s.envDir(env)
	if err != nil {
		return l, err
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return l, nil
	}
	if err != nil {
		return l, fmt.Errorf("reading %s: %w", dir, err)
	}
	for _, e := range entries {
		n, err := strconv.Atoi(strings.TrimSuffix(e.Name(), ".json"))
		if !strings.HasSuffix(e.Name(), ".json") || err != nil || n < 1 {
			continue
		}
		l.Highest = max(l.Highest, n)
		path := filepath.Join(dir, e.Name())
		data, err := os.ReadFile(path)
		if err != nil {
			return l, fmt.Errorf("reading %s: %w", path, err)
		}
		var r Record
		if err := json.Unmarshal(data, &r); err != nil {
			l.Damaged = append(l.Damaged, &DamagedError{Where: path, Number: n, Problem: "it is not a release record: " + err.Error()})
			continue
		}
		if d := verify(&r, path, env, n); d != nil {
			l.Damaged = append(l.Damaged, d)
			continue
		}
		l.Records = append(l.Records, r)
	}
	slices.SortFunc(l.Records, func(a, b Record) int { return cmp.Compare(b.Number, a.Number) })
	slices.SortFunc(l.Damaged, func(a, b *DamagedError) int { return cmp.Compare(b.Number, a.Number) })
	return l, nil
}

// Environments implements Store: the directories of the store that hold releases.
func (s DirStore) Environments(context.Context) ([]string, error) {
	entries, err := os.ReadDir(s.Dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", s.Dir, err)
	}
	var envs []string
	for _, e := range entries {
		if e.IsDir() && envName.MatchString(e.Name()) {
			envs = append(envs, e.Name())
		}
	}
	return envs, nil
}
