package textreport

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/shipyardci/shipyard/release"
)

// note is what a release came from, when it came from another.
func note(r *release.Record) string {
	switch {
	case r.RollbackOf != "":
		return "rollback to " + r.RollbackOf
	case r.PromotedFrom != "":
		return "promoted from " + r.PromotedFrom
	}
	return ""
}

// Release prints one release: its environment, name and image by digest, and what it came from.
func Release(w io.Writer, r *release.Record) error {
	n := note(r)
	if n != "" {
		n = " (" + n + ")"
	}
	_, err := fmt.Fprintf(w, "%s %s: %s%s\n", r.Env, r.Name, strings.TrimSpace(r.Image), n)
	return err
}

// Releases prints an environment's releases, newest first, as a table.
func Releases(w io.Writer, all []release.Record) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tDIGEST\tCREATED\tNOTE")
	for _, r := range all {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, r.Version, ShortDigest(r.Digest), r.CreatedAt.Format("2006-01-02 15:04"), note(&r))
	}
	return tw.Flush()
}
