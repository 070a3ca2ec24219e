package audit

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/goproxytest"
	"github.com/shipyardci/shipyard/internal/testenv"
)

// TestScan: the entry point of shipyard audit reads go.mod, the proxy and the snapshot of the Go
// vulnerability database, names the database it read, and marks what the ignore rules cover.
func TestScan(t *testing.T) {
	proxy := writeGoProxy(t, map[string][]goproxytest.Version{
		"google.golang.org/protobuf": {{Version: "v1.32.0", Time: day(1)}, {Version: "v1.33.0", Time: day(2)}},
	})
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module example.com/app\n\ngo 1.22\n\nrequire google.golang.org/protobuf v1.32.0\n"), 0o644))
	env := map[string]string{"GOPROXY": "file://" + proxy, "GOSUMDB": "off", "GOMODCACHE": t.TempDir(), "GOFLAGS": "-modcacherw"}
	o := Options{Dir: dir, VulnDB: testenv.VulnDB(t), Getenv: func(k string) string { return env[k] }}

	r, err := Scan(context.Background(), o)
	require.NoError(t, err)
	require.Len(t, r.Dependencies, 1)
	assert.Equal(t, UpdateMinor, r.Dependencies[0].Update)
	assert.Len(t, r.Outdated(), 1)
	require.NotNil(t, r.VulnDB)
	assert.Equal(t, "2026-08-21", r.VulnDB.Modified.Format(time.DateOnly))
	var ids []string
	for _, v := range r.Failing("critical") {
		ids = append(ids, v.ID)
	}
	assert.Contains(t, ids, "GO-2024-2611", "the Go database rates nothing: unknown fails at every level")
	assert.Empty(t, r.Failing("none"))

	o.Ignore = []IgnoreRule{{Name: "google.golang.org/*", Reason: "not reachable"}}
	r, err = Scan(context.Background(), o)
	require.NoError(t, err)
	require.NotEmpty(t, r.Vulnerabilities)
	assert.Equal(t, "not reachable", r.Vulnerabilities[0].Ignored)
	assert.Empty(t, r.Failing("low"), "ignored vulnerabilities fail nothing")

	o.Ignore, o.VulnDB = nil, VulnDBOff
	r, err = Scan(context.Background(), o)
	require.NoError(t, err)
	assert.Nil(t, r.VulnDB)
	assert.Empty(t, r.Vulnerabilities)

	_, err = Scan(context.Background(), Options{Dir: t.TempDir()})
	var in *InputError
	require.ErrorAs(t, err, &in)
	assert.Contains(t, err.Error(), "no go.mod or package.json in ")
}
