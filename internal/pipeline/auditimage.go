package pipeline

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/shipyardci/shipyard/audit"
	"github.com/shipyardci/shipyard/registry"
)

// AuditImage audits what an image ships: the Go binaries in its file system (oci:DIR, relative to o.Dir,
// or a reference read through client), each by its path in the image, as govulncheck -mode binary reads
// them. Of a multi-platform image, linux/amd64 is read, else the first platform.
func AuditImage(ctx context.Context, image string, o audit.Options, client func() (*registry.Client, func(), error)) (*audit.Report, error) {
	if dir, ok := strings.CutPrefix(image, "oci:"); ok {
		image = "oci:" + resolve(o.Dir, dir)
	}
	img, done, err := imageToAudit(ctx, image, client)
	if err != nil {
		return nil, err
	}
	defer done()
	dir, err := os.MkdirTemp("", "shipyard-audit-image-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bins, trees, err := shipped(img, dir)
	if err != nil {
		return nil, fmt.Errorf("reading the files of %s: %w", image, err)
	}
	return audit.ScanBinaries(ctx, o, bins, trees...)
}

// imageToAudit is the image of one platform that image names.
func imageToAudit(ctx context.Context, image string, client func() (*registry.Client, func(), error)) (v1.Image, func(), error) {
	platform := v1.Platform{OS: "linux", Architecture: "amd64"}
	if dir, ok := strings.CutPrefix(image, "oci:"); ok {
		a, err := registry.Load(dir)
		if err != nil {
			return nil, nil, &InputError{Option: "audit.Image", Err: err}
		}
		switch a := a.(type) {
		case v1.Image:
			return a, func() {}, nil
		case v1.ImageIndex:
			img, err := platformImage(a, platform)
			return img, func() {}, err
		}
		return nil, nil, &InputError{Option: "audit.Image", Err: fmt.Errorf("%s holds no image", dir)}
	}
	c, done, err := client()
	if err != nil {
		return nil, nil, err
	}
	ref, err := c.ParseReference(image)
	if err != nil {
		done()
		return nil, nil, err
	}
	img, err := remote.Image(ref, append(c.RemoteOptions(ctx), remote.WithPlatform(platform))...)
	if err != nil {
		done()
		return nil, nil, fmt.Errorf("reading %s: %w", ref, err)
	}
	return img, done, nil
}

// platformImage is the index's image for platform, else its first image.
func platformImage(idx v1.ImageIndex, platform v1.Platform) (v1.Image, error) {
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var first *v1.Descriptor
	for i, d := range im.Manifests {
		if !d.MediaType.IsImage() {
			continue
		}
		if first == nil {
			first = &im.Manifests[i]
		}
		if d.Platform != nil && d.Platform.OS == platform.OS && d.Platform.Architecture == platform.Architecture {
			return idx.Image(d.Digest)
		}
	}
	if first == nil {
		return nil, fmt.Errorf("the index holds no image")
	}
	return idx.Image(first.Digest)
}

// shipped writes into dir what an audit reads of img's file system (its layers flattened): the
// executable files, of which it returns the Go binaries, and the Node.js applications, a package.json
// beside a package-lock.json or a node_modules/.package-lock.json (npm's record of what it installed);
// each named by its path in the image.
func shipped(img v1.Image, dir string) ([]audit.Binary, []audit.NpmTree, error) {
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	var bins []audit.Binary
	apps := map[string]map[string]bool{} // image directory → which of its two files were written
	for n := 0; ; n++ {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		name := path.Clean("/" + hdr.Name)
		if app, kind, ok := npmFile(name); ok {
			appDir := filepath.Join(dir, "npm", filepath.FromSlash(app))
			if err := os.MkdirAll(appDir, 0o755); err != nil {
				return nil, nil, err
			}
			file := map[string]string{"manifest": "package.json", "lock": "package-lock.json"}[kind]
			if err := writeFile(filepath.Join(appDir, file), tr); err != nil {
				return nil, nil, err
			}
			if apps[app] == nil {
				apps[app] = map[string]bool{}
			}
			apps[app][kind] = true
			continue
		}
		if hdr.Mode&0o111 == 0 {
			continue
		}
		file := filepath.Join(dir, fmt.Sprintf("%d", n))
		if err := writeFile(file, tr); err != nil {
			return nil, nil, err
		}
		if audit.IsGoBinary(file) {
			bins = append(bins, audit.Binary{Path: file, Name: name})
		} else {
			os.Remove(file)
		}
	}
	var trees []audit.NpmTree
	for _, app := range slices.Sorted(maps.Keys(apps)) {
		if apps[app]["manifest"] && apps[app]["lock"] {
			trees = append(trees, audit.NpmTree{Dir: filepath.Join(dir, "npm", filepath.FromSlash(app)), Name: app})
		}
	}
	return bins, trees, nil
}

// npmFile says whether name is an application's package.json (kind "manifest") or lockfile ("lock"),
// and the application's directory: not a package inside node_modules.
func npmFile(name string) (app, kind string, ok bool) {
	dir, base := path.Split(name)
	dir = path.Clean(dir)
	switch {
	case base == ".package-lock.json" && path.Base(dir) == "node_modules":
		app, kind = path.Dir(dir), "lock"
	case base == "package-lock.json":
		app, kind = dir, "lock"
	case base == "package.json":
		app, kind = dir, "manifest"
	default:
		return "", "", false
	}
	if strings.Contains(app+"/", "/node_modules/") {
		return "", "", false
	}
	return app, kind, true
}

func writeFile(file string, r io.Reader) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
