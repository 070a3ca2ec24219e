package migrate

import (
	"context"
	"fmt"
	"io/fs"
)

// PlannedStep is a migration, or a part of a live one, that up would apply, with its SQL.
type PlannedStep struct {
	Version uint64 `json:"version"`
	File    string `json:"file"`
	Phase   Phase  `json:"phase,omitempty"`
	SQL     string `json:"sql"`
}

// Plan returns the migrations up would apply now, with their SQL (for a live migration, each of its
// remaining parts: a backfill as the UPDATE of one batch); nothing runs and no lock is taken.
func (r *Runner) Plan(ctx context.Context, n int) ([]PlannedStep, error) {
	current, _, err := r.version(ctx)
	if err != nil {
		return nil, err
	}
	plan := []PlannedStep{}
	if m, st, err := r.currentLive(ctx, current); err != nil {
		return nil, err
	} else if st != nil && st.Phase != PhaseContract {
		if plan, err = r.planLive(m, st.Phase, plan); err != nil {
			return nil, err
		}
	}
	for _, m := range r.source.Migrations {
		if m.Version <= current || (n > 0 && len(plan) >= n) {
			continue
		}
		if m.Live != nil {
			if plan, err = r.planLive(m, "", plan); err != nil {
				return nil, err
			}
			continue
		}
		body, err := fs.ReadFile(r.fsys, m.Up)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", m.Up, err)
		}
		plan = append(plan, PlannedStep{Version: m.Version, File: m.Up, SQL: string(body)})
	}
	return plan, nil
}

// planLive adds the parts of live migration m after phase (all for "") to plan.
func (r *Runner) planLive(m Migration, after Phase, plan []PlannedStep) ([]PlannedStep, error) {
	parts := []struct {
		phase Phase
		file  string
	}{{PhaseExpand, m.Up}, {PhaseBackfill, ""}, {PhaseContract, m.Live.ContractUp}}
	started := after == ""
	for _, p := range parts {
		if !started {
			started = p.phase == after
			continue
		}
		switch {
		case p.phase == PhaseBackfill && m.Live.Backfill != nil:
			k := &keyset{spec: m.Live.Backfill}
			plan = append(plan, PlannedStep{Version: m.Version, File: m.Live.Backfill.File, Phase: p.phase,
				SQL: fmt.Sprintf("-- in batches by %s, each its own transaction\n%s\n", k.spec.Key, k.sql())})
		case p.file != "":
			body, err := r.partSQL(m, p.file)
			if err != nil {
				return nil, err
			}
			plan = append(plan, PlannedStep{Version: m.Version, File: p.file, Phase: p.phase, SQL: body})
		}
	}
	return plan, nil
}
