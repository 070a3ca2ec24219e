package semver

import (
	"testing"

	mm "github.com/Masterminds/semver/v3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The expectations are node-semver's inc() results (npm version), with shipyard's pre-release base of 1
// where a counter starts; base 0 rows check npm's own numbers.
func TestIncrement(t *testing.T) {
	tests := []struct {
		from  string
		bump  Bump
		preid string
		base  uint64
		want  string
	}{
		{"1.2.3", BumpMajor, "", 1, "2.0.0"},
		{"1.0.0-rc.1", BumpMajor, "", 1, "1.0.0"},
		{"1.2.0-rc.1", BumpMajor, "", 1, "2.0.0"},
		{"1.2.3", BumpMinor, "", 1, "1.3.0"},
		{"1.3.0-rc.1", BumpMinor, "", 1, "1.3.0"},
		{"1.3.1-rc.1", BumpMinor, "", 1, "1.4.0"},
		{"1.2.3", BumpPatch, "", 1, "1.2.4"},
		{"1.2.4-rc.1", BumpPatch, "", 1, "1.2.4"},
		{"1.2.3", BumpPremajor, "rc", 1, "2.0.0-rc.1"},
		{"1.2.3", BumpPremajor, "rc", 0, "2.0.0-rc.0"},
		{"1.2.3", BumpPreminor, "", 0, "1.3.0-0"},
		{"1.2.3", BumpPrepatch, "alpha", 1, "1.2.4-alpha.1"},
		{"1.2.3-rc.1", BumpPremajor, "rc", 1, "2.0.0-rc.1"},
		{"1.2.3", BumpPrerelease, "", 0, "1.2.4-0"},
		{"1.2.4-0", BumpPrerelease, "", 0, "1.2.4-1"},
		{"1.2.4-rc.1", BumpPrerelease, "", 1, "1.2.4-rc.2"},
		{"1.2.4-rc.1", BumpPrerelease, "rc", 1, "1.2.4-rc.2"},
		{"1.2.4-alpha.2", BumpPrerelease, "beta", 0, "1.2.4-beta.0"},
		{"1.2.4-alpha", BumpPrerelease, "", 0, "1.2.4-alpha.0"},
		{"1.2.4-alpha.beta.2", BumpPrerelease, "", 1, "1.2.4-alpha.beta.3"},
		{"1.2.4-rc.1.dev", BumpPrerelease, "", 1, "1.2.4-rc.2.dev"},
	}
	for _, tt := range tests {
		t.Run(tt.from+" "+string(tt.bump)+" "+tt.preid, func(t *testing.T) {
			got, err := Increment(mm.MustParse(tt.from), tt.bump, tt.preid, tt.base)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got.String())
		})
	}
}

func TestParseBump(t *testing.T) {
	for _, b := range Bumps {
		got, err := ParseBump(string(b))
		require.NoError(t, err)
		assert.Equal(t, b, got)
	}
	_, err := ParseBump("mayor")
	assert.EqualError(t, err, `invalid bump "mayor": want one of major, minor, patch, premajor, preminor, prepatch, prerelease`)
	_, err = Increment(mm.MustParse("1.0.0"), "mayor", "", 1)
	assert.Error(t, err)
}

func TestParseTag(t *testing.T) {
	tests := []struct {
		name, prefix string
		want         string // "" when not a version
	}{
		{"v1.2.3", "", "1.2.3"},
		{"1.2.3", "", "1.2.3"},
		{"v1.2.3-rc.1+build.7", "", "1.2.3-rc.1+build.7"},
		{"api/v1.2.3", "api/", "1.2.3"},
		{"api/1.2.3", "api/", "1.2.3"},
		{"api/v1.2.3", "", ""},
		{"web/v1.2.3", "api/", ""},
		{"v1", "", ""},
		{"v1.2", "", ""},
		{"latest", "", ""},
		{"V1.2.3", "", ""},
		{"v01.2.3", "", ""},
		{"vv1.2.3", "", ""},
		{"v1.2.3-", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.prefix+"|"+tt.name, func(t *testing.T) {
			v, ok := ParseTag(tt.name, tt.prefix)
			if tt.want == "" {
				assert.False(t, ok)
				return
			}
			require.True(t, ok)
			assert.Equal(t, tt.want, v.String())
		})
	}
}

func FuzzParseTag(f *testing.F) {
	for _, s := range []string{"v1.2.3", "api/v1.0.0-rc.1+b", "1.2", "v1.2.3-0.a.b"} {
		f.Add(s, "")
		f.Add(s, "api/")
	}
	f.Fuzz(func(t *testing.T, name, prefix string) {
		v, ok := ParseTag(name, prefix)
		if !ok {
			return
		}
		// A version tag is exactly its prefix, an optional v, and the version it parsed to.
		if TagName(prefix, false, v) != name && TagName(prefix, true, v) != name {
			t.Fatalf("ParseTag(%q, %q) = %s, which does not rebuild the name", name, prefix, v)
		}
	})
}
