package build

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
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

// WriteTarball writes a one-platform index as an archive that both kinds of tools read: an OCI layout
// of the index (oci-layout, index.json, blobs/), which shipyard push, skopeo's oci-archive: and Docker's
// containerd image store read, so that it pushes with the build's digest; and a `docker save`
// manifest.json over the same blobs, which the classic docker load and docker-archive: read, tagged tag.
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
	dir, err := os.MkdirTemp(filepath.Dir(file), ".tar-")
	if err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	defer os.RemoveAll(dir)
	layoutDir := filepath.Join(dir, "layout")
	if err := WriteLayout(layoutDir, idx, t.TagStr()); err != nil {
		return err
	}
	legacy, err := dockerManifest(img, t)
	if err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	if err := os.WriteFile(filepath.Join(layoutDir, "manifest.json"), legacy, 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", file, err)
	}
	tmp := file + ".tmp"
	if err := tarDir(tmp, layoutDir); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", file, err)
	}
	return os.Rename(tmp, file)
}

// dockerManifest is the manifest.json of `docker save` for img, tagged t, over the layout's blobs.
func dockerManifest(img v1.Image, t name.Tag) ([]byte, error) {
	m, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	blob := func(h v1.Hash) string { return "blobs/" + h.Algorithm + "/" + h.Hex }
	entry := struct {
		Config   string
		RepoTags []string
		Layers   []string
	}{Config: blob(m.Config.Digest), RepoTags: []string{t.String()}}
	for _, l := range m.Layers {
		entry.Layers = append(entry.Layers, blob(l.Digest))
	}
	return json.Marshal([]any{entry})
}

// tarDir writes the files under dir into a tar at file, in name order, with fixed times and modes, so
// that the same files give the same archive.
func tarDir(file, dir string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		hdr := &tar.Header{Name: filepath.ToSlash(rel), Mode: 0o644, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		if d.IsDir() {
			hdr.Typeflag, hdr.Name, hdr.Mode = tar.TypeDir, hdr.Name+"/", 0o755
			return tw.WriteHeader(hdr)
		}
		data, err := os.Open(path)
		if err != nil {
			return err
		}
		defer data.Close()
		info, err := data.Stat()
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, info.Size()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err = io.Copy(tw, data)
		return err
	})
	if err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}
