package registry

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Artifact is what a push sends: an image or a multi-platform index.
type Artifact interface {
	remote.Taggable
	Digest() (v1.Hash, error)
	MediaType() (types.MediaType, error)
}

// Load reads the artifact at path: an OCI layout directory (its one manifest, or all of them as an
// index when it holds several) or a `docker save` tarball.
func Load(path string) (Artifact, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, &InputError{Option: "registry.Source", Err: fmt.Errorf("%s: %w", path, errors.Unwrap(err))}
	}
	if !info.IsDir() {
		img, err := tarball.ImageFromPath(path, nil)
		if err != nil {
			return nil, &InputError{Option: "registry.Source", Err: fmt.Errorf("%s is not an image tarball (docker save format): %w", path, err)}
		}
		return img, nil
	}
	if _, err := os.Stat(filepath.Join(path, "oci-layout")); err != nil {
		return nil, &InputError{Option: "registry.Source", Err: fmt.Errorf("%s is not an OCI layout: it has no oci-layout file", path)}
	}
	idx, err := layout.ImageIndexFromPath(path)
	if err != nil {
		return nil, &InputError{Option: "registry.Source", Err: fmt.Errorf("reading the OCI layout %s: %w", path, err)}
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, &InputError{Option: "registry.Source", Err: fmt.Errorf("reading %s/index.json: %w", path, err)}
	}
	switch {
	case len(im.Manifests) == 0:
		return nil, &InputError{Option: "registry.Source", Err: fmt.Errorf("the OCI layout %s holds no image", path)}
	case len(im.Manifests) > 1:
		return idx, nil
	}
	d := im.Manifests[0]
	if d.MediaType.IsIndex() {
		return idx.ImageIndex(d.Digest)
	}
	if d.MediaType.IsImage() {
		return idx.Image(d.Digest)
	}
	return nil, &InputError{Option: "registry.Source", Err: fmt.Errorf("the OCI layout %s holds a %s, not an image or an index", path, d.MediaType)}
}
