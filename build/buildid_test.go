package build

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGoBuildIDEqualsGoTool: the build ID read from the binary is what `go tool buildid` prints, for
// ELF, Mach-O and PE binaries.
func TestGoBuildIDEqualsGoTool(t *testing.T) {
	dir := hello(t)
	for _, p := range []string{"linux/amd64", "darwin/arm64", "windows/amd64"} {
		t.Run(p, func(t *testing.T) {
			goos, goarch, _ := strings.Cut(p, "/")
			out := filepath.Join(t.TempDir(), "hello")
			cmd := exec.Command("go", "build", "-trimpath", "-o", out, ".")
			cmd.Dir, cmd.Env = dir, append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch)
			b, err := cmd.CombinedOutput()
			require.NoError(t, err, "%s", b)
			want, err := exec.Command("go", "tool", "buildid", out).Output()
			require.NoError(t, err)
			got, err := goBuildID(out)
			require.NoError(t, err)
			assert.Equal(t, strings.TrimSpace(string(want)), got)
			assert.NotEmpty(t, got)
		})
	}
	_, err := goBuildID(filepath.Join(dir, "go.mod"))
	assert.ErrorContains(t, err, "not an ELF, Mach-O or PE binary")
}

// FuzzQuotedBuildID: any text gives an ID, nothing, or an error, never a panic.
func FuzzQuotedBuildID(f *testing.F) {
	f.Add([]byte("\xff Go build ID: \"abc/def\"\n \xff"))
	f.Add([]byte("junk\xff Go build ID: \"a\\\"b\"\n \xffjunk"))
	f.Add([]byte("\xff Go build ID: \"unterminated"))
	f.Fuzz(func(t *testing.T, data []byte) {
		id, err := quotedBuildID(data)
		if err == nil && id != "" && !strings.Contains(string(data), "Go build ID") {
			t.Fatalf("an ID %q from text without one", id)
		}
	})
}

// FuzzGoBuildID: any file gives an ID, nothing, or an error, never a panic.
func FuzzGoBuildID(f *testing.F) {
	f.Add([]byte("\x7fELF\x02\x01\x01"))
	f.Add([]byte("MZ\x90\x00"))
	f.Add([]byte("\xcf\xfa\xed\xfe"))
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(t.TempDir(), "bin")
		if err := os.WriteFile(file, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _ = goBuildID(file)
	})
}
