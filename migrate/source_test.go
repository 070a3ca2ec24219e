package migrate

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseFileName(t *testing.T) {
	tests := []struct {
		name       string
		version    uint64
		title, dir string
		ok         bool
		err        string
	}{
		{"20260101120000_create_users.up.sql", 20260101120000, "create_users", "up", true, ""},
		{"000002_add_index.down.sql", 2, "add_index", "down", true, ""},
		{"1_a.b.up.sql", 1, "a.b", "up", true, ""},
		{"README.md", 0, "", "", false, ""},
		{"seed.sql", 0, "", "", false, ""},
		{"schema_dump.sql", 0, "", "", false, ""},
		{".gitkeep", 0, "", "", false, ""},
		{"update_notes.txt", 0, "", "", false, ""},
		// Files that look like migrations but are not one: never skipped without a word.
		{"1_x.up.txt", 0, "", "", true, "migrations are .sql files (want 1_x.up.sql)"},
		{"x_create.up.sql", 0, "", "", true, "the version before the first _ must be a number, such as a timestamp (want {version}_{name}.up.sql and {version}_{name}.down.sql, as 1_create_users.up.sql)"},
		{"abc_x.up.sql", 0, "", "", true, "the version before the first _ must be a number, such as a timestamp (want {version}_{name}.up.sql and {version}_{name}.down.sql, as 1_create_users.up.sql)"},
		{"1_add_x.sql", 0, "", "", true, "no .up or .down before the extension (want 1_add_x.up.sql and 1_add_x.down.sql)"},
		{"2_add_y_up.sql", 0, "", "", true, "no .up or .down before the extension (want 2_add_y.up.sql and 2_add_y.down.sql)"},
		{"1.up.sql", 0, "", "", true, "no name after the version (want {version}_{name}.up.sql and {version}_{name}.down.sql, as 1_create_users.up.sql)"},
		{"x.up.sqll", 0, "", "", true, "not a migration file name (want {version}_{name}.up.sql and {version}_{name}.down.sql, as 1_create_users.up.sql)"},
		{"3_x.UP.sql", 0, "", "", true, ".up and .down are written in lower case (want 3_x.up.sql)"},
		{"4_y.DOWN.sql", 0, "", "", true, ".up and .down are written in lower case (want 4_y.down.sql)"},
		{"0_z.up.sql", 0, "", "", true, "version 0 reads as no migration applied, so it would never run: number migrations from 1 (want 1_z.up.sql)"},
		{"1_.up.sql", 0, "", "", true, "no name after the version (want 1_create_users.up.sql)"},
		{"99999999999999999999_big.up.sql", 0, "", "", true, "version 99999999999999999999 does not fit in 64 bits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, title, dir, ok, err := ParseFileName(tt.name)
			assert.Equal(t, tt.ok, ok)
			if tt.err != "" {
				assert.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.version, v)
			assert.Equal(t, tt.title, title)
			assert.Equal(t, tt.dir, dir)
		})
	}
}

func FuzzParseFileName(f *testing.F) {
	for _, s := range []string{"1_a.up.sql", "20260101_x.down.sql", "0_.up.sql", "1__.up.sql", "a_b.up.sql"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		v, title, dir, ok, err := ParseFileName(name)
		if !ok || err != nil {
			return
		}
		if title == "" || (dir != "up" && dir != "down") {
			t.Fatalf("%q parsed to %d %q %q", name, v, title, dir)
		}
		digits := name[:strings.IndexByte(name, '_')]
		if trimmed := strings.TrimLeft(digits, "0"); strconv.FormatUint(v, 10) != trimmed && !(v == 0 && trimmed == "") {
			t.Fatalf("%q: version %d is not its digits %q", name, v, digits)
		}
		if name != digits+"_"+title+"."+dir+".sql" {
			t.Fatalf("%q is not rebuilt from %q, %q, %q", name, digits, title, dir)
		}
	})
}

func TestReadSource(t *testing.T) {
	fsys := fstest.MapFS{
		"2_b.up.sql":     {Data: []byte("CREATE TABLE b (id int);")},
		"2_b.down.sql":   {Data: []byte("DROP TABLE b;")},
		"1_a.up.sql":     {Data: []byte("CREATE TABLE a (id int);")},
		"README.md":      {Data: []byte("docs")},
		"sub/3_c.up.sql": {Data: []byte("ignored: subdirectories are multistage migrations")},
	}
	s, err := ReadSource(fsys)
	require.NoError(t, err)
	require.Len(t, s.Migrations, 2)
	sum := sha256.Sum256([]byte("CREATE TABLE a (id int);"))
	assert.Equal(t, Migration{Version: 1, Name: "a", Up: "1_a.up.sql", Checksum: hex.EncodeToString(sum[:])}, s.Migrations[0])
	assert.Equal(t, "2_b.down.sql", s.Migrations[1].Down)
	m, ok := s.Find(2)
	assert.True(t, ok)
	assert.Equal(t, "b", m.Name)
	_, ok = s.Find(3)
	assert.False(t, ok)
}

func TestReadSourceErrors(t *testing.T) {
	tests := []struct {
		fs   fstest.MapFS
		want string
	}{
		{fstest.MapFS{"1_a.down.sql": {}}, "1_a.down.sql: a down file without its up file"},
		{fstest.MapFS{"1_a.up.sql": {}, "01_a.up.sql": {}}, "version 1 has two up files"},
		{fstest.MapFS{"1_a.up.sql": {}, "1_b.down.sql": {}}, `version 1 is also named "a"`},
	}
	for _, tt := range tests {
		_, err := ReadSource(tt.fs)
		var ferr *FileError
		require.ErrorAs(t, err, &ferr)
		assert.Contains(t, err.Error(), tt.want)
	}
}

func TestCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "migrations")
	now := time.Date(2026, 11, 23, 10, 15, 0, 0, time.UTC)
	paths, err := Create(dir, "Add users table", CreateOptions{Now: now})
	require.NoError(t, err)
	assert.Equal(t, []string{
		filepath.Join(dir, "20261123101500_add_users_table.up.sql"),
		filepath.Join(dir, "20261123101500_add_users_table.down.sql"),
	}, paths)
	_, err = Create(dir, "add users table", CreateOptions{Now: now})
	assert.ErrorContains(t, err, "exists already: nothing was overwritten")

	seq := t.TempDir()
	for i, want := range []string{"000001_a.up.sql", "000002_b.up.sql"} {
		paths, err := Create(seq, string(rune('a'+i)), CreateOptions{Sequential: true})
		require.NoError(t, err)
		assert.Equal(t, want, filepath.Base(paths[0]))
	}
	_, err = Create(seq, "?!", CreateOptions{Sequential: true})
	assert.EqualError(t, err, `migration name "?!" has no letters or digits`)
	body, err := os.ReadFile(filepath.Join(seq, "000001_a.down.sql"))
	require.NoError(t, err)
	assert.Equal(t, "-- down: a\n", string(body))
}

// TestReadSourceLiveConflicts: a live migration shares its version with nothing else.
func TestReadSourceLiveConflicts(t *testing.T) {
	for _, files := range []map[string]string{
		{"5_a/expand.up.sql": "SELECT 1;", "5_b.up.sql": "SELECT 1;"},
		{"5_a.live.yaml": "operation: add_index\ntable: t\ncolumns: [a]\n", "5_b.up.sql": "SELECT 1;"},
		{"5_a.live.yaml": "operation: add_index\ntable: t\ncolumns: [a]\n", "5_b/expand.up.sql": "SELECT 1;"},
	} {
		fsys := fstest.MapFS{}
		for name, body := range files {
			fsys[name] = &fstest.MapFile{Data: []byte(body)}
		}
		_, err := ReadSource(fsys)
		require.Error(t, err, "%v", files)
		assert.Contains(t, err.Error(), "version 5 is also", "%v", files)
	}
	fsys := fstest.MapFS{"7_x/contract.up.sql": &fstest.MapFile{Data: []byte("SELECT 1;")}}
	_, err := ReadSource(fsys)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "7_x: a live migration needs expand.up.sql")
	fsys = fstest.MapFS{"7_x/expand.up.sql": &fstest.MapFile{Data: []byte("SELECT 1;")}, "7_x/expand.sql": &fstest.MapFile{}}
	_, err = ReadSource(fsys)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "7_x/expand.sql: not a part of a live migration")
}
