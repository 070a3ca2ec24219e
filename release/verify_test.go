package release

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordFields are the JSON names of every field of a Record.
func recordFields(t *testing.T) []string {
	t.Helper()
	var names []string
	rt := reflect.TypeOf(Record{})
	for i := range rt.NumField() {
		name, _, _ := strings.Cut(rt.Field(i).Tag.Get("json"), ",")
		require.NotEmpty(t, name, rt.Field(i).Name)
		names = append(names, name)
	}
	require.Len(t, names, 15, "a new field of Record joins this test by itself")
	return names
}

// tampered is a different value for a record field, of the type its JSON has.
func tampered(field string, v any) any {
	switch v := v.(type) {
	case string:
		if field == "created_at" {
			return time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Format(time.RFC3339)
		}
		if field == "image" {
			return "evil.example.com/api@" + strings.Repeat("e", 64)
		}
		return v + "x"
	case float64:
		return v + 1
	case map[string]any:
		return map[string]any{"values": map[string]any{"LOG_LEVEL": "debug"}, "secrets": map[string]any{}}
	}
	if field == "migration_version" {
		return 7 // a field the record did not have (omitempty)
	}
	return "added"
}

// TestTamperedRecords: a record edited by hand in any one field, or truncated, is reported (its file,
// what is wrong) and left out by List, refused as a rollback target, and blocks nothing else: the
// environment's other releases list, show and roll back, and a new release numbers past it.
func TestTamperedRecords(t *testing.T) {
	ctx := context.Background()
	cases := map[string]func(path string, data []byte) []byte{"truncated": func(_ string, data []byte) []byte { return data[:len(data)/2] }}
	for _, field := range recordFields(t) {
		cases[field] = func(path string, data []byte) []byte {
			var m map[string]any
			require.NoError(t, json.Unmarshal(data, &m))
			m[field] = tampered(field, m[field])
			out, err := json.Marshal(m)
			require.NoError(t, err)
			return out
		}
	}
	for name, tamper := range cases {
		t.Run(name, func(t *testing.T) {
			s := DirStore{Dir: t.TempDir()}
			for _, d := range []string{"sha256:one", "sha256:two", "sha256:three"} {
				r := record("staging", d)
				r.Commit = "abc"
				require.NoError(t, s.Create(ctx, r, Counter))
			}
			path := filepath.Join(s.Dir, "staging", "2.json")
			data, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, tamper(path, data), 0o644))

			l, err := s.List(ctx, "staging")
			require.NoError(t, err)
			require.Len(t, l.Damaged, 1)
			assert.Equal(t, path, l.Damaged[0].Where)
			assert.Equal(t, 2, l.Damaged[0].Number)
			assert.Contains(t, l.Damaged[0].Error(), "release record "+path+" is damaged: ")
			require.Len(t, l.Records, 2)
			assert.Equal(t, []string{"v3", "v1"}, []string{l.Records[0].Name, l.Records[1].Name})

			_, err = Rollback(ctx, s, RollbackRequest{Env: "staging", To: "v2", Scheme: Counter, By: "ci", Now: now})
			var damaged *DamagedError
			require.ErrorAs(t, err, &damaged, "a damaged record is no rollback target")
			_, err = Get(ctx, s, "staging", "2")
			require.ErrorAs(t, err, &damaged)

			r, err := Rollback(ctx, s, RollbackRequest{Env: "staging", Scheme: Counter, By: "ci", Now: now})
			require.NoError(t, err)
			assert.Equal(t, "v1", r.RollbackOf, "the one before the current, past the damaged one")
			assert.Equal(t, 4, r.Number, "numbered past the damaged record")
			got, err := Get(ctx, s, "staging", "v4")
			require.NoError(t, err)
			assert.Equal(t, "sha256:one", got.Digest)
		})
	}
}

// TestTamperedRecordInTheRegistry: the registry store verifies its records the same way: a record
// rewritten under its tag is reported by its tag and left out.
func TestTamperedRecordInTheRegistry(t *testing.T) {
	ctx := context.Background()
	s, image := registryStore(t)
	for range 2 {
		r := record("staging", image[len(image)-71:])
		r.Image = image
		require.NoError(t, s.Create(ctx, r, Counter))
	}
	l, err := s.List(ctx, "staging")
	require.NoError(t, err)
	edited := l.Records[1]
	edited.Image = strings.Replace(edited.Image, "@", "-evil@", 1)
	art, err := artifact(&edited)
	require.NoError(t, err)
	tag := s.Repository.Tag(tagOf(1, "staging"))
	require.NoError(t, remote.Write(tag, art, s.options(ctx)...))

	l, err = s.List(ctx, "staging")
	require.NoError(t, err)
	require.Len(t, l.Records, 1)
	assert.Equal(t, "v2", l.Records[0].Name)
	require.Len(t, l.Damaged, 1)
	assert.Equal(t, &DamagedError{Where: tag.String(), Number: 1, Problem: "its content does not match its seal: it was changed after it was written"}, l.Damaged[0])
	assert.Equal(t, fmt.Sprintf("release record %s is damaged: its content does not match its seal: it was changed after it was written", tag), l.Damaged[0].Error())
}

// TestTimestampNamesAreUnique: releases created within one second get a suffix.
func TestTimestampNamesAreUnique(t *testing.T) {
	ctx := context.Background()
	s := DirStore{Dir: t.TempDir()}
	var names []string
	for range 3 {
		r := record("staging", "sha256:aaa")
		require.NoError(t, s.Create(ctx, r, Timestamp))
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"20261123T101500Z", "20261123T101500Z-2", "20261123T101500Z-3"}, names)
	for _, n := range []string{"20261123T101500Z-2", "2", "v2"} {
		r, err := Get(ctx, s, "staging", n)
		require.NoError(t, err, n)
		assert.Equal(t, 2, r.Number, "%s: by name or by number", n)
	}
}
