package registry

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/name"
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
	// Subject is the image a referrer (an SBOM, a signature) referred to, "" for an image.
	Subject string `json:"subject,omitempty"`
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
