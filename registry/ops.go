package registry

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"golang.org/x/sync/errgroup"
)

// Tags lists the tags of a repository, sorted: semantic versions from the highest, then the others by
// name. A repository without tags has an empty list.
func (c *Client) Tags(ctx context.Context, repo name.Repository) ([]string, error) {
	tags, err := c.listTags(ctx, repo)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(tags, compareTags)
	return append([]string{}, tags...), nil
}

// compareTags orders semantic versions first, highest first (1.4.0 before 1.4 before 1), then other
// tags by name.
func compareTags(a, b string) int {
	va, ea := semver.NewVersion(a)
	vb, eb := semver.NewVersion(b)
	switch {
	case ea == nil && eb == nil:
		if c := vb.Compare(va); c != 0 {
			return c
		}
		if c := cmp.Compare(strings.Count(b, "."), strings.Count(a, ".")); c != 0 {
			return c
		}
	case ea == nil:
		return -1
	case eb == nil:
		return 1
	}
	return cmp.Compare(a, b)
}

// CopyResult is what a copy did.
type CopyResult struct {
	Source      name.Digest `json:"source"`
	Destination name.Digest `json:"destination"`
	Digest      string      `json:"digest"`
	Stats
}

// Copy copies an image or index from src to dst by digest, across repositories or registries: blobs are
// mounted when both are on one registry, else streamed from one to the other, never through the disk.
// dst without a tag or digest takes src's tag.
func (c *Client) Copy(ctx context.Context, sr, dr name.Reference) (*CopyResult, error) {
	src, dst := sr.String(), dr.String()
	if t, ok := sr.(name.Tag); ok && !explicitTag(dst) {
		if _, isDigest := dr.(name.Digest); !isDigest {
			dr = dr.Context().Tag(t.TagStr())
		}
	}
	opts := c.remote(ctx, c.opts.Progress)
	desc, err := remote.Get(sr, opts...)
	if err != nil {
		return nil, explain("reading "+sr.String(), err)
	}
	if d, ok := dr.(name.Digest); ok && d.DigestStr() != desc.Digest.String() {
		return nil, &InputError{Option: "registry.Destination", Err: fmt.Errorf("%s names digest %s, but %s is %s", dst, d.DigestStr(), src, desc.Digest)}
	}
	before := c.transport.snapshot()
	p, err := remote.NewPusher(opts...)
	if err != nil {
		return nil, err
	}
	var a remote.Taggable = desc
	switch {
	case desc.MediaType.IsIndex():
		if a, err = desc.ImageIndex(); err != nil {
			return nil, explain("reading "+sr.String(), err)
		}
	case desc.MediaType.IsImage():
		if a, err = desc.Image(); err != nil {
			return nil, explain("reading "+sr.String(), err)
		}
	}
	blobs, err := blobCount(a)
	if err != nil {
		return nil, explain("reading "+sr.String(), err)
	}
	if err := p.Push(ctx, dr, a); err != nil {
		return nil, explain("copying to "+dr.String(), err)
	}
	c.remember(loadBlobCache(c.opts.BlobCache), dr.Context(), a)
	return &CopyResult{Source: sr.Context().Digest(desc.Digest.String()), Destination: dr.Context().Digest(desc.Digest.String()),
		Digest: desc.Digest.String(), Stats: c.transport.snapshot().since(before, blobs)}, nil
}

// Digest resolves a reference to its digest.
func (c *Client) Digest(ctx context.Context, r name.Reference) (string, error) {
	d, err := remote.Head(r, c.remote(ctx, nil)...)
	if err != nil {
		return "", explain("reading "+r.String(), err)
	}
	return d.Digest.String(), nil
}

// Deleted is a manifest a delete or prune removed, with the tags that pointed to it.
type Deleted struct {
	Digest string   `json:"digest"`
	Tags   []string `json:"tags"`
}

// Delete removes the manifest ref names (by tag or digest): registries delete by digest, so every tag on
// that digest goes with it, and the result lists them.
func (c *Client) Delete(ctx context.Context, r name.Reference) (*Deleted, error) {
	digest, err := c.Digest(ctx, r)
	if err != nil {
		return nil, err
	}
	byDigest, err := c.tagsByDigest(ctx, r.Context())
	if err != nil {
		return nil, err
	}
	if err := remote.Delete(r.Context().Digest(digest), c.remote(ctx, nil)...); err != nil {
		return nil, explain("deleting "+r.Context().Digest(digest).String(), err)
	}
	return &Deleted{Digest: digest, Tags: byDigest[digest]}, nil
}

// tagsByDigest maps each digest of repo to its tags, sorted.
func (c *Client) tagsByDigest(ctx context.Context, repo name.Repository) (map[string][]string, error) {
	tags, err := c.listTags(ctx, repo)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Jobs)
	for _, t := range tags {
		g.Go(func() error {
			d, err := remote.Head(repo.Tag(t), c.remote(gctx, nil)...)
			if isNotFound(err) {
				return nil // deleted meanwhile
			}
			if err != nil {
				return explain("reading "+repo.Tag(t).String(), err)
			}
			mu.Lock()
			defer mu.Unlock()
			out[d.Digest.String()] = append(out[d.Digest.String()], t)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, ts := range out {
		slices.SortFunc(ts, compareTags)
	}
	return out, nil
}

// PruneOptions says what a prune keeps.
type PruneOptions struct {
	Keep       int  // the newest N images (by creation time) are kept
	KeepSemver bool // every image with a semantic-version tag is kept too
	DryRun     bool // list what would go, delete nothing
	// Protect are digests never deleted, such as those release records reference.
	Protect []string
}

// Prune deletes the images of a repository beyond the newest opts.Keep, and returns what it deleted (or
// would, with DryRun): an empty list when nothing goes.
func (c *Client) Prune(ctx context.Context, repo name.Repository, opts PruneOptions) ([]Deleted, error) {
	if opts.Keep < 0 {
		return nil, &InputError{Option: "registry.Keep", Err: fmt.Errorf("%d: keep at least 0 images", opts.Keep)}
	}
	byDigest, err := c.tagsByDigest(ctx, repo)
	if err != nil {
		return nil, err
	}
	type image struct {
		digest  string
		tags    []string
		created time.Time
	}
	var images []image
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Jobs)
	for d, tags := range byDigest {
		g.Go(func() error {
			created, err := c.created(gctx, repo.Digest(d))
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			images = append(images, image{d, tags, created})
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.SortFunc(images, func(a, b image) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return compareTags(a.tags[0], b.tags[0])
	})
	deleted := []Deleted{}
	for i, img := range images {
		keep := i < opts.Keep || slices.Contains(opts.Protect, img.digest) ||
			opts.KeepSemver && slices.ContainsFunc(img.tags, func(t string) bool { _, err := semver.NewVersion(t); return err == nil })
		if keep {
			continue
		}
		if !opts.DryRun {
			if err := remote.Delete(repo.Digest(img.digest), c.remote(ctx, nil)...); err != nil {
				return deleted, explain("deleting "+repo.Digest(img.digest).String(), err)
			}
		}
		deleted = append(deleted, Deleted{Digest: img.digest, Tags: img.tags})
	}
	return deleted, nil
}

// created is when the image (or the first image of an index) was built, from its config.
func (c *Client) created(ctx context.Context, ref name.Digest) (time.Time, error) {
	desc, err := remote.Get(ref, c.remote(ctx, nil)...)
	if err != nil {
		return time.Time{}, explain("reading "+ref.String(), err)
	}
	var img v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return time.Time{}, explain("reading "+ref.String(), err)
		}
		im, err := idx.IndexManifest()
		if err != nil || len(im.Manifests) == 0 {
			return time.Time{}, err
		}
		if img, err = idx.Image(im.Manifests[0].Digest); err != nil {
			return time.Time{}, explain("reading "+ref.String(), err)
		}
	} else if img, err = desc.Image(); err != nil {
		return time.Time{}, explain("reading "+ref.String(), err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return time.Time{}, explain("reading the config of "+ref.String(), err)
	}
	return cfg.Created.Time, nil
}
