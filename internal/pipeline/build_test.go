package pipeline

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoCredentialsInTheImage: a CI checkout's origin carries a token; no blob of the built image (the
// index, manifests, configs, every layer unpacked, the SBOMs), nor the build record, holds it, and the
// image's source is the repository's public URL.
func TestNoCredentialsInTheImage(t *testing.T) {
	const token = "ghs_0123456789abcdefTOKEN"
	for _, tc := range []struct {
		name, origin string
		env          map[string]string
		want         string
	}{
		{"token in the remote", "https://x-access-token:" + token + "@github.com/acme/hello.git", nil, "https://github.com/acme/hello"},
		{"ssh remote", "git@github.com:acme/hello.git", nil, "https://github.com/acme/hello"},
		{"GitHub Actions", "https://x-access-token:" + token + "@github.com/acme/hello.git",
			map[string]string{"GITHUB_SERVER_URL": "https://github.example.com", "GITHUB_REPOSITORY": "acme/hello-svc"}, "https://github.example.com/acme/hello-svc"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := hello(t, true)
			runGit(t, o.Dir, o.Environ, "remote", "add", "origin", tc.origin)
			getenv := o.Getenv
			o.Getenv = func(k string) string {
				if v, ok := tc.env[k]; ok {
					return v
				}
				return getenv(k)
			}
			o.Stages = []string{"build"}
			_, err := Run(context.Background(), o, Hooks{})
			require.NoError(t, err)

			layout := filepath.Join(o.Dir, ".shipyard", "image")
			blobs, err := filepath.Glob(filepath.Join(layout, "blobs", "sha256", "*"))
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(blobs), 5, "index, manifest, config, base and binary layers")
			sboms, err := filepath.Glob(filepath.Join(o.Dir, ".shipyard", "sbom", "*"))
			require.NoError(t, err)
			require.NotEmpty(t, sboms)
			sources := 0
			for _, b := range append(append(blobs, sboms...), filepath.Join(o.Dir, ".shipyard", "build.json")) {
				data := unpacked(t, b)
				assert.NotContains(t, string(data), token, "%s holds the token", b)
				assert.NotContains(t, string(data), "x-access-token", b)
				sources += strings.Count(string(data), `"org.opencontainers.image.source":"`+tc.want+`"`)
			}
			assert.GreaterOrEqual(t, sources, 3, "the source is in the index, the manifest and the config")
		})
	}
}

// unpacked is a blob's content, gunzipped when it is a compressed layer, with JSON compacted.
func unpacked(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	if zr, err := gzip.NewReader(bytes.NewReader(data)); err == nil {
		data, err = io.ReadAll(zr)
		require.NoError(t, err)
	}
	var compact bytes.Buffer
	if json.Compact(&compact, data) == nil {
		return compact.Bytes()
	}
	return data
}
