// Package semver computes release versions from a git history: the current version from semver tags, the next
// one from Conventional Commits or an explicit bump with the semantics of `npm version`, development versions
// for untagged commits, annotated release tags and changelogs. Versions are Masterminds/semver values.
//
// The package reads the repository through the git CLI and never prints; the shipyard command renders results.
package semver
