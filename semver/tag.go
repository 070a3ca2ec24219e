package semver

import (
	"strings"

	mm "github.com/Masterminds/semver/v3"
)

// Tag is a semver tag of the repository.
type Tag struct {
	Name    string
	Version *mm.Version
	// Commit is the commit the tag points at (peeled through annotated tags).
	Commit string
}

// VPrefix reports whether the tag writes its version with a leading "v" after prefix.
func (t Tag) VPrefix(prefix string) bool {
	return strings.HasPrefix(strings.TrimPrefix(t.Name, prefix), "v")
}

// ParseTag reads the version in a tag named prefix + optional "v" + strict semver ("api/v1.2.3", "1.2.3").
// Tags that are not semver ("v1", "latest", "release-2024") are not versions: ok is false.
func ParseTag(name, prefix string) (v *mm.Version, ok bool) {
	rest, found := strings.CutPrefix(name, prefix)
	if !found {
		return nil, false
	}
	v, err := mm.StrictNewVersion(strings.TrimPrefix(rest, "v"))
	if err != nil {
		return nil, false
	}
	return v, true
}

// TagName is the tag for v: prefix, then "v" when withV, then the version.
func TagName(prefix string, withV bool, v *mm.Version) string {
	if withV {
		return prefix + "v" + v.String()
	}
	return prefix + v.String()
}

// highest returns the tag with the highest version, or nil. With stable, pre-releases are skipped.
func highest(tags []Tag, stable bool) *Tag {
	var best *Tag
	for i := range tags {
		t := &tags[i]
		if stable && t.Version.Prerelease() != "" {
			continue
		}
		if best == nil || t.Version.GreaterThan(best.Version) {
			best = t
		}
	}
	return best
}
