package registry

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

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
// index when it holds several), an OCI archive (a tar of a layout, as shipyard build --dest tar: and
// skopeo's oci-archive: write), or a `docker save` tarball. An archive is unpacked into a temporary
// directory, which the artifact's Close removes: close an artifact that is an io.Closer when done.
func Load(path string) (Artifact, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, &InputError{Option: "registry.Source", Err: fmt.Errorf("%s: %w", path, errors.Unwrap(err))}
	}
	if !info.IsDir() {
		if a, err := loadArchive(path); a != nil || err != nil {
			return a, err
		}
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

// archivedIndex and archivedImage are an index or an image read from an OCI archive unpacked in a
// temporary directory (unpacked): they are still an index and an image to the pusher.
type (
	archivedIndex struct {
		baseIndex // so that its ImageIndex method is promoted
		unpacked
	}
	archivedImage struct {
		v1.Image
		unpacked
	}
	unpacked string
)

// Close removes the unpacked archive.
func (u unpacked) Close() error { return os.RemoveAll(string(u)) }

// loadArchive reads the tar at path as an OCI archive, or returns nil, nil when it is not one (a
// `docker save` tarball, or no tar).
func loadArchive(path string) (Artifact, error) {
	isLayout := false
	err := eachEntry(path, func(hdr *tar.Header, _ io.Reader) error {
		isLayout = isLayout || hdr.Name == "oci-layout" || hdr.Name == "./oci-layout"
		return nil
	})
	if err != nil || !isLayout {
		return nil, nil
	}
	dir, err := os.MkdirTemp("", "shipyard-oci-")
	if err != nil {
		return nil, err
	}
	if err := eachEntry(path, func(hdr *tar.Header, r io.Reader) error { return unpack(dir, hdr, r) }); err != nil {
		os.RemoveAll(dir)
		return nil, &InputError{Option: "registry.Source", Err: fmt.Errorf("reading the OCI archive %s: %w", path, err)}
	}
	a, err := Load(dir)
	switch a := a.(type) {
	case v1.ImageIndex:
		return archivedIndex{a, unpacked(dir)}, nil
	case v1.Image:
		return archivedImage{a, unpacked(dir)}, nil
	}
	os.RemoveAll(dir)
	return nil, err
}

// eachEntry calls do for each entry of the tar at path, with its content.
func eachEntry(path string, do func(*tar.Header, io.Reader) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := do(hdr, tr); err != nil {
			return err
		}
	}
}

// unpack writes one entry of a tar under dir: directories and regular files, nothing outside dir.
func unpack(dir string, hdr *tar.Header, r io.Reader) error {
	target := filepath.Join(dir, filepath.FromSlash(hdr.Name))
	if target == dir {
		return nil
	}
	if !strings.HasPrefix(target, dir+string(filepath.Separator)) {
		return fmt.Errorf("%s is outside the archive", hdr.Name)
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return os.MkdirAll(target, 0o755)
	case tar.TypeReg:
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, r); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	}
	return nil
}
