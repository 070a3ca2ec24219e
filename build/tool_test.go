package build

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/testenv"
)

// TestToolInTheImage: with build.migrations the image carries a static shipyard at
// /usr/local/bin/shipyard and the migrations at /app/migrations, as layers of their own after the
// base and before the app, its environment says where the migrations are, and the record says so; a
// binary that cannot run there is refused, naming the key.
func TestToolInTheImage(t *testing.T) {
	dir := hello(t)
	shipyard := testenv.StaticShipyard(t)
	spec := Spec{Dir: dir, Platforms: []Platform{{OS: "linux", Arch: "amd64"}}, Dest: "oci:.shipyard/image",
		Image: ImageOptions{Epoch: epoch, Version: "1.4.2"}, Tool: &Tool{Migrations: "migrations", Binary: shipyard}}
	res, err := Run(context.Background(), spec)
	require.NoError(t, err)
	assert.Equal(t, "/app/migrations", res.Record.Migrations)
	assert.Equal(t, ToolPath, res.Record.Shipyard)

	out := filepath.Join(dir, ".shipyard", "image")
	inImage := extract(t, out, "amd64", "usr/local/bin/shipyard")
	want, err := os.ReadFile(shipyard)
	require.NoError(t, err)
	got, err := os.ReadFile(inImage)
	require.NoError(t, err)
	assert.Equal(t, want, got, "the very binary")
	entries, err := os.ReadDir(filepath.Join(dir, "migrations"))
	require.NoError(t, err)
	require.NotEmpty(t, entries)
	for _, e := range entries {
		extract(t, out, "amd64", "app/migrations/"+e.Name())
	}
	img, err := PlatformImage(res.Index, spec.Platforms[0])
	require.NoError(t, err)
	cf, err := img.ConfigFile()
	require.NoError(t, err)
	assert.Contains(t, cf.Config.Env, "SHIPYARD_MIGRATE_DIR=/app/migrations")
	assert.Equal(t, []string{"/app/hello"}, cf.Config.Entrypoint, "the service stays the entrypoint")
	var history []string
	for _, h := range cf.History {
		history = append(history, h.CreatedBy)
	}
	i, j, k := slices.Index(history, "shipyard build: "+ToolPath), slices.Index(history, "shipyard build: migrations"), slices.Index(history, "shipyard build: /app/hello")
	assert.True(t, i > 0 && j > i && k > j, "base, shipyard, migrations, app: %v", history)

	for _, tc := range []struct {
		tool Tool
		arch string
		want string
	}{
		{Tool{Migrations: "nowhere", Binary: shipyard}, "amd64", `build.migrations: "nowhere" is not a directory of the project`},
		{Tool{Migrations: "migrations", Binary: filepath.Join(dir, "go.mod")}, "amd64", "is not a Linux binary that an image can run"},
		{Tool{Migrations: "migrations", Binary: "/bin/ls"}, "amd64", "is linked against the C library, which the image does not have: build it with CGO_ENABLED=0"},
		{Tool{Migrations: "migrations", Binary: shipyard}, "arm64", "is for linux/amd64, and the image is for linux/arm64"},
	} {
		s := spec
		s.Tool, s.Platforms = &tc.tool, []Platform{{OS: "linux", Arch: tc.arch}}
		_, err := Run(context.Background(), s)
		var in *InputError
		require.ErrorAs(t, err, &in, tc.want)
		assert.Contains(t, err.Error(), tc.want)
	}
}
