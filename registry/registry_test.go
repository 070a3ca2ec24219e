package registry_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/testenv"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/registrytest"
	"github.com/shipyardci/shipyard/registry"
)

// starter starts a registry of one kind.
type starter func(t *testing.T, cfg registrytest.Config) *registrytest.Registry

// embedded starts shipyard's own registry in this process.
func embedded(t *testing.T, cfg registrytest.Config) *registrytest.Registry {
	t.Helper()
	r := registrytest.Files(t, t.TempDir(), cfg)
	s, err := registry.Start(context.Background(), registry.ServeOptions{Addr: "127.0.0.1:0", Root: r.Root, Htpasswd: r.Htpasswd, TLSCert: r.TLSCert, TLSKey: r.TLSKey})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	r.Host = s.Host()
	return r
}

var kinds = []struct {
	name  string
	start starter
}{
	{"distribution", func(t *testing.T, cfg registrytest.Config) *registrytest.Registry {
		return registrytest.Distribution(t, cfg)
	}},
	{"embedded", embedded},
}

// client is a shipyard client of r, with its CA and credentials.
func client(t *testing.T, r *registrytest.Registry, mod ...func(*registry.Options)) *registry.Client {
	t.Helper()
	o := registry.Options{DockerConfig: t.TempDir()}
	if r.CACert != "" {
		o.CACerts = []string{r.CACert}
	}
	if r.Htpasswd != "" {
		o.Username, o.Password = registrytest.User, registrytest.Password
	}
	for _, m := range mod {
		m(&o)
	}
	c, err := registry.New(o)
	require.NoError(t, err)
	return c
}

func load(t *testing.T, dir string) registry.Artifact {
	t.Helper()
	a, err := registry.Load(dir)
	require.NoError(t, err)
	return a
}

// skopeoInspect is the digest skopeo reads for ref.
func skopeoInspect(t *testing.T, r *registrytest.Registry, ref string) string {
	t.Helper()
	args := append([]string{"inspect", "--format", "{{.Digest}}"}, skopeoFlags(t, r, "")...)
	out, err := exec.Command("skopeo", append(args, "docker://"+ref)...).CombinedOutput()
	require.NoError(t, err, string(out))
	return strings.TrimSpace(string(out))
}

// skopeoFlags are skopeo's options for r: its CA, its credentials (prefix "dest-" for copy targets).
func skopeoFlags(t *testing.T, r *registrytest.Registry, prefix string) []string {
	t.Helper()
	testenv.Tool(t, "skopeo", "apt-get install skopeo")
	var flags []string
	if r.CACert != "" {
		certs := t.TempDir()
		data, err := os.ReadFile(r.CACert)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(certs, "ca.crt"), data, 0o644))
		flags = append(flags, "--"+prefix+"cert-dir", certs)
	} else {
		flags = append(flags, "--"+prefix+"tls-verify=false")
	}
	if r.Htpasswd != "" {
		flags = append(flags, "--"+prefix+"creds", registrytest.User+":"+registrytest.Password)
	}
	return flags
}

func TestRegistry(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			ctx := context.Background()
			r := kind.start(t, registrytest.Config{TLS: true, Auth: true})
			c := client(t, r)
			dir, img := registrytest.Image(t, 64<<10, 3)
			want, err := img.Digest()
			require.NoError(t, err)

			t.Run("push, and skopeo reads the same digest", func(t *testing.T) {
				res, err := c.Push(ctx, load(t, dir), registrytest.Ref(t, r.Host+"/app:1.4.2"), registry.PushOptions{})
				require.NoError(t, err)
				assert.Equal(t, want.String(), res.Digest)
				assert.Equal(t, []string{"1.4.2", "1.4", "1", "latest"}, res.Tags, "the first stable version moves every tag")
				assert.Greater(t, res.BytesUploaded, int64(3*64<<10))
				assert.Equal(t, want.String(), skopeoInspect(t, r, r.Host+"/app:1.4.2"))
				assert.Equal(t, want.String(), skopeoInspect(t, r, r.Host+"/app:latest"))
			})
			t.Run("re-push uploads nothing", func(t *testing.T) {
				res, err := c.Push(ctx, load(t, dir), registrytest.Ref(t, r.Host+"/app:1.4.2"), registry.PushOptions{})
				require.NoError(t, err)
				assert.Equal(t, int64(0), res.BytesUploaded)
				assert.Equal(t, int64(4), res.BlobsSkipped, "3 layers and the config")
			})
			t.Run("tag expansion against the tags already there", func(t *testing.T) {
				older, _ := registrytest.Image(t, 1024, 1)
				res, err := c.Push(ctx, load(t, older), registrytest.Ref(t, r.Host+"/app"), registry.PushOptions{Tags: []string{"1.3.9"}})
				require.NoError(t, err)
				assert.Equal(t, []string{"1.3.9", "1.3"}, res.Tags, "1 and latest stay on 1.4.2")
				pre, _ := registrytest.Image(t, 1024, 1)
				res, err = c.Push(ctx, load(t, pre), registrytest.Ref(t, r.Host+"/app:2.0.0-rc.1"), registry.PushOptions{})
				require.NoError(t, err)
				assert.Equal(t, []string{"2.0.0-rc.1"}, res.Tags)
				tags, err := c.Tags(ctx, registrytest.Repo(t, r.Host+"/app"))
				require.NoError(t, err)
				assert.Equal(t, []string{"2.0.0-rc.1", "1.4.2", "1.4", "1.3.9", "1.3", "1", "latest"}, tags)
				d, err := c.Digest(ctx, registrytest.Ref(t, r.Host+"/app:1"))
				require.NoError(t, err)
				assert.Equal(t, want.String(), d)
			})
			t.Run("a released version is immutable", func(t *testing.T) {
				other, otherImg := registrytest.Image(t, 1024, 1)
				otherDigest, err := otherImg.Digest()
				require.NoError(t, err)
				_, err = c.Push(ctx, load(t, other), registrytest.Ref(t, r.Host+"/app:1.4.2"), registry.PushOptions{})
				var taken *registry.TagTakenError
				require.ErrorAs(t, err, &taken)
				assert.Equal(t, r.Host+"/app:1.4.2 already names "+want.String()+", and a released version is immutable: pushing "+otherDigest.String()+" there would replace it", err.Error())
				_, err = c.Push(ctx, load(t, other), registrytest.Ref(t, r.Host+"/app"), registry.PushOptions{Tags: []string{"sha-1", "1.4.2"}})
				require.ErrorAs(t, err, &taken, "among other tags too, and before any is written")
				_, err = c.Digest(ctx, registrytest.Ref(t, r.Host+"/app:sha-1"))
				assert.Error(t, err, "nothing was tagged")
				d, err := c.Digest(ctx, registrytest.Ref(t, r.Host+"/app:1.4.2"))
				require.NoError(t, err)
				assert.Equal(t, want.String(), d, "the released tag still names its image")

				for _, tag := range []string{"1.4", "latest", "2.0.0-rc.0", "edge"} {
					_, err := c.Push(ctx, load(t, other), registrytest.Ref(t, r.Host+"/scratch:"+tag), registry.PushOptions{})
					require.NoError(t, err, tag)
					res, err := c.Push(ctx, load(t, dir), registrytest.Ref(t, r.Host+"/scratch:"+tag), registry.PushOptions{})
					require.NoError(t, err, "%s is not a released version: it moves", tag)
					assert.Equal(t, want.String(), res.Digest)
				}

				_, err = c.Push(ctx, load(t, other), registrytest.Ref(t, r.Host+"/forced:1.0.0"), registry.PushOptions{NoExpand: true})
				require.NoError(t, err)
				_, err = c.Push(ctx, load(t, dir), registrytest.Ref(t, r.Host+"/forced:1.0.0"), registry.PushOptions{NoExpand: true})
				require.ErrorAs(t, err, &taken, "without the moving tags too")
				res, err := c.Push(ctx, load(t, dir), registrytest.Ref(t, r.Host+"/forced:1.0.0"), registry.PushOptions{NoExpand: true, Force: true})
				require.NoError(t, err, "forced")
				d, err = c.Digest(ctx, registrytest.Ref(t, r.Host+"/forced:1.0.0"))
				require.NoError(t, err)
				assert.Equal(t, want.String(), d)
				assert.Equal(t, want.String(), res.Digest)
			})
			t.Run("multi-platform index", func(t *testing.T) {
				idxDir, idx := registrytest.Index(t, 3)
				wantIdx, err := idx.Digest()
				require.NoError(t, err)
				res, err := c.Push(ctx, load(t, idxDir), registrytest.Ref(t, r.Host+"/multi:1.0.0"), registry.PushOptions{NoExpand: true})
				require.NoError(t, err)
				assert.Equal(t, wantIdx.String(), res.Digest)
				assert.Equal(t, []string{"1.0.0"}, res.Tags)
				assert.Equal(t, wantIdx.String(), skopeoInspectRaw(t, r, r.Host+"/multi:1.0.0"))
			})
			t.Run("copy mounts within a registry and streams across two", func(t *testing.T) {
				res, err := c.Copy(ctx, registrytest.Ref(t, r.Host+"/app:1.4.2"), registrytest.Ref(t, r.Host+"/promoted"))
				require.NoError(t, err)
				assert.Equal(t, want.String(), res.Digest)
				assert.Equal(t, r.Host+"/promoted@"+want.String(), res.Destination.String())
				assert.Equal(t, int64(0), res.BytesUploaded, "same registry: mounted, not uploaded")
				assert.Positive(t, res.BlobsMounted)

				other := kind.start(t, registrytest.Config{})
				res, err = c.Copy(ctx, registrytest.Ref(t, r.Host+"/app@"+want.String()), registrytest.Ref(t, other.Host+"/app:prod"))
				require.NoError(t, err)
				assert.Equal(t, want.String(), res.Digest)
				assert.Greater(t, res.BytesUploaded, int64(3*64<<10))
				d, err := c.Digest(ctx, registrytest.Ref(t, other.Host+"/app:prod"))
				require.NoError(t, err)
				assert.Equal(t, want.String(), d)
			})
			t.Run("delete and prune", func(t *testing.T) {
				var digests []string
				for i := range 4 {
					layout := datedImage(t, i+1)
					tags := []string{"sha-" + string(rune('a'+i))}
					if i == 0 {
						tags = append(tags, "0.1.0")
					}
					res, err := c.Push(ctx, load(t, layout), registrytest.Ref(t, r.Host+"/pruned"), registry.PushOptions{Tags: tags, NoExpand: true})
					require.NoError(t, err)
					digests = append(digests, res.Digest)
				}
				gone, err := c.Prune(ctx, registrytest.Repo(t, r.Host+"/pruned"), registry.PruneOptions{Keep: 1, DryRun: true})
				require.NoError(t, err)
				assert.Len(t, gone, 3)
				tags, err := c.Tags(ctx, registrytest.Repo(t, r.Host+"/pruned"))
				require.NoError(t, err)
				assert.Len(t, tags, 5, "a dry run deletes nothing")

				gone, err = c.Prune(ctx, registrytest.Repo(t, r.Host+"/pruned"), registry.PruneOptions{Keep: 1, KeepSemver: true, Protect: []string{digests[1]}})
				require.NoError(t, err)
				require.Len(t, gone, 1)
				assert.Equal(t, registry.Deleted{Digest: digests[2], Tags: []string{"sha-c"}}, gone[0], "kept: the newest, the semver one, the protected one")

				del, err := c.Delete(ctx, registrytest.Ref(t, r.Host+"/pruned:sha-a"))
				require.NoError(t, err)
				assert.Equal(t, registry.Deleted{Digest: digests[0], Tags: []string{"0.1.0", "sha-a"}}, *del)
				_, err = c.Digest(ctx, registrytest.Ref(t, r.Host+"/pruned:0.1.0"))
				assert.Error(t, err, "the other tag of the digest went too")
			})
			t.Run("wrong password", func(t *testing.T) {
				bad := client(t, r, func(o *registry.Options) { o.Password = "not-the-Pa55word" })
				_, err := bad.Push(ctx, load(t, dir), registrytest.Ref(t, r.Host+"/app:9.9.9"), registry.PushOptions{})
				require.Error(t, err)
				assert.Contains(t, err.Error(), "authentication failed")
				assert.NotContains(t, err.Error(), "not-the-Pa55word")
			})
			t.Run("unknown CA", func(t *testing.T) {
				noCA := client(t, r, func(o *registry.Options) { o.CACerts = nil })
				_, err := noCA.Tags(ctx, registrytest.Repo(t, r.Host+"/app"))
				require.Error(t, err)
				assert.Contains(t, err.Error(), "TLS: the registry's certificate is signed by an unknown authority")
			})
		})
	}
}

// TestSkopeoCopyIntoEmbedded: skopeo pushes into shipyard's registry, and shipyard reads the same digest.
func TestSkopeoCopyIntoEmbedded(t *testing.T) {
	r := embedded(t, registrytest.Config{TLS: true, Auth: true})
	dir, img := registrytest.Image(t, 32<<10, 2)
	want, err := img.Digest()
	require.NoError(t, err)
	args := append([]string{"copy", "--quiet", "--preserve-digests"}, skopeoFlags(t, r, "dest-")...)
	out, err := exec.Command("skopeo", append(args, "oci:"+dir, "docker://"+r.Host+"/from-skopeo:1")...).CombinedOutput()
	require.NoError(t, err, string(out))
	d, err := client(t, r).Digest(context.Background(), registrytest.Ref(t, r.Host+"/from-skopeo:1"))
	require.NoError(t, err)
	assert.Equal(t, want.String(), d)
}

// TestEmbeddedKeepsDataAcrossRestarts: the registry's data is on disk.
func TestEmbeddedKeepsDataAcrossRestarts(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	s, err := registry.Start(ctx, registry.ServeOptions{Addr: "127.0.0.1:0", Root: root})
	require.NoError(t, err)
	r := &registrytest.Registry{Host: s.Host()}
	dir, _ := registrytest.Image(t, 1024, 1)
	res, err := client(t, r).Push(ctx, load(t, dir), registrytest.Ref(t, r.Host+"/kept:1"), registry.PushOptions{})
	require.NoError(t, err)
	shutdown, cancel := context.WithTimeout(ctx, 30*time.Second) // a loaded CI machine is slow
	defer cancel()
	require.NoError(t, s.Shutdown(shutdown))

	s, err = registry.Start(ctx, registry.ServeOptions{Addr: "127.0.0.1:0", Root: root})
	require.NoError(t, err)
	defer s.Close()
	d, err := client(t, &registrytest.Registry{Host: s.Host()}).Digest(ctx, registrytest.Ref(t, s.Host()+"/kept:1"))
	require.NoError(t, err)
	assert.Equal(t, res.Digest, d)
}

func v1Time(t time.Time) v1.Time { return v1.Time{Time: t} }

// skopeoInspectRaw is the digest of the manifest skopeo fetches for ref (an index too).
func skopeoInspectRaw(t *testing.T, r *registrytest.Registry, ref string) string {
	t.Helper()
	args := append([]string{"inspect", "--raw"}, skopeoFlags(t, r, "")...)
	out, err := exec.Command("skopeo", append(args, "docker://"+ref)...).Output()
	require.NoError(t, err)
	return fmt.Sprintf("sha256:%x", sha256.Sum256(out))
}

// TestPushTarball: a `docker save` tarball pushes with the digest go-containerregistry computes for it,
// and crane reads the same.
func TestPushTarball(t *testing.T) {
	ctx := context.Background()
	r := embedded(t, registrytest.Config{})
	img, err := random.Image(4<<10, 2)
	require.NoError(t, err)
	tag, err := name.NewTag("example.com/app:1")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "image.tar")
	require.NoError(t, tarball.WriteToFile(path, tag, img))
	fromTar, err := tarball.ImageFromPath(path, nil)
	require.NoError(t, err)
	want, err := fromTar.Digest()
	require.NoError(t, err)

	res, err := client(t, r).Push(ctx, load(t, path), registrytest.Ref(t, r.Host+"/from-tar:1"), registry.PushOptions{NoExpand: true})
	require.NoError(t, err)
	assert.Equal(t, want.String(), res.Digest)
	_, err = registry.Load(filepath.Join(t.TempDir(), "nothing.tar"))
	assert.ErrorContains(t, err, "nothing.tar")
	bad := filepath.Join(t.TempDir(), "bad.tar")
	require.NoError(t, os.WriteFile(bad, []byte("not a tarball"), 0o644))
	_, err = registry.Load(bad)
	assert.ErrorContains(t, err, "is not an image tarball (docker save format)")
	testenv.Tool(t, "crane", "go install github.com/google/go-containerregistry/cmd/crane@v0.22.1")
	out, err := exec.Command("crane", "digest", r.Host+"/from-tar:1").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Equal(t, want.String(), strings.TrimSpace(string(out)))
}

// TestBlobLocationCache: a push to a second repository of a registry mounts the layers the first push
// left there, as skopeo does; without the cache they are uploaded again.
func TestBlobLocationCache(t *testing.T) {
	ctx := context.Background()
	r := embedded(t, registrytest.Config{})
	dir, _ := registrytest.Image(t, 64<<10, 3)
	cache := filepath.Join(t.TempDir(), "blobs.json")
	c := client(t, r, func(o *registry.Options) { o.BlobCache = cache })
	first, err := c.Push(ctx, load(t, dir), registrytest.Ref(t, r.Host+"/one:1"), registry.PushOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(4), first.BlobsUploaded)

	second, err := c.Push(ctx, load(t, dir), registrytest.Ref(t, r.Host+"/two:1"), registry.PushOptions{})
	require.NoError(t, err)
	assert.Equal(t, first.Digest, second.Digest)
	assert.Equal(t, int64(3), second.BlobsMounted, "the layers")
	assert.Equal(t, int64(1), second.BlobsUploaded, "the config, which registries do not mount")
	assert.Less(t, second.BytesUploaded, int64(4<<10))

	noCache, err := client(t, r).Push(ctx, load(t, dir), registrytest.Ref(t, r.Host+"/three:1"), registry.PushOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(0), noCache.BlobsMounted)
	assert.Equal(t, int64(4), noCache.BlobsUploaded)

	require.NoError(t, os.WriteFile(cache, []byte("{not json"), 0o644))
	_, err = c.Push(ctx, load(t, dir), registrytest.Ref(t, r.Host+"/four:1"), registry.PushOptions{})
	assert.NoError(t, err, "a broken cache is an empty one")
}

// TestServe: Serve answers until its context ends, then shuts down and returns nil; a ready that fails
// stops it at once with that error.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	hosts := make(chan string, 1)
	go func() {
		done <- registry.Serve(ctx, registry.ServeOptions{Addr: "127.0.0.1:0", Root: t.TempDir()}, 5*time.Second, func(s *registry.Server) error {
			hosts <- s.Host()
			return nil
		})
	}()
	host := <-hosts
	resp, err := http.Get("http://" + host + "/v2/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	cancel()
	assert.NoError(t, <-done)

	refused := errors.New("not ready")
	err = registry.Serve(context.Background(), registry.ServeOptions{Addr: "127.0.0.1:0", Root: t.TempDir()}, time.Second, func(*registry.Server) error { return refused })
	assert.ErrorIs(t, err, refused)
}

// TestPruneKeepsReferrers: a prune never deletes what refers to an image it keeps (its SBOM, by the
// referrers fallback tag, and a cosign-style signature tag), nor an artifact that is not an image (a
// release record), nor a protected digest; an image that goes takes its referrers along, and the dry
// run lists exactly what the prune then deletes.
func TestPruneKeepsReferrers(t *testing.T) {
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			ctx := context.Background()
			r := kind.start(t, registrytest.Config{})
			c := client(t, r)
			repo := registrytest.Repo(t, r.Host+"/pruned")
			var images []string
			for i := range 3 {
				res, err := c.Push(ctx, load(t, datedImage(t, i+1)), registrytest.Ref(t, fmt.Sprintf("%s/pruned:sha-%d", r.Host, i)), registry.PushOptions{})
				require.NoError(t, err)
				images = append(images, res.Digest)
				desc, err := remote.Head(repo.Digest(res.Digest), remote.WithTransport(r.Transport(t)))
				require.NoError(t, err)
				sbom := artifactImage(t, "application/spdx+json", fmt.Sprintf(`{"sbom":%d}`, i))
				sbom = mutate.Subject(sbom, *desc).(v1.Image)
				_, err = c.PushReferrer(ctx, repo, sbom)
				require.NoError(t, err)
				sig, err := random.Image(64, 1)
				require.NoError(t, err)
				_, err = c.Push(ctx, load(t, registrytest.Layout(t, sig)), registrytest.Ref(t, r.Host+"/pruned:"+strings.Replace(res.Digest, ":", "-", 1)+".sig"), registry.PushOptions{})
				require.NoError(t, err)
			}
			record := artifactImage(t, "application/vnd.dev.shipyard.release.v1+json", `{"env":"staging"}`)
			_, err := c.Push(ctx, record, registrytest.Ref(t, r.Host+"/pruned:release-1-staging"), registry.PushOptions{})
			require.NoError(t, err)
			before, err := c.Tags(ctx, repo)
			require.NoError(t, err)

			dry, err := c.Prune(ctx, repo, registry.PruneOptions{Keep: 1, DryRun: true, Protect: []string{images[0]}})
			require.NoError(t, err)
			after, err := c.Tags(ctx, repo)
			require.NoError(t, err)
			assert.Equal(t, before, after, "a dry run deletes nothing")
			var subjects, gone []string
			for _, d := range dry {
				gone = append(gone, d.Digest)
				if d.Subject != "" {
					subjects = append(subjects, d.Subject)
				}
			}
			assert.Contains(t, gone, images[1], "the middle image goes")
			assert.NotContains(t, gone, images[2], "the newest is kept")
			assert.NotContains(t, gone, images[0], "the protected one is kept")
			assert.Len(t, dry, 4, "the image, its SBOM, the fallback tag's index and its signature")
			assert.Equal(t, []string{images[1], images[1], images[1]}, subjects, "only the referrers of the image that goes")

			got, err := c.Prune(ctx, repo, registry.PruneOptions{Keep: 1, Protect: []string{images[0]}})
			require.NoError(t, err)
			assert.ElementsMatch(t, dry, got, "the dry run listed exactly what went")
			for _, kept := range []string{images[0], images[2]} {
				idx, err := remote.Referrers(repo.Digest(kept), remote.WithTransport(r.Transport(t)))
				require.NoError(t, err)
				im, err := idx.IndexManifest()
				require.NoError(t, err)
				assert.Len(t, im.Manifests, 1, "the SBOM of a kept image is there")
				_, err = c.Digest(ctx, registrytest.Ref(t, r.Host+"/pruned:"+strings.Replace(kept, ":", "-", 1)+".sig"))
				assert.NoError(t, err, "its signature too")
			}
			_, err = c.Digest(ctx, registrytest.Ref(t, r.Host+"/pruned:release-1-staging"))
			assert.NoError(t, err, "a release record is no image to prune")
			_, err = c.Digest(ctx, registrytest.Ref(t, r.Host+"/pruned:"+strings.Replace(images[1], ":", "-", 1)+".sig"))
			assert.Error(t, err, "the signature of the image that went is gone")
		})
	}
}

// datedImage is the OCI layout of a random image built on the given day of January 2026.
func datedImage(t *testing.T, day int) string {
	t.Helper()
	img, err := random.Image(512, 1)
	require.NoError(t, err)
	img, err = mutate.CreatedAt(img, v1Time(time.Date(2026, 1, day, 0, 0, 0, 0, time.UTC)))
	require.NoError(t, err)
	return registrytest.Layout(t, img)
}

// artifactImage is an OCI artifact of one layer of content, with mediaType as its config's media type.
func artifactImage(t *testing.T, mediaType, content string) v1.Image {
	t.Helper()
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.MediaType(mediaType))
	img, err := mutate.Append(img, mutate.Addendum{Layer: static.NewLayer([]byte(content), types.MediaType(mediaType))})
	require.NoError(t, err)
	return img
}
