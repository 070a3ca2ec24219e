package registry

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/renameio/v2"
)

// A blob-location cache, as skopeo keeps one: which repositories of a registry shipyard pushed each
// layer to. Pushing the same layers to another repository of that registry then mounts them from
// there (one request each) instead of uploading them again. A mount the registry refuses falls back to
// an upload, so a stale entry costs nothing but that request.

const (
	maxCachedBlobs  = 20000 // the least recently used beyond this are forgotten
	maxReposPerBlob = 4
)

type blobCache struct {
	path string
	mu   sync.Mutex
	// Registries maps a registry host to its layers' digests and where they are.
	Registries map[string]map[string]*blobLocation `json:"registries"`
}

type blobLocation struct {
	Repositories []string  `json:"repositories"`
	Used         time.Time `json:"used"`
}

// loadBlobCache reads the cache at path; a missing or unreadable cache is an empty one.
func loadBlobCache(path string) *blobCache {
	c := &blobCache{path: path, Registries: map[string]map[string]*blobLocation{}}
	if path == "" {
		return c
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return c
	}
	if json.Unmarshal(data, c) != nil || c.Registries == nil {
		c.Registries = map[string]map[string]*blobLocation{}
	}
	return c
}

// source is a repository of reg other than repo known to hold digest.
func (c *blobCache) source(repo name.Repository, digest string) (name.Repository, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	loc := c.Registries[repo.RegistryStr()][digest]
	if loc == nil {
		return name.Repository{}, false
	}
	for _, r := range loc.Repositories {
		if r != repo.RepositoryStr() {
			return repo.Registry.Repo(r), true
		}
	}
	return name.Repository{}, false
}

// add records that repo holds the digests.
func (c *blobCache) add(repo name.Repository, digests []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	reg := c.Registries[repo.RegistryStr()]
	if reg == nil {
		reg = map[string]*blobLocation{}
		c.Registries[repo.RegistryStr()] = reg
	}
	now := time.Now().UTC()
	for _, d := range digests {
		loc := reg[d]
		if loc == nil {
			loc = &blobLocation{}
			reg[d] = loc
		}
		loc.Used = now
		loc.Repositories = slices.DeleteFunc(loc.Repositories, func(r string) bool { return r == repo.RepositoryStr() })
		loc.Repositories = append([]string{repo.RepositoryStr()}, loc.Repositories...)
		loc.Repositories = loc.Repositories[:min(len(loc.Repositories), maxReposPerBlob)]
	}
	c.trim()
}

// trim forgets the least recently used blobs beyond maxCachedBlobs.
func (c *blobCache) trim() {
	type entry struct {
		reg, digest string
		used        time.Time
	}
	var all []entry
	for reg, blobs := range c.Registries {
		for d, loc := range blobs {
			all = append(all, entry{reg, d, loc.Used})
		}
	}
	if len(all) <= maxCachedBlobs {
		return
	}
	slices.SortFunc(all, func(a, b entry) int { return b.used.Compare(a.used) })
	for _, e := range all[maxCachedBlobs:] {
		delete(c.Registries[e.reg], e.digest)
	}
}

// save writes the cache atomically; a cache that cannot be written is not an error worth failing a push.
func (c *blobCache) save() error {
	if c.path == "" {
		return nil
	}
	c.mu.Lock()
	data, err := json.Marshal(c)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return err
	}
	return renameio.WriteFile(c.path, data, 0o644)
}

// mountable wraps an artifact so that its layers the cache has seen in another repository of repo's
// registry are mounted from there.
func (c *blobCache) mountable(repo name.Repository, a Artifact) Artifact {
	switch x := a.(type) {
	case v1.ImageIndex:
		return &mountableIndex{baseIndex: x, cache: c, repo: repo}
	case v1.Image:
		return &mountableImage{Image: x, cache: c, repo: repo}
	}
	return a
}

type mountableImage struct {
	v1.Image
	cache *blobCache
	repo  name.Repository
}

func (m *mountableImage) Layers() ([]v1.Layer, error) {
	ls, err := m.Image.Layers()
	if err != nil {
		return nil, err
	}
	out := make([]v1.Layer, len(ls))
	for i, l := range ls {
		out[i] = l
		d, err := l.Digest()
		if err != nil {
			continue
		}
		if from, ok := m.cache.source(m.repo, d.String()); ok {
			out[i] = &remote.MountableLayer{Layer: l, Reference: from.Digest(d.String())}
		}
	}
	return out, nil
}

// baseIndex names the embedded index so that its ImageIndex method is promoted, not hidden by the field.
type baseIndex = v1.ImageIndex

type mountableIndex struct {
	baseIndex
	cache *blobCache
	repo  name.Repository
}

func (m *mountableIndex) Image(h v1.Hash) (v1.Image, error) {
	img, err := m.baseIndex.Image(h)
	if err != nil {
		return nil, err
	}
	return &mountableImage{Image: img, cache: m.cache, repo: m.repo}, nil
}

func (m *mountableIndex) ImageIndex(h v1.Hash) (v1.ImageIndex, error) {
	idx, err := m.baseIndex.ImageIndex(h)
	if err != nil {
		return nil, err
	}
	return &mountableIndex{baseIndex: idx, cache: m.cache, repo: m.repo}, nil
}

// layerDigests lists the layers of an artifact (its images' for an index).
func layerDigests(a remote.Taggable) ([]string, error) {
	var out []string
	err := eachImage(a, func(m *v1.Manifest) {
		for _, l := range m.Layers {
			out = append(out, l.Digest.String())
		}
	})
	return out, err
}

var _ v1.ImageIndex = (*mountableIndex)(nil)
