package sign

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The OCI empty descriptor's content, the config of an artifact that has none.
const emptyMediaType = "application/vnd.oci.empty.v1+json"

var emptyJSON = []byte("{}")

// Annotations cosign writes on a bundle's artifact, and reads.
const (
	annotationContent   = "dev.sigstore.bundle.content"
	annotationPredicate = "dev.sigstore.bundle.predicateType"
	annotationCreated   = "org.opencontainers.image.created"
)

// artifact is an OCI artifact holding one bundle, referring to its subject: the manifest cosign writes.
type artifact struct {
	manifest []byte
	bundle   []byte
}

type artifactManifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     types.MediaType   `json:"mediaType"`
	ArtifactType  string            `json:"artifactType"`
	Config        v1.Descriptor     `json:"config"`
	Layers        []v1.Descriptor   `json:"layers"`
	Subject       *v1.Descriptor    `json:"subject"`
	Annotations   map[string]string `json:"annotations"`
}

func digestOf(data []byte) v1.Hash {
	sum := sha256.Sum256(data)
	return v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(sum[:])}
}

// newArtifact wraps a bundle of predicateType about subject, created at created.
func newArtifact(bundle []byte, predicateType string, subject v1.Descriptor, created time.Time) (v1.Image, error) {
	m := artifactManifest{
		SchemaVersion: 2, MediaType: types.OCIManifestSchema1, ArtifactType: BundleMediaType,
		Config:  v1.Descriptor{MediaType: emptyMediaType, Digest: digestOf(emptyJSON), Size: int64(len(emptyJSON))},
		Layers:  []v1.Descriptor{{MediaType: BundleMediaType, Digest: digestOf(bundle), Size: int64(len(bundle))}},
		Subject: &v1.Descriptor{MediaType: subject.MediaType, Digest: subject.Digest, Size: subject.Size},
		Annotations: map[string]string{
			annotationContent: "dsse-envelope", annotationPredicate: predicateType,
			annotationCreated: created.UTC().Format(time.RFC3339),
		},
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return partial.CompressedToImage(&artifact{manifest: raw, bundle: bundle})
}

func (a *artifact) RawManifest() ([]byte, error)        { return a.manifest, nil }
func (a *artifact) RawConfigFile() ([]byte, error)      { return emptyJSON, nil }
func (a *artifact) MediaType() (types.MediaType, error) { return types.OCIManifestSchema1, nil }

// LayerByDigest implements partial.CompressedImageCore: the bundle, or the empty config.
func (a *artifact) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	switch h {
	case digestOf(a.bundle):
		return blob{a.bundle, BundleMediaType}, nil
	case digestOf(emptyJSON):
		return blob{emptyJSON, emptyMediaType}, nil
	}
	return nil, fmt.Errorf("the artifact has no blob %s", h)
}

// blob is a blob stored as it is.
type blob struct {
	data      []byte
	mediaType types.MediaType
}

func (b blob) Digest() (v1.Hash, error)            { return digestOf(b.data), nil }
func (b blob) Compressed() (io.ReadCloser, error)  { return io.NopCloser(bytes.NewReader(b.data)), nil }
func (b blob) Size() (int64, error)                { return int64(len(b.data)), nil }
func (b blob) MediaType() (types.MediaType, error) { return b.mediaType, nil }
