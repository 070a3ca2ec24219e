package textreport

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shipyardci/shipyard/coverage"
	"github.com/shipyardci/shipyard/internal/pipeline"
)

// Pipeline prints a run's stages as a table: status, duration and detail.
func Pipeline(w io.Writer, r *pipeline.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STAGE\tSTATUS\tDURATION\tDETAIL")
	for _, s := range r.Stages {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Stage, s.Status, s.Duration.Round(time.Millisecond), s.Detail)
	}
	return tw.Flush()
}

// PipelineMarkdown is a run's table for a GitHub step summary.
func PipelineMarkdown(r *pipeline.Report) string {
	var md strings.Builder
	md.WriteString("### shipyard pipeline " + r.Version + "\n\n| stage | status | duration | detail |\n|---|---|---|---|\n")
	for _, s := range r.Stages {
		fmt.Fprintf(&md, "| %s | %s | %s | %s |\n", s.Stage, s.Status, s.Duration.Round(time.Millisecond), s.Detail)
	}
	return md.String()
}

// CoverageMarkdown is a run's coverage for a GitHub step summary: the total, the worst files, the
// failures.
func CoverageMarkdown(r *coverage.Report, failures []coverage.Failure) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### Coverage: %.1f%%\n\n| Coverage | Statements | File |\n|---:|---:|:---|\n", r.Total.Percent())
	for _, fc := range WorstFiles(r.Files, failures, false) {
		fmt.Fprintf(&b, "| %.1f%% | %d/%d | `%s` |\n", fc.Percent(), fc.Covered, fc.Statements, DisplayName(fc))
	}
	for _, fl := range failures {
		fmt.Fprintf(&b, "\n:x: %s", fl.Message)
	}
	return b.String()
}
