package registry

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestExpandTags(t *testing.T) {
	for _, tc := range []struct {
		tag      string
		existing []string
		want     []string
	}{
		{"1.4.2", nil, []string{"1.4.2", "1.4", "1", "latest"}},
		{"v1.4.2", nil, []string{"v1.4.2", "v1.4", "v1", "latest"}},
		{"1.4.2", []string{"1.4.3"}, []string{"1.4.2"}},
		{"1.4.2", []string{"1.5.0"}, []string{"1.4.2", "1.4"}},
		{"1.4.2", []string{"2.0.0", "1.4.1"}, []string{"1.4.2", "1.4", "1"}},
		{"1.4.2", []string{"2.0.0-rc.1", "1.4", "1", "latest", "sha-abc"}, []string{"1.4.2", "1.4", "1", "latest"}},
		{"1.4.2", []string{"1.4.2"}, []string{"1.4.2", "1.4", "1", "latest"}},
		{"0.3.0", []string{"0.2.9"}, []string{"0.3.0", "0.3", "0", "latest"}},
		{"2.0.0-rc.1", nil, []string{"2.0.0-rc.1"}},
		{"1.4.2+build.7", nil, []string{"1.4.2+build.7"}},
		{"1.4", nil, []string{"1.4"}},
		{"main", nil, []string{"main"}},
		{"latest", nil, []string{"latest"}},
	} {
		t.Run(tc.tag, func(t *testing.T) {
			assert.Equal(t, tc.want, ExpandTags(tc.tag, tc.existing))
		})
	}
}

func FuzzExpandTags(f *testing.F) {
	f.Add("1.4.2", "1.5.0")
	f.Add("v0.0.1", "latest")
	f.Add("1.0.0-rc.1", "x")
	f.Fuzz(func(t *testing.T, tag, other string) {
		got := ExpandTags(tag, []string{other})
		if len(got) == 0 || got[0] != tag || len(got) > 4 {
			t.Fatalf("ExpandTags(%q, %q) = %q", tag, other, got)
		}
	})
}

func TestHighestIn(t *testing.T) {
	tags := []string{"1.0.4", "1.0.10", "1.1.0", "v2.0.0", "2.1.0-rc.1", "latest", "1.0", "1", "sha-abc", "3.0.0+meta"}
	for _, tc := range []struct{ moving, want string }{
		{"1.0", "1.0.10"},
		{"1", "1.1.0"},
		{"v2", "v2.0.0"},
		{"2.1", ""},
		{"latest", "v2.0.0"},
		{"4", ""},
	} {
		assert.Equal(t, tc.want, highestIn(tc.moving, tags), tc.moving)
	}
}

// FuzzLoad: whatever a file holds, Load reads it or says why not, never panics, and leaves nothing
// unpacked behind.
func FuzzLoad(f *testing.F) {
	f.Add([]byte("not a tar"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "in.tar")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		a, err := Load(path)
		if err == nil {
			if c, ok := a.(io.Closer); ok {
				c.Close()
			}
		}
	})
}
