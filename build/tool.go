package build

import (
	"context"
	"debug/elf"
	"fmt"
	"os"
	"path"
	"path/filepath"
)

// The pre-deploy migration Job runs the service's own image, so that the migrations it applies are
// exactly those of the code it deploys, under the one digest that is released, pinned, signed and
// rolled back: build.migrations puts the migrations directory and the shipyard binary in that image, as
// two layers of their own (a companion image would be a second digest to keep in step with the first).

// ToolPath is where the shipyard binary goes in an image with its migrations.
const ToolPath = "/usr/local/bin/shipyard"

// Tool is what a migration Job needs in the image: the project's migrations directory (under /app at
// its path in the project), and shipyard itself.
type Tool struct {
	// Migrations is the migrations directory, relative to the project.
	Migrations string
	// Binary is the shipyard binary to put in the image: a static Linux binary of the image's
	// platform ("": the running one).
	Binary string
}

// MigrationsDir is where the migrations are in the image: /app and their path in the project.
func (t Tool) MigrationsDir() string {
	return path.Join("/app", filepath.ToSlash(filepath.Clean(t.Migrations)))
}

// toolBinary checks that the shipyard binary can run on each platform of the image: a Linux ELF of
// the platform's architecture, statically linked (the generated base has no C library).
func (t Tool) toolBinary(platforms []Platform) (Binary, error) {
	bin := t.Binary
	if bin == "" {
		exe, err := os.Executable()
		if err != nil {
			return Binary{}, fmt.Errorf("finding the shipyard binary: %w", err)
		}
		bin = exe
	}
	f, err := elf.Open(bin)
	if err != nil {
		return Binary{}, &InputError{Key: "build.migrations", Msg: fmt.Sprintf("%s is not a Linux binary that an image can run (%v): run a shipyard built for linux", bin, err)}
	}
	defer f.Close()
	arch := map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64", elf.EM_ARM: "arm", elf.EM_386: "386", elf.EM_PPC64: "ppc64le", elf.EM_S390: "s390x", elf.EM_RISCV: "riscv64"}[f.Machine]
	for _, p := range platforms {
		if p.OS != "linux" || p.Arch != arch {
			return Binary{}, &InputError{Key: "build.migrations", Msg: fmt.Sprintf("the shipyard binary %s is for linux/%s, and the image is for %s: build.migrations needs one platform per shipyard binary", bin, arch, p)}
		}
	}
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return Binary{}, &InputError{Key: "build.migrations", Msg: fmt.Sprintf("the shipyard binary %s is linked against the C library, which the image does not have: build it with CGO_ENABLED=0", bin)}
		}
	}
	sum, err := fileSHA256(bin)
	if err != nil {
		return Binary{}, err
	}
	return Binary{Name: "shipyard", Path: bin, SHA256: sum, BuildID: sum}, nil
}

// toolLayers are the shipyard binary's layer, then the migrations': the binary changes less often.
func toolLayers(ctx context.Context, s Spec) ([]NamedLayer, error) {
	if info, err := os.Stat(filepath.Join(s.Dir, s.Tool.Migrations)); s.Tool.Migrations == "" || err != nil || !info.IsDir() {
		return nil, &InputError{Key: "build.migrations", Msg: fmt.Sprintf("%q is not a directory of the project", s.Tool.Migrations)}
	}
	bin, err := s.Tool.toolBinary(s.Platforms)
	if err != nil {
		return nil, err
	}
	layer, err := s.Image.binaryLayer(bin, ToolPath[1:])
	if err != nil {
		return nil, fmt.Errorf("adding %s: %w", ToolPath, err)
	}
	migrations, err := DirLayers(ctx, s.Dir, []LayerSpec{{Name: "migrations", From: []string{filepath.Clean(s.Tool.Migrations)}, To: "/app"}}, s.Image.Epoch, s.Env)
	if err != nil {
		return nil, err
	}
	return append([]NamedLayer{{Name: ToolPath, Layer: layer}}, migrations...), nil
}
