package release

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/registrytest"
)

// registryStore starts the CNCF distribution registry with an image in api, and returns a store of the
// records of api and the image's repository@digest.
func registryStore(t *testing.T) (RegistryStore, string) {
	t.Helper()
	reg := registrytest.Distribution(t, registrytest.Config{})
	repo, err := name.NewRepository(reg.Host + "/api")
	require.NoError(t, err)
	_, img := registrytest.Image(t, 1024, 1)
	require.NoError(t, remote.Write(repo.Tag("1.4.2"), img))
	d, err := img.Digest()
	require.NoError(t, err)
	return RegistryStore{Repository: repo, Settle: 300 * time.Millisecond}, repo.Digest(d.String()).String()
}

// TestRegistryStoreConcurrentCreate: five creates at once for one environment, each writing an artifact
// next to the image in the registry, get five distinct consecutive numbers.
func TestRegistryStoreConcurrentCreate(t *testing.T) {
	ctx := context.Background()
	s, image := registryStore(t)
	var wg sync.WaitGroup
	errs := make([]error, 5)
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := record("staging", image[len(image)-71:])
			r.Image = image
			errs[i] = s.Create(ctx, r, Counter)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	all, err := s.List(ctx, "staging")
	require.NoError(t, err)
	var names []string
	assert.Empty(t, all.Damaged)
	for _, r := range all.Records {
		names = append(names, r.Name)
		assert.Equal(t, "vault:secret/api#db", r.Config.Secrets["DATABASE_URL"], "secrets by reference")
	}
	assert.Equal(t, []string{"v5", "v4", "v3", "v2", "v1"}, names)

	other, err := s.List(ctx, "prod")
	require.NoError(t, err)
	assert.Empty(t, other.Records, "environments are apart")

	// Each record is an artifact tagged next to the image.
	tags, err := remote.List(s.Repository)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"1.4.2", "release-1-staging", "release-2-staging", "release-3-staging", "release-4-staging", "release-5-staging"}, tags)
	m, err := remote.Get(s.Repository.Tag("release-1-staging"))
	require.NoError(t, err)
	assert.Contains(t, string(m.Manifest), `"mediaType":"application/vnd.shipyard.release.v1+json"`)
}

func TestRegistryStoreRollbackAndPromote(t *testing.T) {
	ctx := context.Background()
	s, image := registryStore(t)
	r := &Record{Env: "staging", Image: image, Digest: image[len(image)-71:], Version: "1.4.2", CreatedBy: "ci"}
	require.NoError(t, s.Create(ctx, r, Counter))
	r2 := *r
	require.NoError(t, s.Create(ctx, &r2, Counter))
	back, err := Rollback(ctx, s, RollbackRequest{Env: "staging", To: "v1", Scheme: Counter, By: "ci", Now: now})
	require.NoError(t, err)
	assert.Equal(t, "v3", back.Name)
	assert.Equal(t, "v1", back.RollbackOf)
	prod, err := Promote(ctx, s, PromoteRequest{From: "staging", To: "prod", Name: "", Scheme: Counter, By: "ci", Now: now})
	require.NoError(t, err)
	assert.Equal(t, "v1", prod.Name)
	assert.Equal(t, "staging/v3", prod.PromotedFrom)
	got, err := Get(ctx, s, "prod", "v1")
	require.NoError(t, err)
	assert.Equal(t, image, got.Image)
}

func TestRegistryStoreRefusesAnImageElsewhere(t *testing.T) {
	s, _ := registryStore(t)
	r := &Record{Env: "staging", Image: "other.example.com/api@sha256:0000000000000000000000000000000000000000000000000000000000000000"}
	err := s.Create(context.Background(), r, Counter)
	var in *InputError
	require.ErrorAs(t, err, &in)
	assert.Contains(t, err.Error(), "is not in "+s.Repository.String())
}

// TestRegistryStoreReadListed: a listed tag that is gone by the time it is read (deleted, or unknown for
// the moment a concurrent create rewrites it) is asked again and then skipped, not an error for List;
// an artifact that is no record is damaged.
func TestRegistryStoreReadListed(t *testing.T) {
	s, _ := registryStore(t)
	r, damaged, err := s.readListed(context.Background(), s.Repository.Tag(tagOf(7, "staging")), "staging", 7)
	assert.NoError(t, err)
	assert.Nil(t, r)
	assert.Nil(t, damaged)
	r, damaged, err = s.readListed(context.Background(), s.Repository.Tag("1.4.2"), "staging", 0)
	assert.NoError(t, err)
	assert.Nil(t, r)
	require.NotNil(t, damaged, "an image that is not a record")
	assert.Equal(t, s.Repository.String()+":1.4.2", damaged.Where)
	assert.Contains(t, damaged.Problem, "it is not a release record")
}
