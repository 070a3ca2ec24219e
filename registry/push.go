package registry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// PushResult is what a push did.
type PushResult struct {
	Reference name.Digest `json:"reference"` // repository@digest
	Digest    string      `json:"digest"`
	// Tags name this image when the push ends.
	Tags []string `json:"tags"`
	// Superseded are the moving tags the push set that a higher version, pushed meanwhile, took: each
	// with the version tag it names at the end.
	Superseded map[string]string `json:"superseded,omitempty"`
	Stats
}

// PushOptions are the tags of a push.
type PushOptions struct {
	// Tags are pushed besides the tag of the reference, if it has one; each stable version also moves
	// its minor, major and latest tags (ExpandTags) unless NoExpand.
	Tags     []string
	NoExpand bool
	// Force replaces a released version's tag (1.4.2) that names another image. Without it such a push
	// fails: a released version is immutable.
	Force bool
}

// TagTakenError refuses to move the tag of a released version (1.4.2) to another image.
type TagTakenError struct {
	Tag               name.Tag
	Existing, Pushing string // digests
}

func (e *TagTakenError) Error() string {
	return fmt.Sprintf("%s already names %s, and a released version is immutable: pushing %s there would replace it", e.Tag, e.Existing, e.Pushing)
}

// Push sends the artifact to ref (a repository, a tag or a digest) and tags it. A reference without a tag
// and without PushOptions.Tags is tagged latest, as docker and crane do.
func (c *Client) Push(ctx context.Context, a Artifact, r name.Reference, opts PushOptions) (*PushResult, error) {
	ref := r.String()
	digest, err := a.Digest()
	if err != nil {
		return nil, fmt.Errorf("computing the digest: %w", err)
	}
	if d, ok := r.(name.Digest); ok && d.DigestStr() != digest.String() {
		return nil, &InputError{Option: "registry.Ref", Err: fmt.Errorf("%s names digest %s, but the image is %s", ref, d.DigestStr(), digest)}
	}
	tags := slices.Clone(opts.Tags)
	if t, ok := r.(name.Tag); ok && (explicitTag(ref) || len(tags) == 0) {
		tags = append([]string{t.TagStr()}, tags...)
	}
	for _, t := range tags {
		if _, err := name.NewTag(r.Context().String()+":"+t, c.nameOptions()...); err != nil {
			return nil, &InputError{Option: "registry.Tags", Err: fmt.Errorf("%q is not a valid tag: %w", t, err)}
		}
	}
	repo := r.Context()
	if err := c.checkReleased(ctx, repo, tags, digest.String(), opts.Force); err != nil {
		return nil, err
	}
	var moving []string // the minor, major and latest tags the versions move
	if !opts.NoExpand && slices.ContainsFunc(tags, func(t string) bool { _, _, ok := stable(t); return ok }) {
		existing, err := c.listTags(ctx, repo)
		if err != nil {
			return nil, err
		}
		var expanded []string
		for _, t := range tags {
			more := ExpandTags(t, existing)
			expanded = append(expanded, more...)
			moving = append(moving, more[1:]...)
		}
		tags = expanded
	}
	tags, moving = unique(tags), unique(moving)

	blobs, err := blobCount(a)
	if err != nil {
		return nil, err
	}
	cache := loadBlobCache(c.opts.BlobCache)
	if c.opts.BlobCache != "" {
		a = cache.mountable(repo, a)
	}
	before := c.transport.snapshot()
	what := "pushing to " + repo.String()
	p, err := remote.NewPusher(c.remote(ctx, c.opts.Progress)...)
	if err != nil {
		return nil, explain(what, err)
	}
	byDigest := repo.Digest(digest.String())
	if err := p.Push(ctx, byDigest, a); err != nil {
		return nil, explain(what, err)
	}
	for _, t := range tags {
		if err := p.Put(ctx, repo.Tag(t), a); err != nil {
			return nil, explain("tagging "+repo.Tag(t).String(), err)
		}
	}
	res := &PushResult{Reference: byDigest, Digest: digest.String(), Tags: tags}
	if len(moving) > 0 {
		final, err := c.converge(ctx, repo, moving)
		if err != nil {
			return nil, err
		}
		res.Tags = slices.DeleteFunc(res.Tags, func(t string) bool { return final[t].digest != "" && final[t].digest != res.Digest })
		for _, m := range moving {
			if f := final[m]; f.digest != res.Digest {
				if res.Superseded == nil {
					res.Superseded = map[string]string{}
				}
				res.Superseded[m] = f.version
			}
		}
	}
	c.opts.Logger.Debug("pushed", "reference", byDigest.String(), "tags", res.Tags, "superseded", res.Superseded)
	c.remember(cache, repo, a)
	res.Stats = c.transport.snapshot().since(before, blobs)
	return res, nil
}

// checkReleased refuses, unless force, to point a stable version tag among tags that names another
// image at digest.
func (c *Client) checkReleased(ctx context.Context, repo name.Repository, tags []string, digest string, force bool) error {
	if force {
		return nil
	}
	for _, t := range tags {
		if _, _, ok := stable(t); !ok {
			continue
		}
		existing, err := c.tagDigest(ctx, repo.Tag(t))
		if err != nil {
			return err
		}
		if existing != "" && existing != digest {
			return &TagTakenError{Tag: repo.Tag(t), Existing: existing, Pushing: digest}
		}
	}
	return nil
}

// tagDigest is the digest tag names, or "" when the tag does not exist.
func (c *Client) tagDigest(ctx context.Context, tag name.Tag) (string, error) {
	desc, err := remote.Head(tag, c.remote(ctx, nil)...)
	if isNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", explain("reading "+tag.String(), err)
	}
	return desc.Digest.String(), nil
}

// explicitTag reports whether ref spells out a tag (name.ParseReference adds latest when it does not).
func explicitTag(ref string) bool {
	last := ref[strings.LastIndexByte(ref, '/')+1:]
	return strings.Contains(last, ":")
}

func unique(in []string) []string {
	var out []string
	for _, s := range in {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// listTags lists the tags of repo; a repository that does not exist yet has none.
func (c *Client) listTags(ctx context.Context, repo name.Repository) ([]string, error) {
	tags, err := remote.List(repo, c.remote(ctx, nil)...)
	if isNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, explain("listing the tags of "+repo.String(), err)
	}
	return tags, nil
}

func isNotFound(err error) bool {
	var terr *transport.Error
	if !errors.As(err, &terr) {
		return false
	}
	if terr.StatusCode == http.StatusNotFound {
		return true
	}
	for _, d := range terr.Errors {
		if d.Code == transport.NameUnknownErrorCode || d.Code == transport.ManifestUnknownErrorCode {
			return true
		}
	}
	return false
}

// remember records in the blob-location cache that repo now holds the layers of a.
func (c *Client) remember(cache *blobCache, repo name.Repository, a remote.Taggable) {
	if c.opts.BlobCache == "" {
		return
	}
	digests, err := layerDigests(a)
	if err == nil {
		cache.add(repo, digests)
		err = cache.save()
	}
	if err != nil {
		c.opts.Logger.Debug("the blob-location cache was not updated", "file", c.opts.BlobCache, "error", err)
	}
}

// PushReferrer pushes an artifact that refers to another manifest (its subject), an SBOM or a
// signature, by digest into repository. Registries without the referrers API get go-containerregistry's
// fallback tag (sha256-DIGEST) listing it.
func (c *Client) PushReferrer(ctx context.Context, repo name.Repository, artifact v1.Image) (name.Digest, error) {
	d, err := artifact.Digest()
	if err != nil {
		return name.Digest{}, err
	}
	ref := repo.Digest(d.String())
	if err := remote.Write(ref, artifact, c.remote(ctx, nil)...); err != nil {
		return name.Digest{}, explain("pushing "+ref.String(), err)
	}
	return ref, nil
}
