package publish

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// SetVersion rewrites the top-level "version" of a package.json (lock false) or of a
// package-lock.json (lock true: also its root package's, packages[""].version), as npm version
// --no-git-tag-version does, and leaves every other byte as it was.
func SetVersion(data []byte, version string, lock bool) ([]byte, error) {
	paths := [][]string{{"version"}}
	if lock {
		paths = append(paths, []string{"packages", "", "version"})
	}
	quoted := strconv.Quote(version)
	for _, p := range paths {
		start, end, err := findString(data, p)
		if err != nil {
			return nil, err
		}
		if start < 0 {
			if len(p) > 1 {
				continue // a lock file without packages: lockfileVersion 1
			}
			return nil, errors.New("it has no version")
		}
		data = append(append(append([]byte{}, data[:start]...), quoted...), data[end:]...)
	}
	return data, nil
}

// findString finds the string value at path in a JSON document: the offsets of its bytes, quotes
// included; -1 when there is none.
func findString(data []byte, path []string) (start, end int, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	skip := func() error { // consumes one value
		depth := 0
		for {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			if d, ok := tok.(json.Delim); ok {
				if d == '{' || d == '[' {
					depth++
				} else {
					depth--
				}
			}
			if depth == 0 {
				return nil
			}
		}
	}
	start, end = -1, -1
	for depth := 0; depth < len(path); depth++ {
		tok, err := dec.Token()
		if err != nil {
			return 0, 0, fmt.Errorf("it is not JSON: %v", err)
		}
		if d, ok := tok.(json.Delim); !ok || d != '{' {
			return -1, -1, nil
		}
		found := false
		for dec.More() {
			kt, err := dec.Token()
			if err != nil {
				return 0, 0, fmt.Errorf("it is not JSON: %v", err)
			}
			if k, _ := kt.(string); k == path[depth] {
				found = true
				break
			}
			if err := skip(); err != nil {
				return 0, 0, fmt.Errorf("it is not JSON: %v", err)
			}
		}
		if !found {
			return -1, -1, nil
		}
	}
	at := int(dec.InputOffset())
	tok, err := dec.Token()
	if err != nil {
		return 0, 0, fmt.Errorf("it is not JSON: %v", err)
	}
	if _, ok := tok.(string); !ok {
		return 0, 0, fmt.Errorf("its %q is not a string", path[len(path)-1])
	}
	return at + bytes.IndexByte(data[at:], '"'), int(dec.InputOffset()), nil
}

// WriteVersion writes version into dir's package.json, and its package-lock.json when there is one.
func WriteVersion(dir, version string) error {
	for _, f := range []struct {
		name string
		lock bool
	}{{"package.json", false}, {"package-lock.json", true}} {
		path := filepath.Join(dir, f.name)
		data, err := os.ReadFile(path)
		if errors.Is(err, os.ErrNotExist) && f.lock {
			continue
		}
		if err != nil {
			return err
		}
		out, err := SetVersion(data, version, f.lock)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			return err
		}
	}
	return nil
}
