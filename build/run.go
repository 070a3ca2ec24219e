package build

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/renameio/v2"
)

// Spec is one build: the project, what goes in the image, and where the image goes.
type Spec struct {
	// Dir is the project. With a go.mod, Main is built for each platform; without one, the image is
	// Image.Layers alone.
	Dir       string
	Main      string
	Platforms []Platform
	CGO       bool
	// Env is the environment of the go command and of the layers' run steps.
	Env []string
	// Layers are the project's directories that go in the image, each its own layer.
	Layers []LayerSpec
	// Image is the image's base and configuration. Its Epoch, Version and Revision stamp the binaries
	// and the SBOMs too; its Layers are filled from Layers.
	Image ImageOptions
	// Dest is where the image goes: oci:DIR or tar:FILE, relative to Dir.
	Dest string
	// ToolVersion names the SBOMs' creator.
	ToolVersion string
	// Tool, when set, puts the migrations and shipyard in the image, for the pre-deploy Job.
	Tool *Tool
}

// Result is what a build made.
type Result struct {
	Index v1.ImageIndex
	// Name is what was built: the binary's name, else the project's.
	Name     string
	Binaries []Binary
	// Referrers are the artifacts that go with the image when it is pushed (an SPDX SBOM per platform),
	// each naming its platform's image as subject.
	Referrers []v1.Image
	Record    Record
}

// Run builds the spec: the binaries, their layers on the base, the index, the SBOMs beside the output
// (.shipyard/sbom), and the output itself.
func Run(ctx context.Context, s Spec) (*Result, error) {
	kind, target, err := ParseDest(s.Dest)
	if err != nil {
		return nil, err
	}
	layers, err := DirLayers(ctx, s.Dir, s.Layers, s.Image.Epoch, s.Env)
	if err != nil {
		return nil, err
	}
	if s.Tool != nil {
		tool, err := toolLayers(ctx, s)
		if err != nil {
			return nil, err
		}
		layers = append(layers, tool...)
		s.Image.Env = append(s.Image.Env, "SHIPYARD_MIGRATE_DIR="+s.Tool.MigrationsDir())
	}
	s.Image.Layers = layers
	res := &Result{}
	switch {
	case exists(filepath.Join(s.Dir, "go.mod")):
		res.Binaries, err = BuildGo(ctx, GoOptions{Dir: s.Dir, Main: s.Main, Platforms: s.Platforms, Version: s.Image.Version,
			Commit: s.Image.Revision, Date: s.Image.Epoch.Format(time.RFC3339), CGO: s.CGO, Env: s.Env, OutDir: filepath.Join(s.Dir, ".shipyard", "bin")})
		if err != nil {
			return nil, err
		}
		res.Index, err = GoImage(res.Binaries, s.Image)
	case len(layers) > 0:
		res.Index, err = LayersImage(s.Platforms, s.Image)
	default:
		return nil, &InputError{Msg: fmt.Sprintf("nothing to build in %s: no go.mod, and no build.layers in shipyard.yaml", s.Dir)}
	}
	if err != nil {
		return nil, err
	}
	res.Name = ProjectName(s.Dir)
	if len(res.Binaries) > 0 {
		res.Name = res.Binaries[0].Name
	}
	if res.Record, err = record(s, res); err != nil {
		return nil, err
	}
	if res.Referrers, res.Record.SBOMs, err = writeSBOMs(s, res); err != nil {
		return nil, err
	}
	switch kind {
	case "oci":
		err = WriteLayout(filepath.Join(s.Dir, target), res.Index, s.Image.Version)
	case "tar":
		err = WriteTarball(filepath.Join(s.Dir, target), res.Index, "shipyard.local/"+res.Name+":"+strings.ReplaceAll(s.Image.Version, "+", "_"))
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// ParseDest reads an image destination: oci:DIR or tar:FILE.
func ParseDest(dest string) (kind, path string, err error) {
	kind, path, ok := strings.Cut(dest, ":")
	if !ok || (kind != "oci" && kind != "tar") || path == "" {
		return "", "", &InputError{Option: "build.Dest", Msg: fmt.Sprintf("%q is not oci:DIR or tar:FILE", dest)}
	}
	return kind, path, nil
}

// record is the build's record before any push.
func record(s Spec, res *Result) (Record, error) {
	digest, err := res.Index.Digest()
	if err != nil {
		return Record{}, err
	}
	rec := Record{Digest: digest.String(), Version: s.Image.Version, Commit: s.Image.Revision, Created: s.Image.Epoch, Dest: s.Dest,
		Binaries: []RecordBinary{}, SBOMs: []string{}}
	if s.Tool != nil {
		rec.Migrations, rec.Shipyard = s.Tool.MigrationsDir(), ToolPath
	}
	for _, p := range s.Platforms {
		rec.Platforms = append(rec.Platforms, p.String())
	}
	for _, b := range res.Binaries {
		rel, _ := filepath.Rel(s.Dir, b.Path)
		rec.Binaries = append(rec.Binaries, RecordBinary{Name: b.Name, Platform: b.Platform.String(), Path: rel, SHA256: b.SHA256})
	}
	return rec, nil
}

// writeSBOMs writes the SPDX document of each binary to .shipyard/sbom/NAME_OS_ARCH.spdx.json, and makes
// it a referrer of its platform's image in the index.
func writeSBOMs(s Spec, res *Result) (referrers []v1.Image, files []string, err error) {
	im, err := res.Index.IndexManifest()
	if err != nil {
		return nil, nil, err
	}
	files = []string{}
	for _, b := range res.Binaries {
		data, err := SBOM(b, s.Image.Epoch, s.ToolVersion)
		if err != nil {
			return nil, nil, err
		}
		rel := filepath.Join(".shipyard", "sbom", b.Name+"_"+strings.ReplaceAll(b.Platform.String(), "/", "_")+".spdx.json")
		if err := os.MkdirAll(filepath.Dir(filepath.Join(s.Dir, rel)), 0o755); err != nil {
			return nil, nil, err
		}
		if err := renameio.WriteFile(filepath.Join(s.Dir, rel), data, 0o644); err != nil {
			return nil, nil, fmt.Errorf("writing %s: %w", rel, err)
		}
		files = append(files, rel)
		for _, d := range im.Manifests {
			if d.Platform == nil || d.Platform.OS != b.Platform.OS || d.Platform.Architecture != b.Platform.Arch {
				continue
			}
			art, err := SBOMArtifact(data, d)
			if err != nil {
				return nil, nil, err
			}
			referrers = append(referrers, art)
		}
	}
	return referrers, files, nil
}

// ProjectName is the lower-cased name of the project's directory (dir may be "." or relative): the
// image's name when the project builds no binary.
func ProjectName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return strings.ToLower(filepath.Base(dir))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil || !errors.Is(err, fs.ErrNotExist)
}
