package release

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/golden"
)

var pinRecord = &Record{Name: "v7", Env: "staging", Version: "1.5.0",
	Image: "registry.example.com/hello@sha256:2222222222222222222222222222222222222222222222222222222222222222"}

// TestPin: the manifests of testdata/manifests pinned to a release, against their golden files: every
// workload kind with pods, init, ephemeral and plain containers, multi-document files and Lists, tags
// and older digests re-pinned, a reference already at the release's digest and the images of other
// repositories left alone, kinds without pods byte for byte, comments kept.
func TestPin(t *testing.T) {
	tests := []struct {
		file   string
		pinned []string // kind/name of each reference pinned, in order
	}{
		{"deployment.yaml", []string{"Deployment/hello", "Deployment/hello"}},
		{"jobs.yaml", []string{"Job/hello-migrate", "CronJob/hello-report"}},
		{"pinned.yaml", []string{"Pod/pinned-to-an-older-build"}},
		{"list.yaml", []string{"StatefulSet/hello-worker", "DaemonSet/hello-agent"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "manifests", tt.file))
			require.NoError(t, err)
			out, pinned, err := Pin(tt.file, data, pinRecord)
			require.NoError(t, err)
			golden.Assert(t, filepath.Join("manifests", tt.file), out)
			var got []string
			for _, p := range pinned {
				got = append(got, p.Kind+"/"+p.Name)
				assert.Equal(t, pinRecord.Image, p.After)
				assert.Contains(t, strings.Split(string(data), "\n")[p.Line-1], p.Before, "the line of the reference in the file")
			}
			assert.Equal(t, tt.pinned, got)

			again, more, err := Pin(tt.file, out, pinRecord)
			require.NoError(t, err)
			assert.Empty(t, more, "pinning twice changes nothing")
			assert.Equal(t, string(out), string(again))
		})
	}
}

// TestPinUntouched: what has nothing of the release's is returned byte for byte.
func TestPinUntouched(t *testing.T) {
	for _, in := range []string{
		"",
		"# just a comment\n",
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {image: registry.example.com/hello:1}\n",
		"kind: Widget\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: registry.example.com/hello:1}]\n",
		"---\n---\napiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - {name: a, image: busybox}\n",
		"- a\n- b\n",
	} {
		out, pinned, err := Pin("f.yaml", []byte(in), pinRecord)
		require.NoError(t, err, in)
		assert.Empty(t, pinned, in)
		assert.Equal(t, in, string(out))
	}
}

// TestPinErrors: a document that is not YAML names the file and the line it starts on.
func TestPinErrors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "manifests", "broken.yaml"))
	require.NoError(t, err)
	_, _, err = Pin("broken.yaml", data, pinRecord)
	var me *ManifestError
	require.ErrorAs(t, err, &me)
	assert.Equal(t, "broken.yaml", me.File)
	assert.Equal(t, 5, me.Line)
	assert.True(t, me.InputError())

	_, _, err = Pin("f.yaml", []byte("kind: Pod\n"), &Record{Name: "v1", Image: "UPPER/Case@@x"})
	assert.ErrorContains(t, err, "release v1: image UPPER/Case@@x")
}

// FuzzPin: any input gives an error or YAML that pins to nothing more, never a panic.
func FuzzPin(f *testing.F) {
	for _, name := range []string{"deployment.yaml", "jobs.yaml", "pinned.yaml", "list.yaml", "broken.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", "manifests", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		out, _, err := Pin("f.yaml", data, pinRecord)
		if err != nil {
			return
		}
		if _, more, err := Pin("f.yaml", out, pinRecord); err != nil || len(more) > 0 {
			t.Fatalf("pinned output pins again (%v, %v):\n%s", more, err, out)
		}
	})
}

// TestPinTheExamples: every manifest of examples/k8s names the service's image once, and pins to the
// release's digest.
func TestPinTheExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "k8s", "*.yaml"))
	require.NoError(t, err)
	require.Len(t, files, 3)
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		out, pinned, err := Pin(filepath.Base(f), data, pinRecord)
		require.NoError(t, err, f)
		assert.NotEmpty(t, pinned, f)
		assert.NotContains(t, string(out), "hello:1.4.2", f)
		assert.Contains(t, string(out), "# ", "%s keeps its comments", f)
	}
}
