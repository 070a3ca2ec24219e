package pipeline

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/shipyardci/shipyard/coverage"
	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/registry"
)

// recordsKept is how many records of a kind stay in the registry: older ones are deleted by writers.
const recordsKept = 10

// registryRecords keeps small JSON documents of one kind (timings, a coverage baseline) in a registry
// repository, beside the project's image as the release records are. Registries have no
// compare-and-swap, so a write never replaces anything: each is an artifact of its own, tagged
// shipyard-KIND-UNIXNANO-RANDOM, and readers take the newest (timings) or the highest (baseline); no
// concurrent update is lost. Writers delete the records older than the newest recordsKept.
type registryRecords struct {
	ref, kind string
	client    func() (*registry.Client, func(), error)

	once sync.Once // opens the client on first use
	repo name.Repository
	opts func(context.Context) []remote.Option
	err  error
}

// recordsOf is the store of kind that ref (registry://HOST/REPO) names, read and written with client.
func recordsOf(ref, kind string, client func() (*registry.Client, func(), error)) *registryRecords {
	return &registryRecords{ref: ref, kind: kind, client: client}
}

// open makes the client, once.
func (r *registryRecords) open() error {
	r.once.Do(func() {
		c, _, err := r.client() // the clients of records show no progress: nothing to end
		if err != nil {
			r.err = err
			return
		}
		r.repo, r.err = c.ParseRepository(strings.TrimPrefix(r.ref, "registry://"))
		r.opts = c.RemoteOptions
	})
	return r.err
}

func (r *registryRecords) mediaType() types.MediaType {
	return types.MediaType("application/vnd.shipyard." + r.kind + ".v1+json")
}

func (r *registryRecords) prefix() string { return "shipyard-" + r.kind + "-" }

// write stores doc as a new record.
func (r *registryRecords) write(ctx context.Context, doc []byte) error {
	if err := r.open(); err != nil {
		return err
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, r.mediaType())
	img, err := mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(doc, r.mediaType())})
	if err != nil {
		return err
	}
	tag := fmt.Sprintf("%s%019d-%016x", r.prefix(), time.Now().UnixNano(), rand.Uint64())
	if err := remote.Write(r.repo.Tag(tag), img, r.opts(ctx)...); err != nil {
		return fmt.Errorf("recording the %s in %s: %w", r.kind, r.repo, err)
	}
	r.prune(ctx)
	return nil
}

// tags are the records' tags, oldest first.
func (r *registryRecords) tags(ctx context.Context) ([]string, error) {
	if err := r.open(); err != nil {
		return nil, err
	}
	all, err := remote.List(r.repo, r.opts(ctx)...)
	var terr *transport.Error
	if errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound {
		return nil, nil // no repository yet: no record
	}
	if err != nil {
		return nil, fmt.Errorf("listing the %s records in %s: %w", r.kind, r.repo, err)
	}
	var out []string
	for _, t := range all {
		if strings.HasPrefix(t, r.prefix()) {
			out = append(out, t)
		}
	}
	slices.Sort(out) // the time is zero-padded: by name is by time
	return out, nil
}

// read returns the newest records, newest first, at most n.
func (r *registryRecords) read(ctx context.Context, n int) ([][]byte, error) {
	tags, err := r.tags(ctx)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for i := len(tags) - 1; i >= 0 && len(out) < n; i-- {
		img, err := remote.Image(r.repo.Tag(tags[i]), r.opts(ctx)...)
		if err != nil {
			continue // pruned by a writer since the listing
		}
		layers, err := img.Layers()
		if err != nil || len(layers) != 1 {
			continue
		}
		rc, err := layers[0].Uncompressed()
		if err != nil {
			return nil, err
		}
		data, err := io.ReadAll(io.LimitReader(rc, 16<<20))
		rc.Close()
		if err != nil {
			return nil, err
		}
		out = append(out, data)
	}
	return out, nil
}

// prune deletes the records older than the newest recordsKept; what fails to go stays for a later writer.
func (r *registryRecords) prune(ctx context.Context) {
	tags, err := r.tags(ctx)
	if err != nil || len(tags) <= recordsKept {
		return
	}
	for _, t := range tags[:len(tags)-recordsKept] {
		if d, err := remote.Head(r.repo.Tag(t), r.opts(ctx)...); err == nil {
			_ = remote.Delete(r.repo.Digest(d.Digest.String()), r.opts(ctx)...)
		}
	}
}

// ReadBaseline implements coverage.BaselineStore: the highest total of the records kept.
func (r *registryRecords) ReadBaseline(ctx context.Context) (*coverage.Baseline, error) {
	docs, err := r.read(ctx, recordsKept)
	if err != nil {
		return nil, err
	}
	var best *coverage.Baseline
	for _, d := range docs {
		var b coverage.Baseline
		if json.Unmarshal(d, &b) == nil && (best == nil || b.Total > best.Total) {
			best = &b
		}
	}
	return best, nil
}

// readTimings is the newest timings recorded; none is no history.
func (r *registryRecords) readTimings(ctx context.Context) (coverage.Timings, error) {
	docs, err := r.read(ctx, 1)
	if err != nil || len(docs) == 0 {
		return coverage.Timings{}, err
	}
	var t coverage.Timings
	if err := json.Unmarshal(docs[0], &t); err != nil {
		return coverage.Timings{}, fmt.Errorf("reading the timings in %s: %w", r.repo, err)
	}
	return t, nil
}

// isRegistry says whether a history or baseline reference is registry://HOST/REPO.
func isRegistry(ref string) bool { return strings.HasPrefix(ref, "registry://") }

// ClientFor opens a registry client of shipyard.yaml's registry settings and the environment's
// credentials (SHIPYARD_REGISTRY_USERNAME/PASSWORD, Docker's config.json): for the test command's
// records, which has no registry flags of its own.
func ClientFor(c config.Registry, getenv func(string) string) func() (*registry.Client, func(), error) {
	return func() (*registry.Client, func(), error) {
		o := registry.Options{Username: cmp.Or(getenv("SHIPYARD_REGISTRY_USERNAME"), c.Username), Password: getenv("SHIPYARD_REGISTRY_PASSWORD"),
			DockerConfig: registry.DockerConfigDir(getenv), Insecure: c.Insecure, Jobs: c.Jobs}
		if c.CACert != "" {
			o.CACerts = []string{c.CACert}
		}
		cl, err := registry.New(o)
		return cl, func() {}, err
	}
}

// WriteBaseline records the report's total as the baseline ref names: a file relative to dir, or
// registry://HOST/REPO, where the highest recorded total stays the baseline.
func WriteBaseline(ctx context.Context, dir, ref string, r *coverage.Report, client func() (*registry.Client, func(), error)) error {
	if !isRegistry(ref) {
		return r.WriteBaseline(resolve(dir, ref))
	}
	doc, err := json.Marshal(r.Baseline())
	if err != nil {
		return err
	}
	return recordsOf(ref, "baseline", client).write(ctx, doc)
}
