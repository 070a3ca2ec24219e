package sign

import (
	"context"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/shipyardci/shipyard/internal/registrytest"
	"github.com/shipyardci/shipyard/registry"
)

// TestTamperedAttestationIsRefused: a provenance whose statement was changed after it was signed (the
// commit rewritten, the signature kept) is listed as a referrer but never verifies.
func TestTamperedAttestationIsRefused(t *testing.T) {
	s, err := registry.Start(context.Background(), registry.ServeOptions{Addr: "127.0.0.1:0", Root: t.TempDir(), NoUI: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	repo := registrytest.Repo(t, s.Host()+"/app")
	if err := remote.Write(repo.Tag("1"), img); err != nil {
		t.Fatal(err)
	}
	d, _ := img.Digest()
	ref := repo.Digest(d.String())
	key, _ := testKey(t)
	if _, err := Images(context.Background(), Request{Key: key, Repository: repo, Digests: []string{d.String()}}); err != nil {
		t.Fatal(err)
	}
	// A genuine provenance bundle, its statement rewritten, pushed as a referrer.
	prov := Provenance{Repository: "https://github.com/acme/app", Commit: strings.Repeat("1", 40)}
	st, err := newStatement(repo.Name(), d.String(), ProvenancePredicate, prov.predicate())
	if err != nil {
		t.Fatal(err)
	}
	signed, err := key.signBundle(st)
	if err != nil {
		t.Fatal(err)
	}
	var b protobundle.Bundle
	if err := protojson.Unmarshal(signed, &b); err != nil {
		t.Fatal(err)
	}
	env := b.GetDsseEnvelope()
	env.Payload = []byte(strings.ReplaceAll(string(env.Payload), strings.Repeat("1", 40), strings.Repeat("2", 40)))
	tampered, err := protojson.Marshal(&b)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Head(ref)
	if err != nil {
		t.Fatal(err)
	}
	art, err := newArtifact(tampered, ProvenancePredicate, v1.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	ad, _ := art.Digest()
	if err := remote.Write(repo.Digest(ad.String()), art); err != nil {
		t.Fatal(err)
	}

	if _, err := Verify(context.Background(), VerifyRequest{Ref: ref, Key: key.Public()}); err != nil {
		t.Fatalf("the signature itself still verifies: %v", err)
	}
	_, err = Verify(context.Background(), VerifyRequest{Ref: ref, Key: key.Public(), Attestations: []string{ProvenancePredicate}})
	if err == nil || !strings.Contains(err.Error(), "its signature does not verify with the key") {
		t.Fatalf("a tampered provenance verified, or for another reason: %v", err)
	}
}
