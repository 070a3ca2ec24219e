package ui

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/shipyardci/shipyard/release"
)

// Kinds of what a tag or digest holds.
const (
	kindImage     = "image"
	kindIndex     = "index"
	kindRelease   = "release record"
	kindReferrers = "referrers"
	kindArtifact  = "artifact"
)

// Labels of the OCI image spec that the tags page shows.
const (
	labelVersion  = "org.opencontainers.image.version"
	labelRevision = "org.opencontainers.image.revision"
)

var imageConfigTypes = []string{"application/vnd.oci.image.config.v1+json", "application/vnd.docker.container.image.v1+json"}

// fallbackTag is the tag of go-containerregistry's (and the OCI spec's) referrers fallback: sha256-HEX.
var fallbackTag = regexp.MustCompile(`^sha256-[0-9a-f]{64}$`)

// imageConfig is what the UI shows of an image's configuration.
type imageConfig struct {
	Created      *time.Time `json:"created,omitempty"`
	Author       string     `json:"author,omitempty"`
	OS           string     `json:"os"`
	Architecture string     `json:"architecture"`
	Variant      string     `json:"variant,omitempty"`
	Config       struct {
		User         string              `json:"User,omitempty"`
		Env          []string            `json:"Env,omitempty"`
		Entrypoint   []string            `json:"Entrypoint,omitempty"`
		Cmd          []string            `json:"Cmd,omitempty"`
		WorkingDir   string              `json:"WorkingDir,omitempty"`
		ExposedPorts map[string]struct{} `json:"ExposedPorts,omitempty"`
		Labels       map[string]string   `json:"Labels,omitempty"`
	} `json:"config"`
	History []struct {
		Created    *time.Time `json:"created,omitempty"`
		CreatedBy  string     `json:"created_by,omitempty"`
		Comment    string     `json:"comment,omitempty"`
		EmptyLayer bool       `json:"empty_layer,omitempty"`
	} `json:"history,omitempty"`
}

// variant is one image of what a tag holds: the image itself, or one platform of an index.
type variant struct {
	Platform string
	Digest   string
	Size     int64 // the compressed size: its layers
	Config   *imageConfig
}

// described is what a tag or a digest holds, read as a client reads it.
type described struct {
	Ref      string
	Manifest *manifest
	Kind     string
	Type     string // an artifact's type
	Variants []variant
	// Referrers list what refers to the manifest (SBOMs, Sigstore bundles), from the referrers tag.
	Referrers []descriptor
}

// sigstoreBundle is the artifact type of a Sigstore bundle (cosign 3, shipyard build --sign-key).
const sigstoreBundle = "application/vnd.dev.sigstore.bundle"

// Signed lists the predicates of the Sigstore bundles that refer to the manifest: a signature
// (https://sigstore.dev/cosign/sign/v1), provenance, SBOM. The UI does not verify them; it has no key.
func (d *described) Signed() []string {
	var out []string
	for _, r := range d.Referrers {
		if strings.HasPrefix(r.ArtifactType, sigstoreBundle) {
			out = append(out, cmp.Or(predicateNames[r.Annotations["dev.sigstore.bundle.predicateType"]], r.Annotations["dev.sigstore.bundle.predicateType"], "bundle"))
		}
	}
	// The referrers' order is the registry's: the signature first, then the rest by name.
	slices.SortFunc(out, func(a, b string) int {
		if (a == "signature") != (b == "signature") {
			if a == "signature" {
				return -1
			}
			return 1
		}
		return cmp.Compare(a, b)
	})
	return slices.Compact(out)
}

// predicateNames are what people call the predicates.
var predicateNames = map[string]string{
	"https://sigstore.dev/cosign/sign/v1": "signature",
	"https://slsa.dev/provenance/v1":      "SLSA provenance",
	"https://spdx.dev/Document":           "SPDX SBOM",
	"https://cyclonedx.org/bom":           "CycloneDX SBOM",
}

// first is the variant whose configuration speaks for the whole (the first platform of an index).
func (d *described) first() *variant {
	for i := range d.Variants {
		if d.Variants[i].Config != nil {
			return &d.Variants[i]
		}
	}
	return nil
}

// Created is when the image was built, "" when unknown.
func (d *described) Created() *time.Time {
	if v := d.first(); v != nil {
		return v.Config.Created
	}
	return nil
}

// Label is a label of the image's configuration.
func (d *described) Label(key string) string {
	if v := d.first(); v != nil {
		return v.Config.Config.Labels[key]
	}
	return ""
}

// describe reads what repo's ref (a tag or a digest) holds: for an index, each platform's manifest and
// configuration too.
func (a api) describe(ctx context.Context, repo, ref string) (*described, error) {
	m, err := a.manifest(ctx, repo, ref)
	if err != nil {
		return nil, err
	}
	d := &described{Ref: ref, Manifest: m}
	switch {
	case m.isIndex() && fallbackTag.MatchString(ref):
		d.Kind = kindReferrers
	case m.isIndex():
		d.Kind = kindIndex
		d.Variants = make([]variant, len(m.Manifests))
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(4)
		for i, child := range m.Manifests {
			g.Go(func() error {
				cm, err := a.manifest(gctx, repo, child.Digest)
				if err != nil {
					return err
				}
				v, err := a.variant(gctx, repo, cm)
				if err != nil {
					return err
				}
				if child.Platform != nil {
					v.Platform = child.Platform.String()
				}
				d.Variants[i] = v
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
	case m.Config != nil && m.Config.MediaType == string(release.MediaType):
		d.Kind = kindRelease
	case m.Config != nil && m.ArtifactType == "" && slices.Contains(imageConfigTypes, m.Config.MediaType):
		d.Kind = kindImage
		v, err := a.variant(ctx, repo, m)
		if err != nil {
			return nil, err
		}
		d.Variants = []variant{v}
	default:
		d.Kind, d.Type = kindArtifact, m.ArtifactType
		if d.Type == "" && m.Config != nil {
			d.Type = m.Config.MediaType
		}
	}
	if d.Kind == kindImage || d.Kind == kindIndex || d.Kind == kindArtifact {
		refs, err := a.manifest(ctx, repo, strings.Replace(m.Digest, ":", "-", 1))
		switch {
		case err == nil:
			d.Referrers = refs.Manifests
		case statusOf(err) != http.StatusNotFound:
			return nil, err
		}
	}
	return d, nil
}

// variant reads an image manifest's configuration.
func (a api) variant(ctx context.Context, repo string, m *manifest) (variant, error) {
	v := variant{Digest: m.Digest, Size: layersSize(m)}
	if m.Config == nil || !slices.Contains(imageConfigTypes, m.Config.MediaType) {
		return v, nil
	}
	data, err := a.blob(ctx, repo, m.Config.Digest)
	if err != nil {
		return v, err
	}
	var c imageConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return v, fmt.Errorf("reading the configuration of %s@%s: %w", repo, m.Digest, err)
	}
	v.Config = &c
	v.Platform = platform{OS: c.OS, Architecture: c.Architecture, Variant: c.Variant}.String()
	return v, nil
}

// layersSize is the compressed size of a manifest's layers, what a pull downloads.
func layersSize(m *manifest) int64 {
	var n int64
	for _, l := range m.Layers {
		n += l.Size
	}
	return n
}

// describeAll describes refs of repo, 8 at a time; a ref that cannot be read is reported in its row.
func (a api) describeAll(ctx context.Context, repo string, refs []string) []row {
	rows := make([]row, len(refs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			d, err := a.describe(ctx, repo, ref)
			rows[i] = row{Tag: ref, D: d, Err: err}
		}()
	}
	wg.Wait()
	return rows
}

// row is one tag of the tags page.
type row struct {
	Tag string
	D   *described
	Err error
}
