package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), FileName)
	require.NoError(t, os.WriteFile(path, []byte(body), 0o644))
	return path
}

func TestLoadValid(t *testing.T) {
	path := writeConfig(t, "# shipyard\nversion:\n  tag_prefix: api/\n  paths: [services/api, libs]\n")
	l, err := Load(path, false, nil)
	require.NoError(t, err)
	assert.Equal(t, path, l.Path)
	assert.Equal(t, "api/", l.Version.TagPrefix)
	assert.Equal(t, []string{"services/api", "libs"}, l.Version.Paths)

	v, origin, ok := l.Lookup("version.tag_prefix")
	assert.True(t, ok)
	assert.Equal(t, "api/", v)
	assert.Equal(t, path+":3", origin)
	_, _, ok = l.Lookup("version.remote")
	assert.False(t, ok, "a key the file does not set is not looked up")
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string // after "<path>"
	}{
		{"unknown top-level key", "versoin:\n  tag_prefix: v\n", `:1: unknown key "versoin" (did you mean "version"?)`},
		{"unknown nested key", "version:\n  initial: 1.0.0\n  tag_prefx: api/\n", `:3: unknown key "version.tag_prefx" (did you mean "tag_prefix"?)`},
		{"unknown key without suggestion", "version:\n  color: blue\n", `:2: unknown key "version.color"`},
		{"wrong type", "version:\n  paths: {a: b}\n", ":2: cannot unmarshal !!map into []string"},
		{"syntax error", "version:\n  tag_prefix: [\n", ":2: did not find expected node content"},
		{"not a mapping", "- a\n- b\n", ":1: expected a mapping of keys at the top level"},
		{"duplicate key", "version:\n  remote: a\n  remote: b\n", `:3: mapping key "remote" already defined at line 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeConfig(t, tt.body)
			_, err := Load(path, false, nil)
			require.Error(t, err)
			assert.Equal(t, path+tt.want, err.Error())
			var cerr *Error
			assert.ErrorAs(t, err, &cerr)
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), FileName)
	l, err := Load(path, false, nil)
	require.NoError(t, err, "an absent default file is fine")
	assert.Empty(t, l.Path)

	_, err = Load(path, true, nil)
	require.Error(t, err, "a file named with --config must exist")
	assert.Equal(t, path+": cannot read configuration: no such file or directory", err.Error())
}

func TestLoadEmptyFile(t *testing.T) {
	l, err := Load(writeConfig(t, "# nothing yet\n"), false, nil)
	require.NoError(t, err)
	assert.Equal(t, Config{}, l.Config)
}

func TestEnvOverridesFile(t *testing.T) {
	path := writeConfig(t, "version:\n  tag_prefix: api/\n  remote: origin\n")
	l, err := Load(path, false, []string{
		"SHIPYARD_VERSION_TAG_PREFIX=web/",
		"SHIPYARD_VERSION_PATHS=web, shared ,",
		"UNRELATED=x",
		"HOME=/root",
	})
	require.NoError(t, err)
	assert.Equal(t, "web/", l.Version.TagPrefix)
	assert.Equal(t, []string{"web", "shared"}, l.Version.Paths)
	assert.Equal(t, "origin", l.Version.Remote)
	_, origin, _ := l.Lookup("version.tag_prefix")
	assert.Equal(t, "SHIPYARD_VERSION_TAG_PREFIX", origin)
}

// TestUnknownVariable: a misspelt SHIPYARD_* variable is an error with a suggestion, as an unknown
// file key is; the variables that are not keys (the file, the secrets) are accepted.
func TestUnknownVariable(t *testing.T) {
	for _, tc := range []struct{ env, want string }{
		{"SHIPYARD_TEST_MIN_TOTL=90", "SHIPYARD_TEST_MIN_TOTL: unknown variable, which no configuration key has (did you mean SHIPYARD_TEST_MIN_TOTAL?)"},
		{"SHIPYARD_REGISTRY_PASWORD=x", "SHIPYARD_REGISTRY_PASWORD: unknown variable, which no configuration key has (did you mean SHIPYARD_REGISTRY_PASSWORD?)"},
		{"SHIPYARD_NOTHING_LIKE_IT=1", "SHIPYARD_NOTHING_LIKE_IT: unknown variable, which no configuration key has"},
	} {
		_, err := Load(filepath.Join(t.TempDir(), FileName), false, []string{"SHIPYARD_TEST_MIN_FILE=10", tc.env})
		var cerr *Error
		require.ErrorAs(t, err, &cerr, tc.env)
		assert.Equal(t, tc.want, err.Error())
	}
	l, err := Load(filepath.Join(t.TempDir(), FileName), false, []string{"SHIPYARD_CONFIG=x.yaml", "SHIPYARD_REGISTRY_PASSWORD=s", "SHIPYARD_SIGN_PASSWORD=s", "SHIPYARD_TEST_MIN_TOTAL=90"})
	require.NoError(t, err)
	assert.Equal(t, 90.0, l.Test.MinTotal)
}

// TestDatabasePrecedence: SHIPYARD_MIGRATE_DATABASE, then DATABASE_URL, then the file (the flag wins
// over all three through ApplyToFlags).
func TestDatabasePrecedence(t *testing.T) {
	path := writeConfig(t, "migrate:\n  database: sqlite://file.db\n")
	for _, tc := range []struct {
		env          []string
		want, origin string
	}{
		{nil, "sqlite://file.db", path + ":2"},
		{[]string{"DATABASE_URL=sqlite://url.db"}, "sqlite://url.db", "DATABASE_URL"},
		{[]string{"DATABASE_URL=sqlite://url.db", "SHIPYARD_MIGRATE_DATABASE=sqlite://shipyard.db"}, "sqlite://shipyard.db", "SHIPYARD_MIGRATE_DATABASE"},
	} {
		l, err := Load(path, false, tc.env)
		require.NoError(t, err)
		value, origin, ok := l.Lookup("migrate.database")
		require.True(t, ok)
		assert.Equal(t, tc.want, value, tc.env)
		assert.Equal(t, tc.origin, origin, tc.env)
	}
}

// TestBindUnknownKey: a binding to a key the schema does not have is a programming error, caught when
// the command is built instead of leaving the flag silently unconfigurable.
func TestBindUnknownKey(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.Float64("min-total", 0, "")
	assert.PanicsWithValue(t, `config.Bind: flag --min-total: no key "test.min_totl" in the schema`, func() { Bind(fs, "min-total", "test.min_totl") })
	assert.NotPanics(t, func() { Bind(fs, "min-total", "test.min_total") })
}

// TestBindUnder: each flag is bound to the key of its name, dashes made underscores, under the section.
func TestBindUnder(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.Float64("min-total", 0, "")
	fs.String("diff-base", "", "")
	fs.String("batch-size", "", "")
	BindUnder(fs, "test", "min-total", "diff-base")
	BindUnder(fs, "migrate.backfill", "batch-size")
	for flag, key := range map[string]string{"min-total": "test.min_total", "diff-base": "test.diff_base", "batch-size": "migrate.backfill.batch_size"} {
		assert.Equal(t, []string{key}, fs.Lookup(flag).Annotations[keyAnnotation], flag)
	}
	assert.Panics(t, func() { BindUnder(fs, "build", "min-total") }, "build.min_total is not a key")
}

func TestApplyToFlags(t *testing.T) {
	newFlags := func() (*pflag.FlagSet, *string, *[]string, *string) {
		fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
		prefix := fs.String("tag-prefix", "", "")
		paths := fs.StringSlice("path", nil, "")
		remote := fs.String("remote", "origin", "")
		Bind(fs, "tag-prefix", "version.tag_prefix")
		Bind(fs, "path", "version.paths")
		Bind(fs, "remote", "version.remote")
		return fs, prefix, paths, remote
	}
	path := writeConfig(t, "version:\n  tag_prefix: api/\n  paths: [a, b]\n")
	l, err := Load(path, false, []string{"SHIPYARD_VERSION_REMOTE=upstream"})
	require.NoError(t, err)

	t.Run("configuration fills unset flags", func(t *testing.T) {
		fs, prefix, paths, remote := newFlags()
		require.NoError(t, fs.Parse(nil))
		require.NoError(t, l.ApplyToFlags(fs))
		assert.Equal(t, "api/", *prefix)
		assert.Equal(t, []string{"a", "b"}, *paths)
		assert.Equal(t, "upstream", *remote)
	})
	t.Run("a flag on the command line wins", func(t *testing.T) {
		fs, prefix, paths, _ := newFlags()
		require.NoError(t, fs.Parse([]string{"--tag-prefix=web/", "--path=c"}))
		require.NoError(t, l.ApplyToFlags(fs))
		assert.Equal(t, "web/", *prefix)
		assert.Equal(t, []string{"c"}, *paths)
	})
}

func TestApplyToFlagsNamesOriginOfBadValue(t *testing.T) {
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	fs.Int("jobs", 4, "")
	Bind(fs, "jobs", "version.remote") // a string key bound to an int flag: the value cannot be parsed
	l, err := Load(writeConfig(t, ""), false, []string{"SHIPYARD_VERSION_REMOTE=many"})
	require.NoError(t, err)
	err = l.ApplyToFlags(fs)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `SHIPYARD_VERSION_REMOTE: invalid value "many" for version.remote`)
}

func TestSetString(t *testing.T) {
	type all struct {
		S  string        `yaml:"s"`
		B  bool          `yaml:"b"`
		I  int           `yaml:"i"`
		F  float64       `yaml:"f"`
		D  time.Duration `yaml:"d"`
		SS []string      `yaml:"ss"`
	}
	tests := []struct {
		key, in string
		want    any
		wantErr string
	}{
		{"s", "x", "x", ""},
		{"b", "true", true, ""},
		{"b", "yes", nil, "expected true or false"},
		{"i", "42", 42, ""},
		{"i", "4.2", nil, "expected a whole number"},
		{"f", "80.5", 80.5, ""},
		{"f", "high", nil, "expected a number"},
		{"d", "5m", 5 * time.Minute, ""},
		{"d", "5", nil, "expected a duration such as 90s or 5m"},
		{"ss", "a,,b", []string{"a", "b"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.key+"="+tt.in, func(t *testing.T) {
			var v all
			for _, lf := range leaves(reflect.ValueOf(&v).Elem(), "") {
				if lf.key != tt.key {
					continue
				}
				err := setString(lf.v, tt.in)
				if tt.wantErr != "" {
					assert.EqualError(t, err, tt.wantErr)
					return
				}
				require.NoError(t, err)
				assert.Equal(t, tt.want, lf.v.Interface())
				again := reflect.New(lf.v.Type()).Elem()
				require.NoError(t, setString(again, stringForm(lf.v)))
				assert.Equal(t, lf.v.Interface(), again.Interface(), "string form round-trips")
				return
			}
			t.Fatalf("no leaf %q", tt.key)
		})
	}
}

func TestEnvName(t *testing.T) {
	assert.Equal(t, "SHIPYARD_VERSION_TAG_PREFIX", EnvName("version.tag_prefix"))
	assert.Equal(t, "SHIPYARD_MIGRATE_LOCK_TIMEOUT", EnvName("migrate.lock-timeout"))
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(root, ".git"), 0o755))
	sub := filepath.Join(root, "services", "api")
	require.NoError(t, os.MkdirAll(sub, 0o755))
	assert.Equal(t, filepath.Join(root, FileName), Find(sub))

	outside := t.TempDir()
	assert.Equal(t, filepath.Join(outside, FileName), Find(outside))
}

// FuzzLoad feeds arbitrary documents to the loader: it never panics, and every failure is a *Error that
// names the file.
func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		"version:\n  tag_prefix: api/\n", "versoin: 1\n", "- a\n", "version: [1, 2]\n", "a: &x {b: *x}\n",
		"version:\n  paths: [a, {b: c}]\n", "version: !!binary aGVsbG8=\n", "? [a]\n: b\n",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, doc string) {
		path := filepath.Join(dir, FileName)
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := Load(path, true, nil)
		if err == nil {
			return
		}
		var cerr *Error
		if !errors.As(err, &cerr) || !strings.HasPrefix(cerr.Where, path) {
			t.Fatalf("error %v (%T) does not name %s", err, err, path)
		}
	})
}
