package release

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// MediaType is the media type of a release record stored in a registry: the artifact's config and its
// one layer, the record's JSON.
const MediaType types.MediaType = "application/vnd.shipyard.release.v1+json"

// RegistryStore keeps records in the image's own repository, so that nothing but the registry has to
// run: each release is an OCI artifact, tagged release-N-ENV, that names its image by digest. (It has
// no subject: on registries without the referrers API, go-containerregistry keeps the referrers in one
// index that concurrent writers would overwrite.)
//
// Registries have no create-if-absent for tags, so Create checks after it writes: it tags number N
// only when the tag is absent, waits Settle, and reads the tag back, twice; a concurrent Create that took
// N too has overwritten it or will find it taken, and the one whose artifact the tag holds keeps N while
// the other tries N+1. The record is uploaded by digest before, so that finding the tag absent and
// tagging are two small requests apart. What is left open is a writer that stalls between those two for
// longer than twice Settle.
type RegistryStore struct {
	Repository name.Repository
	// Options give each request its context, authentication and transport.
	Options func(ctx context.Context) []remote.Option
	// Settle is how long Create waits before it reads its tag back (default 300ms).
	Settle time.Duration
}

// releaseTag is release-N-ENV.
var releaseTag = regexp.MustCompile(`^release-([0-9]+)-([a-z0-9][a-z0-9._-]*)$`)

func tagOf(n int, env string) string { return "release-" + strconv.Itoa(n) + "-" + env }

func (s RegistryStore) options(ctx context.Context) []remote.Option {
	if s.Options == nil {
		return []remote.Option{remote.WithContext(ctx)}
	}
	return s.Options(ctx)
}

// Create implements Store.
func (s RegistryStore) Create(ctx context.Context, r *Record, scheme Scheme) error {
	if !envName.MatchString(r.Env) {
		return &InputError{Option: "release.Env", Msg: fmt.Sprintf("%q is not an environment name (lower-case letters, digits, ., _ and -)", r.Env)}
	}
	if err := s.checkImage(ctx, r.Image); err != nil {
		return err
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now().UTC()
	}
	settle := s.Settle
	if settle <= 0 {
		settle = 300 * time.Millisecond
	}
	failures := 0
	for attempt := 1; attempt <= 50; attempt++ {
		// A tag that could not be read (a concurrent create rewriting it) still holds its number: the
		// listing's Highest counts it.
		prior, err := s.List(ctx, r.Env)
		if err != nil {
			return err
		}
		if err := next(r, scheme, prior); err != nil {
			return err
		}
		won, err := s.claim(ctx, r, settle)
		var werr *writeError
		if errors.As(err, &werr) && failures < 5 {
			// Concurrent uploads of the same blob can fail on some registries: try again.
			failures++
			err = nil
		}
		if err != nil || won {
			return err
		}
		// Another Create took this number: try the next one, after a pause that spreads the writers.
		if err := pause(ctx, time.Duration(rand.Int64N(int64(settle)))); err != nil {
			return err
		}
	}
	return fmt.Errorf("creating a release of %s in %s: other writers took every number tried", r.Env, s.Repository)
}

// claim writes r's artifact under its number's tag unless the tag exists, and reports whether the tag
// still holds it after settle.
func (s RegistryStore) claim(ctx context.Context, r *Record, settle time.Duration) (bool, error) {
	tag := s.Repository.Tag(tagOf(r.Number, r.Env))
	art, err := artifact(r)
	if err != nil {
		return false, err
	}
	want, err := art.Digest()
	if err != nil {
		return false, err
	}
	// The artifact goes up first, by digest, so that between finding the tag absent and tagging there
	// is one small request, not an upload a loaded registry may take seconds over.
	if err := remote.Write(s.Repository.Digest(want.String()), art, s.options(ctx)...); err != nil {
		return false, &writeError{fmt.Errorf("writing the release record %s: %w", tag, err)}
	}
	// A tag that a concurrent create is rewriting reads as absent for a moment: absent three times, a
	// little apart, is absent.
	for try := range 3 {
		if _, err := remote.Head(tag, s.options(ctx)...); err == nil {
			return false, nil
		} else if !notFound(err) {
			return false, fmt.Errorf("reading %s: %w", tag, err)
		}
		if try < 2 {
			if err := pause(ctx, 25*time.Millisecond); err != nil {
				return false, err
			}
		}
	}
	if err := remote.Tag(tag, art, s.options(ctx)...); err != nil {
		return false, &writeError{fmt.Errorf("tagging the release record %s: %w", tag, err)}
	}
	// Read back twice, settle apart: a writer that found the tag absent just before this write and
	// stalled until after the first read is caught by the second. (Lost, the claim is left untagged for
	// the registry's garbage collection: deleting it by digest would also drop the tag on registries that
	// delete every tag that ever pointed to a manifest.)
	for range 2 {
		if err := pause(ctx, settle); err != nil {
			return false, err
		}
		got, err := remote.Head(tag, s.options(ctx)...)
		if err != nil {
			return false, fmt.Errorf("reading back %s: %w", tag, err)
		}
		if got.Digest != want {
			return false, nil
		}
	}
	return true, nil
}

// writeError is a failed write of a record, which Create tries again a few times.
type writeError struct{ error }

func (e *writeError) Unwrap() error { return e.error }

// checkImage makes sure the release's image is in the store's repository.
func (s RegistryStore) checkImage(ctx context.Context, image string) error {
	ref, err := name.NewDigest(image)
	if err != nil {
		return &InputError{Option: "release.Image", Msg: fmt.Sprintf("%q must be REPOSITORY@sha256:DIGEST", image)}
	}
	if ref.Context().String() != s.Repository.String() {
		return &InputError{Option: "release.Image", Msg: fmt.Sprintf("%s is not in %s, where the records of these releases are kept", image, s.Repository)}
	}
	if _, err := remote.Head(ref, s.options(ctx)...); err != nil {
		return fmt.Errorf("reading %s: %w", image, err)
	}
	return nil
}

// artifact is r as an OCI artifact.
func artifact(r *Record) (v1.Image, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, MediaType)
	img, err = mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(data, MediaType)})
	if err != nil {
		return nil, err
	}
	out, ok := mutate.Annotations(img, map[string]string{
		"org.opencontainers.image.title":   r.Name,
		"org.opencontainers.image.created": r.CreatedAt.UTC().Format(time.RFC3339),
		"dev.shipyard.release.env":         r.Env,
		"dev.shipyard.release.number":      strconv.Itoa(r.Number),
		"dev.shipyard.release.image":       r.Image,
		// Two writers of the same record must not write the same digest: the read-back tells them apart.
		"dev.shipyard.release.claim": strconv.FormatUint(rand.Uint64(), 16),
	}).(v1.Image)
	if !ok {
		return nil, errors.New("annotating the release record")
	}
	return out, nil
}

// List implements Store. A tag whose artifact is not a sealed record of the environment is reported
// damaged.
func (s RegistryStore) List(ctx context.Context, env string) (Listing, error) {
	var l Listing
	if !envName.MatchString(env) {
		return l, &InputError{Option: "release.Env", Msg: fmt.Sprintf("%q is not an environment name (lower-case letters, digits, ., _ and -)", env)}
	}
	tags, err := s.tags(ctx)
	if err != nil {
		return l, err
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, t := range tags {
		m := releaseTag.FindStringSubmatch(t)
		if m == nil || m[2] != env {
			continue
		}
		n, err := strconv.Atoi(m[1])
		if err != nil {
			continue
		}
		l.Highest = max(l.Highest, n)
		g.Go(func() error {
			r, damaged, err := s.readListed(gctx, s.Repository.Tag(t), env, n)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case damaged != nil:
				l.Damaged = append(l.Damaged, damaged)
			case r != nil:
				l.Records = append(l.Records, *r)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return Listing{}, err
	}
	slices.SortFunc(l.Records, func(a, b Record) int { return b.Number - a.Number })
	slices.SortFunc(l.Damaged, func(a, b *DamagedError) int { return b.Number - a.Number })
	return l, nil
}

// Environments implements Store: the environments of the repository's release tags.
func (s RegistryStore) Environments(ctx context.Context) ([]string, error) {
	tags, err := s.tags(ctx)
	if err != nil {
		return nil, err
	}
	var envs []string
	for _, t := range tags {
		if m := releaseTag.FindStringSubmatch(t); m != nil && !slices.Contains(envs, m[2]) {
			envs = append(envs, m[2])
		}
	}
	slices.Sort(envs)
	return envs, nil
}

// tags lists the repository's tags; a repository that does not exist has none.
func (s RegistryStore) tags(ctx context.Context) ([]string, error) {
	tags, err := remote.List(s.Repository, s.options(ctx)...)
	if err != nil && !notFound(err) {
		return nil, fmt.Errorf("listing the releases in %s: %w", s.Repository, err)
	}
	return tags, nil
}

// readListed reads a tag that the listing named. A registry may answer "unknown" for it for a moment
// while a concurrent Create rewrites it (distribution's filesystem driver truncates a tag's link before
// it writes it again), so a not-found is asked again a few times; a tag still unknown then was deleted
// since the listing, and is skipped (nil, nil).
func (s RegistryStore) readListed(ctx context.Context, tag name.Tag, env string, number int) (*Record, *DamagedError, error) {
	for try := 1; ; try++ {
		r, damaged, err := s.read(ctx, tag, env, number)
		if err == nil || !notFound(err) {
			return r, damaged, err
		}
		if try == 5 {
			return nil, nil, nil
		}
		if err := pause(ctx, time.Duration(try)*20*time.Millisecond); err != nil {
			return nil, nil, err
		}
	}
}

// read fetches the record a tag holds, and verifies it: an artifact that is not a sealed record of the
// environment's release number is damaged. err is for what the registry answered.
func (s RegistryStore) read(ctx context.Context, tag name.Tag, env string, number int) (*Record, *DamagedError, error) {
	img, err := remote.Image(tag, s.options(ctx)...)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the release record %s: %w", tag, err)
	}
	damaged := func(problem string) (*Record, *DamagedError, error) {
		return nil, &DamagedError{Where: tag.String(), Number: number, Problem: problem}, nil
	}
	layers, err := img.Layers()
	if err != nil {
		return damaged("it is not a release record: " + err.Error())
	}
	if len(layers) != 1 {
		return damaged(fmt.Sprintf("it is not a release record: it has %d layers, not one", len(layers)))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		return nil, nil, fmt.Errorf("reading the release record %s: %w", tag, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, 1<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("reading the release record %s: %w", tag, err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return damaged("it is not a release record: " + err.Error())
	}
	if d := verify(&r, tag.String(), env, number); d != nil {
		return nil, d, nil
	}
	return &r, nil, nil
}

// notFound is a registry's 404 for a tag or repository that does not exist.
func notFound(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
