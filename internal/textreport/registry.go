package textreport

import (
	"fmt"
	"io"
	"strings"

	"github.com/shipyardci/shipyard/registry"
)

// DeletedLine is one deleted image and its tags: "deleted sha256:… (1.4.2, 1.4)".
func DeletedLine(verb string, d registry.Deleted) string {
	return fmt.Sprintf("%s %s (%s)", verb, d.Digest, strings.Join(d.Tags, ", "))
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
