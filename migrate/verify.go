package migrate

import (
	"context"
	"fmt"
)

// Finding is a difference between the applied migrations and the directory.
type Finding struct {
	Kind    string `json:"kind"` // edited, deleted or out_of_order
	Version uint64 `json:"version"`
	File    string `json:"file"`
	Message string `json:"message"`
}

// Verify compares the history with the directory: applied files edited or deleted since, and pending
// files older than the current version, which golang-migrate would never apply.
func (r *Runner) Verify(ctx context.Context) ([]Finding, error) {
	history, err := r.History(ctx)
	if err != nil {
		return nil, err
	}
	current, _, err := r.version(ctx)
	if err != nil {
		return nil, err
	}
	findings := []Finding{}
	recorded := map[uint64]bool{}
	var newest uint64
	for _, a := range history {
		recorded[a.Version] = true
		newest = max(newest, a.Version)
		m, ok := r.source.Find(a.Version)
		switch {
		case !ok:
			findings = append(findings, Finding{Kind: "deleted", Version: a.Version, File: fmt.Sprintf("%d_%s.up.sql", a.Version, a.Name),
				Message: "applied, but no longer in the directory: restore it from version control (down needs it, and so does every new database)"})
		case m.Checksum != a.Checksum:
			findings = append(findings, Finding{Kind: "edited", Version: a.Version, File: m.Up,
				Message: fmt.Sprintf("changed since it was applied on %s (checksum %.12s, now %.12s): restore it, and put the change in a new migration", a.AppliedAt.Format("2006-01-02"), a.Checksum, m.Checksum)})
		}
	}
	for _, m := range r.source.Migrations {
		if m.Version < current && !recorded[m.Version] && m.Version < newest {
			findings = append(findings, Finding{Kind: "out_of_order", Version: m.Version, File: m.Up,
				Message: fmt.Sprintf("older than the current version %d and never applied: golang-migrate skips it; give it a version above %d (shipyard migrate create)", current, current)})
		}
	}
	return findings, nil
}
