package textreport

import (
	"fmt"

	"github.com/shipyardci/shipyard/semver"
)

// VersionResult is the JSON of version current, next, describe and tag.
type VersionResult struct {
	Version  string `json:"version"`
	Tag      string `json:"tag,omitempty"`
	Previous string `json:"previous,omitempty"`
	Bump     string `json:"bump,omitempty"`
	Changed  bool   `json:"changed"`
	Reason   string `json:"reason,omitempty"`
	Commits  int    `json:"commits"`
	Commit   string `json:"commit"`
}

// NewVersionResult is the JSON of a computed version.
func NewVersionResult(r *semver.Result) VersionResult {
	out := VersionResult{
		Version: r.Version.String(), Tag: r.Tag, Bump: r.Bump, Changed: r.Changed, Reason: r.Reason,
		Commits: len(r.Commits), Commit: r.Head,
	}
	if r.Previous != nil {
		out.Previous = r.Previous.Name
	}
	return out
}

// NextLine says what the next version is and why, for the log.
func NextLine(r *semver.Result) string {
	switch {
	case !r.Changed:
		return "nothing to release: " + r.Reason
	case r.Previous == nil:
		return fmt.Sprintf("%s: the first version (no version tag yet), %s", r.Tag, Plural(len(r.Commits), "commit"))
	}
	return fmt.Sprintf("%s: %s bump from %s, %s", r.Tag, r.Bump, r.Previous.Name, Plural(len(r.Commits), "commit"))
}

// NextMarkdown is the next version for a GitHub step summary.
func NextMarkdown(r *semver.Result) string {
	if !r.Changed {
		return fmt.Sprintf("**Version:** `%s` (nothing to release: %s)", r.Version, r.Reason)
	}
	from := ""
	if r.Previous != nil {
		from = " from `" + r.Previous.Name + "`"
	}
	return fmt.Sprintf("**Next version:** `%s` (%s%s, %s)", r.Version, r.Bump, from, Plural(len(r.Commits), "commit"))
}
