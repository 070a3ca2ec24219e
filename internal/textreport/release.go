package textreport

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/shipyardci/shipyard/internal/pipeline"
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

// PublishLines are shipyard publish's lines: each package's version and what became of it, and on a dry
// run its files and integrity.
func PublishLines(res []pipeline.PublishedPackage) []string {
	var out []string
	for _, p := range res {
		what := "published under " + p.Tag
		switch {
		case p.Already:
			what = "already published"
		case !p.Published:
			what = fmt.Sprintf("would publish under %s: %d files, %s", p.Tag, len(p.Files), p.Integrity)
		}
		out = append(out, fmt.Sprintf("%s@%s %s (%s)", p.Name, p.Version, what, p.Registry))
		if !p.Published && !p.Already {
			for _, f := range p.Files {
				out = append(out, "  "+f)
			}
		}
	}
	return out
}

// PublishOutputs are shipyard publish's step outputs: the version (the last package's) and whether
// anything was published.
func PublishOutputs(res []pipeline.PublishedPackage) []string {
	published, version := false, ""
	for _, p := range res {
		published = published || p.Published
		version = p.Version
	}
	return []string{"version", version, "published", strconv.FormatBool(published)}
}
