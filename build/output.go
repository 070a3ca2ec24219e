package build

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// WriteLayout writes the index as the only entry of a new OCI layout at dir (replacing what was there),
// named ref (the org.opencontainers.image.ref.name annotation, as in skopeo's oci:DIR:REF).
func WriteLayout(dir string, idx v1.ImageIndex, ref string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return fmt.Errorf("writing the OCI layout %s: %w", dir, err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".oci-")
	if err != nil {
		return fmt.Errorf("writing the OCI layout %s: %w", dir, err)
	}
	defer os.RemoveAll(tmp)
	p, err := layout.Write(tmp, empty.Index)
	if err != nil {
		return fmt.Errorf("writing the OCI layout %s: %w", dir, err)
	}
	var opts []layout.Option
	if ref != "" {
		opts = append(opts, layout.WithAnnotations(map[string]string{"org.opencontainers.image.ref.name": ref}))
	}
	if err := p.AppendIndex(idx, opts...); err != nil {
		return fmt.Errorf("writing the OCI layout %s: %w", dir, err)
	}
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("replacing %s: %w", dir, err)
	}
	return os.Rename(tmp, dir)
}

// WriteTarball writes the image of a one-platform index as a tarball `docker load` reads, tagged tag.
func WriteTarball(file string, idx v1.ImageIndex, tag string) error {
	im, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	if len(im.Manifests) != 1 {
		return &InputError{Option: "build.Dest", Msg: fmt.Sprintf("tar: holds one platform, and this build has %d: write an OCI layout (oci:DIR), or build one platform", len(im.Manifests))}
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		return err
	}
	t, err := name.NewTag(tag)
	if err != nil {
		return &InputError{Option: "build.Tag", Msg: fmt.Sprintf("%q is not an image tag: %v", tag, err)}
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	tmp := file + ".tmp"
	if err := tarball.WriteToFile(tmp, t, img); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", file, err)
	}
	return os.Rename(tmp, file)
}
