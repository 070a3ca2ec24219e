package registry

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// PruneOptions says what a prune keeps.
type PruneOptions struct {
	Keep       int  // the newest N images (by creation time) are kept
	KeepSemver bool // every image with a semantic-version tag is kept too
	DryRun     bool // list what would go, delete nothing
	// Protect are digests never deleted, such as those release records reference.
	Protect []string
}

// referrerTag is a tag that names what refers to an image, not an image: the referrers API's fallback
// tag (sha256-HEX), and cosign's signatures, attestations and SBOMs (sha256-HEX.sig, .att, .sbom).
var referrerTag = regexp.MustCompile(`^sha256-([0-9a-f]{64})(?:\.[a-z]+)?$`)

// pruned is a manifest of the repository: an image, or what refers to one.
type pruned struct {
	digest  string
	tags    []string
	created time.Time
}

// Prune deletes the images of a repository beyond the newest opts.Keep, each with what refers to it
// (its SBOMs, signatures and attestations), and returns what it deleted (or would, with DryRun): an
// empty list when nothing goes. Artifacts that are not images (release records, SBOMs, signatures) are
// never counted as images nor deleted for their own sake, so an image that is kept keeps its referrers.
func (c *Client) Prune(ctx context.Context, repo name.Repository, opts PruneOptions) ([]Deleted, error) {
	if opts.Keep < 0 {
		return nil, &InputError{Option: "registry.Keep", Err: fmt.Errorf("%d: keep at least 0 images", opts.Keep)}
	}
	byDigest, err := c.tagsByDigest(ctx, repo)
	if err != nil {
		return nil, err
	}
	tagged := map[string][]pruned{} // the referrers tagged for each subject
	for d, tags := range byDigest {
		if subject, ok := referrerOf(tags); ok {
			tagged[subject] = append(tagged[subject], pruned{digest: d, tags: tags})
			delete(byDigest, d)
		}
	}
	images, err := c.images(ctx, repo, byDigest)
	if err != nil {
		return nil, err
	}
	deleted := []Deleted{}
	for i, img := range images {
		keep := i < opts.Keep || slices.Contains(opts.Protect, img.digest) ||
			opts.KeepSemver && slices.ContainsFunc(img.tags, func(t string) bool { _, err := semver.NewVersion(t); return err == nil })
		if keep {
			continue
		}
		refs, err := c.referrers(ctx, repo, img.digest, tagged[img.digest])
		if err != nil {
			return deleted, err
		}
		for _, gone := range append(refs, Deleted{Digest: img.digest, Tags: img.tags}) {
			if slices.Contains(opts.Protect, gone.Digest) {
				continue
			}
			if !opts.DryRun {
				if err := remote.Delete(repo.Digest(gone.Digest), c.remote(ctx, nil)...); err != nil && !isNotFound(err) {
					return deleted, explain("deleting "+repo.Digest(gone.Digest).String(), err)
				}
			}
			deleted = append(deleted, gone)
		}
	}
	return deleted, nil
}

// referrerOf is the subject that every one of a manifest's tags names it a referrer of.
func referrerOf(tags []string) (subject string, ok bool) {
	for _, t := range tags {
		m := referrerTag.FindStringSubmatch(t)
		if m == nil || subject != "" && subject != "sha256:"+m[1] {
			return "", false
		}
		subject = "sha256:" + m[1]
	}
	return subject, subject != ""
}

// images reads the creation time of each manifest of byDigest that is an image or an index of images,
// and returns them newest first; artifacts are left out.
func (c *Client) images(ctx context.Context, repo name.Repository, byDigest map[string][]string) ([]pruned, error) {
	var images []pruned
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.Jobs)
	for d, tags := range byDigest {
		g.Go(func() error {
			created, isImage, err := c.created(gctx, repo.Digest(d))
			if err != nil || !isImage {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			images = append(images, pruned{d, tags, created})
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	slices.SortFunc(images, func(a, b pruned) int {
		if c := b.created.Compare(a.created); c != 0 {
			return c
		}
		return compareTags(a.tags[0], b.tags[0])
	})
	return images, nil
}

// referrers are what refers to the image digest: the manifests the referrers API (or its fallback tag)
// lists, and the manifests tagged for it (the fallback tag's own index, cosign's signatures).
func (c *Client) referrers(ctx context.Context, repo name.Repository, digest string, tagged []pruned) ([]Deleted, error) {
	var out []Deleted
	idx, err := remote.Referrers(repo.Digest(digest), c.remote(ctx, nil)...)
	if err != nil && !isNotFound(err) {
		return nil, explain("listing what refers to "+repo.Digest(digest).String(), err)
	}
	if idx != nil {
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, explain("listing what refers to "+repo.Digest(digest).String(), err)
		}
		for _, m := range im.Manifests {
			out = append(out, Deleted{Digest: m.Digest.String(), Tags: []string{}, Subject: digest})
		}
	}
	for _, t := range tagged {
		out = append(out, Deleted{Digest: t.digest, Tags: t.tags, Subject: digest})
	}
	return out, nil
}

// created is when the image (or the first image of an index) was built, from its config; isImage is
// false for an artifact: a manifest with a subject, or whose config is not an image's.
func (c *Client) created(ctx context.Context, ref name.Digest) (t time.Time, isImage bool, err error) {
	desc, err := remote.Get(ref, c.remote(ctx, nil)...)
	if err != nil {
		return time.Time{}, false, explain("reading "+ref.String(), err)
	}
	var img v1.Image
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return time.Time{}, false, explain("reading "+ref.String(), err)
		}
		im, err := idx.IndexManifest()
		if err != nil || len(im.Manifests) == 0 || im.Subject != nil {
			return time.Time{}, false, err
		}
		if img, err = idx.Image(im.Manifests[0].Digest); err != nil {
			return time.Time{}, false, explain("reading "+ref.String(), err)
		}
	} else if img, err = desc.Image(); err != nil {
		return time.Time{}, false, explain("reading "+ref.String(), err)
	}
	m, err := img.Manifest()
	if err != nil {
		return time.Time{}, false, explain("reading "+ref.String(), err)
	}
	if m.Subject != nil || m.Config.MediaType != types.OCIConfigJSON && m.Config.MediaType != types.DockerConfigJSON {
		return time.Time{}, false, nil
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return time.Time{}, false, explain("reading the config of "+ref.String(), err)
	}
	return cfg.Created.Time, true, nil
}
