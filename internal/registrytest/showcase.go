package registrytest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/shipyardci/shipyard/build"
)

// Showcase is what ShowcasePush wrote: a multi-platform image with an SBOM, and a plain image.
type Showcase struct {
	API, Web      name.Repository // HOST/shop/api and HOST/shop/web
	Index         v1.Hash         // shop/api:1.4.2 and :latest, linux/amd64 and linux/arm64
	Platforms     map[string]v1.Hash
	SBOM          v1.Hash // the SBOM of Index, a referrer
	Web200        v1.Hash // shop/web:2.0.0
	Created       time.Time
	Version, Revs string
}

// ShowcasePush pushes the showcase to the plain-HTTP registry host, with the test users' credentials
// when auth.
func ShowcasePush(t testing.TB, host string, auth bool) *Showcase {
	t.Helper()
	opts := []remote.Option{}
	if auth {
		opts = append(opts, remote.WithAuth(&authn.Basic{Username: User, Password: Password}))
	}
	s := &Showcase{API: Repo(t, host+"/shop/api"), Web: Repo(t, host+"/shop/web"), Platforms: map[string]v1.Hash{},
		Created: time.Date(2026, 11, 30, 9, 15, 0, 0, time.UTC), Version: "1.4.2", Revs: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for i, arch := range []string{"amd64", "arm64"} {
		img := image(t, int64(2048*(i+1)), map[string]string{"org.opencontainers.image.version": s.Version, "org.opencontainers.image.revision": s.Revs}, s.Created, arch)
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		s.Platforms["linux/"+arch] = d
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	var err error
	if s.Index, err = idx.Digest(); err != nil {
		t.Fatal(err)
	}
	for _, tag := range []string{"1.4.2", "latest"} {
		if err := remote.WriteIndex(s.API.Tag(tag), idx, opts...); err != nil {
			t.Fatalf("pushing the showcase index: %v", err)
		}
	}
	desc, err := remote.Head(s.API.Digest(s.Index.String()), opts...)
	if err != nil {
		t.Fatal(err)
	}
	sbom, err := build.SBOMArtifact([]byte(`{"spdxVersion":"SPDX-2.3","name":"shop/api"}`), *desc)
	if err != nil {
		t.Fatal(err)
	}
	if s.SBOM, err = sbom.Digest(); err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(s.API.Digest(s.SBOM.String()), sbom, opts...); err != nil {
		t.Fatalf("pushing the showcase SBOM: %v", err)
	}
	web := image(t, 4096, map[string]string{"org.opencontainers.image.version": "2.0.0"}, s.Created.Add(time.Hour), "amd64")
	if s.Web200, err = web.Digest(); err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(s.Web.Tag("2.0.0"), web, opts...); err != nil {
		t.Fatalf("pushing the showcase web image: %v", err)
	}
	return s
}

// image is a random image of one layer of size bytes, with labels, created at created, for linux/arch.
func image(t testing.TB, size int64, labels map[string]string, created time.Time, arch string) v1.Image {
	t.Helper()
	img, err := random.Image(size, 1)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", arch, v1.Time{Time: created}
	cf.Config.Labels = labels
	cf.Config.Entrypoint = []string{"/app"}
	cf.History = []v1.History{{Created: v1.Time{Time: created}, CreatedBy: fmt.Sprintf("shipyard build (linux/%s)", arch)}}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		t.Fatal(err)
	}
	return mutate.ConfigMediaType(mutate.MediaType(img, types.OCIManifestSchema1), types.OCIConfigJSON)
}
