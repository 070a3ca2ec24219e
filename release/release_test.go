package release

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var now = time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)

func record(env, digest string) *Record {
	return &Record{Env: env, Image: "registry.example.com/api@" + digest, Digest: digest, Version: "1.4.2", CreatedAt: now, CreatedBy: "ci",
		Config: Config{Values: map[string]string{"LOG_LEVEL": "info"}, Secrets: map[string]string{"DATABASE_URL": "vault:secret/api#db"}}}
}

// TestConcurrentCreate: five creates at once for one environment get five distinct consecutive numbers.
func TestConcurrentCreate(t *testing.T) {
	s := DirStore{Dir: t.TempDir()}
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Create(context.Background(), record("staging", "sha256:aaa"), Counter)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	all, err := s.List(context.Background(), "staging")
	require.NoError(t, err)
	var names []string
	assert.Empty(t, all.Damaged)
	for _, r := range all.Records {
		names = append(names, r.Name)
	}
	assert.Equal(t, []string{"v5", "v4", "v3", "v2", "v1"}, names)
}

func TestSchemes(t *testing.T) {
	ctx := context.Background()
	s := DirStore{Dir: t.TempDir()}
	for _, tc := range []struct {
		scheme    Scheme
		env, want string
	}{
		{Timestamp, "a", "20261123T101500Z"},
		{Semver, "b", "1.4.2"},
		{Calver, "c", "2026.11.1"},
		{Calver, "c", "2026.11.2"},
	} {
		r := record(tc.env, "sha256:aaa")
		require.NoError(t, s.Create(ctx, r, tc.scheme))
		assert.Equal(t, tc.want, r.Name, tc.scheme)
	}
	assert.EqualError(t, s.Create(ctx, record("b", "sha256:bbb"), Semver), "release 1.4.2 exists in b already")
	err := s.Create(ctx, record("a", "sha256:aaa"), "random")
	assert.EqualError(t, err, `"random" is not counter, timestamp, semver or calver`)
	assertOption(t, err, "release.Scheme")
	err = s.Create(ctx, record("Bad Env", "sha256:aaa"), Counter)
	assert.EqualError(t, err, `"Bad Env" is not an environment name (lower-case letters, digits, ., _ and -)`)
	assertOption(t, err, "release.Env")
}

func TestRollbackAndPromote(t *testing.T) {
	ctx := context.Background()
	s := DirStore{Dir: t.TempDir()}
	v1 := record("staging", "sha256:one")
	require.NoError(t, s.Create(ctx, v1, Counter))
	v2 := record("staging", "sha256:two")
	require.NoError(t, s.Create(ctx, v2, Counter))

	v3, err := Rollback(ctx, s, RollbackRequest{Env: "staging", To: "", Scheme: Counter, By: "ci", Now: now})
	require.NoError(t, err)
	assert.Equal(t, "v3", v3.Name)
	assert.Equal(t, "sha256:one", v3.Digest, "v3 points at v1's build")
	assert.Equal(t, "v1", v3.RollbackOf)
	assert.Equal(t, v1.ConfigSHA256, v3.ConfigSHA256)

	v4, err := Rollback(ctx, s, RollbackRequest{Env: "staging", To: "v2", Scheme: Counter, By: "ci", Now: now})
	require.NoError(t, err)
	assert.Equal(t, "sha256:two", v4.Digest)
	_, err = Rollback(ctx, s, RollbackRequest{Env: "staging", To: "v9", Scheme: Counter, By: "ci", Now: now})
	assert.EqualError(t, err, "staging has no release v9")
	assertOption(t, err, "release.To")

	prod, err := Promote(ctx, s, PromoteRequest{From: "staging", To: "prod", Name: "", Scheme: Counter, By: "ci", Now: now})
	require.NoError(t, err)
	assert.Equal(t, "v1", prod.Name, "prod's first release")
	assert.Equal(t, "sha256:two", prod.Digest, "staging's current build")
	assert.Equal(t, "staging/v4", prod.PromotedFrom)
	_, err = Rollback(ctx, s, RollbackRequest{Env: "prod", To: "", Scheme: Counter, By: "ci", Now: now})
	assert.EqualError(t, err, "prod has only v1: nothing before it to roll back to")
	assertOption(t, err, "release.Env")
}

func TestReadConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	require.NoError(t, os.WriteFile(good, []byte("values:\n  LOG_LEVEL: info\nsecrets:\n  DATABASE_URL: vault:secret/api#db\n"), 0o644))
	c, err := ReadConfig(good)
	require.NoError(t, err)
	assert.Equal(t, "info", c.Values["LOG_LEVEL"])
	assert.Len(t, c.SHA256(), 64)
	same := Config{Values: map[string]string{"LOG_LEVEL": "info"}, Secrets: map[string]string{"DATABASE_URL": "vault:secret/api#db"}}
	assert.Equal(t, c.SHA256(), same.SHA256(), "the digest does not depend on the file's layout")

	bad := filepath.Join(dir, "bad.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("secrets:\n  API_TOKEN: hunter2 is my token\n"), 0o644))
	_, err = ReadConfig(bad)
	assert.EqualError(t, err, bad+": secret API_TOKEN must be a reference such as vault:secret/app#key or env:NAME, not a value")
	assert.NotContains(t, err.Error(), "hunter2")
	for _, tc := range []struct{ yaml, want string }{
		{"secrets:\n  DATABASE_URL: postgres://app:hunter2@db:5432/app\n", "secret DATABASE_URL must be a reference"},
		{"values:\n  UPSTREAM: https://x-access-token:hunter2@github.com/o/r\n", "value UPSTREAM holds a URL with a password, which a release record must never carry: make it a secret reference"},
	} {
		require.NoError(t, os.WriteFile(bad, []byte(tc.yaml), 0o644))
		_, err = ReadConfig(bad)
		assert.ErrorContains(t, err, tc.want)
		assert.NotContains(t, err.Error(), "hunter2")
	}
	require.NoError(t, os.WriteFile(bad, []byte("values:\n  UPSTREAM: https://api.example.com/v1\n  DOCS: see https://user@wiki.example.com\n"), 0o644))
	_, err = ReadConfig(bad)
	assert.NoError(t, err, "URLs without a password are values")
	typo := filepath.Join(dir, "typo.yaml")
	require.NoError(t, os.WriteFile(typo, []byte("value:\n  A: b\n"), 0o644))
	_, err = ReadConfig(typo)
	assert.ErrorContains(t, err, "field value not found")
}

// assertOption checks that err is an input error that blames the option.
func assertOption(t *testing.T, err error, option string) {
	t.Helper()
	var in *InputError
	if assert.ErrorAs(t, err, &in) {
		assert.True(t, in.InputError())
		assert.Equal(t, option, in.InputOption())
	}
}
