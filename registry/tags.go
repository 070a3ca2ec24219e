package registry

import (
	"strconv"
	"strings"

	"github.com/Masterminds/semver/v3"
	"github.com/google/go-containerregistry/pkg/name"
)

// ExpandTags is the tags a push of tag gives, given the tags the repository already has: a stable
// semantic version 1.4.2 also moves 1.4 and 1, when it is the highest of its minor and major line, and
// latest when it is the highest stable version of all. Pre-releases and other tags stay as they are. A
// "v" prefix is kept on the moving tags (v1.4.2 gives v1.4 and v1).
func ExpandTags(tag string, existing []string) []string {
	v, prefix, ok := stable(tag)
	if !ok {
		return []string{tag}
	}
	highest := func(same func(*semver.Version) bool) bool {
		for _, t := range existing {
			if o, _, ok := stable(t); ok && same(o) && o.GreaterThan(v) {
				return false
			}
		}
		return true
	}
	out := []string{tag}
	if highest(func(o *semver.Version) bool { return o.Major() == v.Major() && o.Minor() == v.Minor() }) {
		out = append(out, prefix+trimmed(v.Major(), v.Minor()))
	}
	if highest(func(o *semver.Version) bool { return o.Major() == v.Major() }) {
		out = append(out, prefix+trimmed(v.Major()))
	}
	if highest(func(*semver.Version) bool { return true }) {
		out = append(out, "latest")
	}
	return out
}

// stable reads a full stable version tag (1.4.2 or v1.4.2; not 1.4, not 1.4.2-rc.1).
func stable(tag string) (*semver.Version, string, bool) {
	prefix := ""
	if strings.HasPrefix(tag, "v") {
		prefix = "v"
	}
	v, err := semver.StrictNewVersion(strings.TrimPrefix(tag, "v"))
	if err != nil || v.Prerelease() != "" || v.Metadata() != "" {
		return nil, "", false
	}
	return v, prefix, true
}

func trimmed(parts ...uint64) string {
	s := make([]string, len(parts))
	for i, p := range parts {
		s[i] = strconv.FormatUint(p, 10)
	}
	return strings.Join(s, ".")
}

// highestIn is the highest stable version tag among tags that the moving tag moving (1.4, v1, latest)
// follows, or "" when there is none.
func highestIn(moving string, tags []string) string {
	var parts []string
	if moving != "latest" {
		parts = strings.Split(strings.TrimPrefix(moving, "v"), ".")
	}
	best, bestTag := (*semver.Version)(nil), ""
	for _, t := range tags {
		v, _, ok := stable(t)
		if !ok || len(parts) > 0 && strconv.FormatUint(v.Major(), 10) != parts[0] || len(parts) > 1 && strconv.FormatUint(v.Minor(), 10) != parts[1] {
			continue
		}
		if best == nil || v.GreaterThan(best) || v.Equal(best) && t < bestTag {
			best, bestTag = v, t
		}
	}
	return bestTag
}

// TaggedReferences is the tags output of a push: the references of repo's tags it wrote, one per line,
// as docker/metadata-action gives them (REPO:1.4.2, REPO:1.4, …).
func TaggedReferences(repo name.Repository, tags []string) string {
	refs := make([]string, len(tags))
	for i, t := range tags {
		refs[i] = repo.Tag(t).String()
	}
	return strings.Join(refs, "\n")
}
