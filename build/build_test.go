package build

import (
	"archive/tar"
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/testenv"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var epoch = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// hello copies examples/hello into a new directory.
func hello(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hello")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("..", "examples", "hello"))))
	return dir
}

func buildHello(t *testing.T, dir string, platforms ...Platform) (string, []Binary) {
	t.Helper()
	bins, err := BuildGo(context.Background(), GoOptions{Dir: dir, Platforms: platforms, Version: "1.4.2", Commit: "abc1234", Date: epoch.Format(time.RFC3339), OutDir: filepath.Join(dir, ".shipyard", "bin")})
	require.NoError(t, err)
	idx, err := GoImage(bins, ImageOptions{Epoch: epoch, Source: "https://github.com/shipyardci/shipyard", Revision: "abc1234", Version: "1.4.2", Ports: []string{"8080/tcp"}})
	require.NoError(t, err)
	out := filepath.Join(t.TempDir(), "oci")
	require.NoError(t, WriteLayout(out, idx, "1.4.2"))
	return out, bins
}

// TestGoImageOfHello: examples/hello for linux/amd64 and linux/arm64 into an OCI layout; skopeo reads
// the index, the entrypoint, the user and the annotations; the amd64 binary taken out of its layer runs
// and reports the injected version.
func TestGoImageOfHello(t *testing.T) {
	dir := hello(t)
	amd64, arm64 := Platform{OS: "linux", Arch: "amd64"}, Platform{OS: "linux", Arch: "arm64"}
	out, bins := buildHello(t, dir, amd64, arm64)
	require.Len(t, bins, 2)
	assert.Equal(t, "hello", bins[0].Name)
	assert.Len(t, bins[0].SHA256, 64)

	testenv.Tool(t, "skopeo", "apt-get install skopeo")
	raw, err := exec.Command("skopeo", "inspect", "--raw", "oci:"+out+":1.4.2").Output()
	require.NoError(t, err)
	var index struct {
		MediaType string
		Manifests []struct {
			Platform struct{ Architecture, OS string }
		}
	}
	require.NoError(t, json.Unmarshal(raw, &index))
	assert.Equal(t, "application/vnd.oci.image.index.v1+json", index.MediaType)
	require.Len(t, index.Manifests, 2)
	assert.Equal(t, "arm64", index.Manifests[1].Platform.Architecture)

	cfgJSON, err := exec.Command("skopeo", "inspect", "--config", "--override-arch", "amd64", "--override-os", "linux", "oci:"+out+":1.4.2").Output()
	require.NoError(t, err)
	var cfg struct {
		Architecture string
		Config       struct {
			Entrypoint []string
			User       string
			Labels     map[string]string
		}
	}
	require.NoError(t, json.Unmarshal(cfgJSON, &cfg))
	assert.Equal(t, "amd64", cfg.Architecture)
	assert.Equal(t, []string{"/app/hello"}, cfg.Config.Entrypoint)
	assert.Equal(t, "65532:65532", cfg.Config.User)
	assert.Equal(t, "1.4.2", cfg.Config.Labels["org.opencontainers.image.version"])
	assert.Equal(t, "abc1234", cfg.Config.Labels["org.opencontainers.image.revision"])
	assert.Equal(t, "2026-11-01T12:00:00Z", cfg.Config.Labels["org.opencontainers.image.created"])

	bin := extract(t, out, "amd64", "app/hello")
	cmd := exec.Command(bin)
	cmd.Env = []string{"ADDR=127.0.0.1:0", "DATABASE_URL=sqlite://" + filepath.Join(t.TempDir(), "hello.db")}
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill() //nolint:errcheck // stopped below
	line, err := bufio.NewReader(stderr).ReadString('\n')
	require.NoError(t, err)
	assert.Contains(t, line, "hello listening")
	assert.Contains(t, line, "version=1.4.2", "-ldflags -X main.version")
	require.NoError(t, cmd.Process.Signal(os.Interrupt))
	assert.NoError(t, cmd.Wait())
}

// extract writes the file at path of the image of arch in the layout to a temporary file.
func extract(t *testing.T, dir, arch, path string) string {
	t.Helper()
	p, err := layout.FromPath(dir)
	require.NoError(t, err)
	outer, err := p.ImageIndex()
	require.NoError(t, err)
	om, err := outer.IndexManifest()
	require.NoError(t, err)
	idx, err := outer.ImageIndex(om.Manifests[0].Digest)
	require.NoError(t, err)
	im, err := idx.IndexManifest()
	require.NoError(t, err)
	for _, d := range im.Manifests {
		if d.Platform.Architecture != arch {
			continue
		}
		img, err := idx.Image(d.Digest)
		require.NoError(t, err)
		layers, err := img.Layers()
		require.NoError(t, err)
		for _, l := range layers {
			rc, err := l.Uncompressed()
			require.NoError(t, err)
			tr := tar.NewReader(rc)
			for {
				hdr, err := tr.Next()
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				if hdr.Name == path {
					out := filepath.Join(t.TempDir(), filepath.Base(path))
					f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY, 0o755)
					require.NoError(t, err)
					_, err = io.Copy(f, tr)
					require.NoError(t, err)
					require.NoError(t, f.Close())
					rc.Close()
					return out
				}
			}
			rc.Close()
		}
	}
	t.Fatalf("no %s for %s in %s", path, arch, dir)
	return ""
}

// TestReproducible: two clean builds of the same sources in different directories give one digest.
func TestReproducible(t *testing.T) {
	p := Platform{OS: "linux", Arch: "amd64"}
	digest := func() string {
		out, _ := buildHello(t, hello(t), p)
		data, err := os.ReadFile(filepath.Join(out, "index.json"))
		require.NoError(t, err)
		var idx struct{ Manifests []struct{ Digest string } }
		require.NoError(t, json.Unmarshal(data, &idx))
		return idx.Manifests[0].Digest
	}
	first, second := digest(), digest()
	assert.True(t, strings.HasPrefix(first, "sha256:"))
	assert.Equal(t, first, second)
}

// layerFiles lists the paths of a layer's tar entries.
func layerFiles(t *testing.T, l NamedLayer) []string {
	t.Helper()
	rc, err := l.Layer.Uncompressed()
	require.NoError(t, err)
	defer rc.Close()
	var names []string
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return names
		}
		require.NoError(t, err)
		names = append(names, hdr.Name)
	}
}

// TestNodeImage: the Node.js example's image has its dependencies in one layer and its code in another;
// changing only the code leaves the dependency layer's digest as it was.
func TestNodeImage(t *testing.T) {
	testenv.Tool(t, "npm", "apt-get install npm")
	dir := filepath.Join(t.TempDir(), "node-hello")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("..", "examples", "node-hello"))))
	require.NoError(t, os.RemoveAll(filepath.Join(dir, "node_modules")))
	specs := []LayerSpec{
		{Name: "dependencies", Run: "npm ci --omit=dev --ignore-scripts --no-audit --no-fund", From: []string{"node_modules"}, To: "/app"},
		{Name: "app", From: []string{"src", "package.json"}, To: "/app"},
	}
	build := func() ([]NamedLayer, string) {
		layers, err := DirLayers(context.Background(), dir, specs, epoch, os.Environ())
		require.NoError(t, err)
		idx, err := LayersImage([]Platform{{OS: "linux", Arch: "amd64"}}, ImageOptions{Epoch: epoch, Layers: layers, Entrypoint: []string{"node", "/app/src/index.js"}, WorkDir: "/app"})
		require.NoError(t, err)
		d, err := idx.Digest()
		require.NoError(t, err)
		return layers, d.String()
	}
	first, firstDigest := build()
	require.Len(t, first, 2)
	assert.Contains(t, layerFiles(t, first[0]), "app/node_modules/ms/index.js")
	assert.Contains(t, layerFiles(t, first[0]), "app/node_modules/ms/package.json")
	assert.Equal(t, []string{"app/", "app/package.json", "app/src/", "app/src/index.js"}, layerFiles(t, first[1]))

	require.NoError(t, os.WriteFile(filepath.Join(dir, "src", "index.js"), []byte("console.log('changed')\n"), 0o644))
	second, secondDigest := build()
	d1, err := first[0].Layer.Digest()
	require.NoError(t, err)
	d2, err := second[0].Layer.Digest()
	require.NoError(t, err)
	assert.Equal(t, d1, d2, "the dependency layer did not change")
	a1, _ := first[1].Layer.Digest()
	a2, _ := second[1].Layer.Digest()
	assert.NotEqual(t, a1, a2, "the app layer did")
	assert.NotEqual(t, firstDigest, secondDigest)

	_, err = DirLayers(context.Background(), dir, []LayerSpec{{From: []string{"nope"}, To: "/app"}}, epoch, nil)
	assert.EqualError(t, err, "build.layers[0].from: nope matches nothing in "+dir)
	_, err = DirLayers(context.Background(), dir, []LayerSpec{{From: []string{"src"}, To: "app"}}, epoch, nil)
	assert.EqualError(t, err, "build.layers[0]: needs from (files or directories of the project) and to (an absolute path of the image)")
	_, err = LayersImage([]Platform{{OS: "linux", Arch: "amd64"}}, ImageOptions{Epoch: epoch})
	assert.EqualError(t, err, "build.entrypoint: an image without a Go binary needs an entrypoint or a cmd")
}

// TestSBOM: the SPDX document of hello's binary names the module, the Go toolchain and the modules
// compiled in, with purls and checksums.
func TestSBOM(t *testing.T) {
	dir := hello(t)
	bins, err := BuildGo(context.Background(), GoOptions{Dir: dir, OutDir: filepath.Join(dir, ".shipyard", "bin")})
	require.NoError(t, err)
	data, err := SBOM(bins[0], epoch, "1.2.3")
	require.NoError(t, err)
	var doc struct {
		SPDXVersion  string
		CreationInfo struct {
			Created  string
			Creators []string
		}
		Packages []struct {
			Name, VersionInfo string
			ExternalRefs      []struct{ ReferenceLocator string }
			Checksums         []struct{ ChecksumValue string }
		}
		Relationships []struct{ RelationshipType string }
	}
	require.NoError(t, json.Unmarshal(data, &doc))
	assert.Equal(t, "SPDX-2.3", doc.SPDXVersion)
	assert.Equal(t, "2026-11-01T12:00:00Z", doc.CreationInfo.Created)
	assert.Equal(t, []string{"Tool: shipyard-1.2.3"}, doc.CreationInfo.Creators)
	assert.Equal(t, "github.com/shipyardci/shipyard/examples/hello", doc.Packages[0].Name)
	assert.Equal(t, bins[0].SHA256, doc.Packages[0].Checksums[0].ChecksumValue)
	found := false
	for _, p := range doc.Packages {
		if p.Name == "modernc.org/sqlite" {
			found = true
			assert.Equal(t, "pkg:golang/modernc.org/sqlite@"+p.VersionInfo, p.ExternalRefs[0].ReferenceLocator)
			assert.Len(t, p.Checksums[0].ChecksumValue, 64, "the h1: hash of the module, as hex")
		}
	}
	assert.True(t, found, "the modules compiled in are listed")
	again, err := SBOM(bins[0], epoch, "1.2.3")
	require.NoError(t, err)
	assert.Equal(t, string(data), string(again), "reproducible")
}

// TestBinaryLayerCache: a binary whose build ID was seen takes its layer from the cache, not from the
// file, and the image is the same.
func TestBinaryLayerCache(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "app")
	require.NoError(t, os.WriteFile(bin, []byte("the binary"), 0o755))
	b := Binary{Name: "app", Platform: Platform{OS: "linux", Arch: "amd64"}, Path: bin, SHA256: "abc", BuildID: "id-1"}
	cache := t.TempDir()
	o := ImageOptions{Epoch: epoch, CacheDir: cache}
	first, err := GoImage([]Binary{b}, o)
	require.NoError(t, err)
	entries, err := os.ReadDir(cache)
	require.NoError(t, err)
	require.Len(t, entries, 1, "the layer is kept")

	require.NoError(t, os.WriteFile(bin, []byte("something else entirely"), 0o755)) // same build ID: not read
	second, err := GoImage([]Binary{b}, o)
	require.NoError(t, err)
	d1, _ := first.Digest()
	d2, _ := second.Digest()
	assert.Equal(t, d1, d2, "the layer came from the cache")

	b.BuildID = "id-2"
	third, err := GoImage([]Binary{b}, o)
	require.NoError(t, err)
	d3, _ := third.Digest()
	assert.NotEqual(t, d1, d3, "a new build ID is a new layer")
}
