package textreport

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/shipyardci/shipyard/registry"
)

// DeletedLine is one deleted manifest and its tags, "deleted sha256:… (1.4.2, 1.4)", and what it
// referred to when it is an image's SBOM or signature.
func DeletedLine(verb string, d registry.Deleted) string {
	about := slices.Clone(d.Tags)
	if d.Subject != "" {
		about = append(about, "refers to "+ShortDigest(d.Subject))
	}
	if len(about) == 0 {
		about = []string{"untagged"}
	}
	return fmt.Sprintf("%s %s (%s)", verb, d.Digest, strings.Join(about, ", "))
}

// Deleted prints what a prune deleted, or with dryRun would delete, and how many.
func Deleted(w io.Writer, gone []registry.Deleted, dryRun bool) error {
	verb := "deleted"
	if dryRun {
		verb = "would delete"
	}
	for _, d := range gone {
		if _, err := fmt.Fprintln(w, DeletedLine(verb, d)); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "%s %s\n", verb, Plural(len(gone), "image"))
	return err
}

// Superseded says, for each moving tag a push set that a higher version took meanwhile, what it names:
// "latest, 1 and 1.0 name 1.0.8, pushed meanwhile", one line per version.
func Superseded(tags map[string]string) []string {
	byVersion := map[string][]string{}
	for tag, version := range tags {
		byVersion[version] = append(byVersion[version], tag)
	}
	var lines []string
	for _, version := range slices.Sorted(maps.Keys(byVersion)) {
		moving := byVersion[version]
		slices.Sort(moving)
		lines = append(lines, fmt.Sprintf("%s %s %s, pushed meanwhile", andList(moving), verbFor(len(moving)), version))
	}
	return lines
}

func verbFor(n int) string {
	if n == 1 {
		return "names"
	}
	return "name"
}

// andList is "a", "a and b", "a, b and c".
func andList(items []string) string {
	if len(items) < 2 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
