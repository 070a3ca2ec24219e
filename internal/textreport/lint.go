package textreport

import (
	"fmt"
	"io"
	"strings"

	"github.com/shipyardci/shipyard/internal/iostreams"
	"github.com/shipyardci/shipyard/migrate"
)

// Lint prints the problems of migrate lint, why and what to do instead once per rule, and the count.
func Lint(w io.Writer, pal iostreams.Palette, problems []migrate.Problem) error {
	errs := 0
	explained := map[string]bool{}
	for _, p := range problems {
		sev := pal.Yellow(string(p.Severity))
		if p.Severity == migrate.SeverityError {
			sev = pal.Red(string(p.Severity))
			errs++
		}
		fmt.Fprintf(w, "%s:%d: %s %s: %s\n", p.File, p.Line, sev, pal.Bold(p.Rule), p.Message)
		if !explained[p.Rule] { // once per rule: the same text again helps nobody
			explained[p.Rule] = true
			fmt.Fprintf(w, "    why: %s\n    instead: %s\n", p.Why, p.Instead)
		}
	}
	if len(problems) == 0 {
		_, err := fmt.Fprintln(w, "no problems")
		return err
	}
	_, err := fmt.Fprintf(w, "%s (%s, %s)\n", Plural(len(problems), "problem"), Plural(errs, "error"), Plural(len(problems)-errs, "warning"))
	return err
}

// Rules prints the lint rules, with the databases they are for, why, and what to do instead.
func Rules(w io.Writer, rules []migrate.Rule) error {
	for _, r := range rules {
		only := ""
		if len(r.Dialects) > 0 {
			var ds []string
			for _, d := range r.Dialects {
				ds = append(ds, string(d))
			}
			only = " (" + strings.Join(ds, ", ") + ")"
		}
		fmt.Fprintf(w, "%s: %s%s\n    why: %s\n    instead: %s\n", r.ID, r.Severity, only, r.Why, r.Instead)
	}
	return nil
}
