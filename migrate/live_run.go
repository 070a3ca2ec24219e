package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// One live migration at a time: expand stops after the first live migration, and later migrations
// wait until its contract, so that rollback only ever has one thing to undo.

// BackfillPendingError is a contract asked for before the backfill finished.
type BackfillPendingError struct {
	Version uint64
	Name    string
	State   *LiveState
}

func (e *BackfillPendingError) Error() string {
	return fmt.Sprintf("%d_%s is %s: run `shipyard migrate backfill` before the contract", e.Version, e.Name, e.State.Summary())
}

// CompleteError is a rollback of a live migration whose contract already ran.
type CompleteError struct {
	Version uint64
	Name    string
}

func (e *CompleteError) Error() string {
	return fmt.Sprintf("%d_%s is complete: its contract removed the old shape, so rollback cannot undo it; `shipyard migrate down` runs its contract.down.sql, then expand.down.sql", e.Version, e.Name)
}

// Expand applies the pending migrations up to and including the expand part of the first live one: the
// job before a deploy. When a live migration is in progress it does nothing: later migrations wait for
// its contract.
func (r *Runner) Expand(ctx context.Context) (*Result, error) {
	return r.run(ctx, r.pending(0), +1, expandOnly)
}

// Backfill runs, or resumes, the backfill of the live migration in progress.
func (r *Runner) Backfill(ctx context.Context) (*Result, error) {
	return r.inProgress(ctx, +1, func(m Migration, st *LiveState, res *Result) error {
		if st.Phase != PhaseExpand {
			return nil
		}
		return r.backfillStep(ctx, m, st, res)
	})
}

// Contract applies the contract part of the live migration in progress, once its backfill is done: the
// job after every instance runs the new code.
func (r *Runner) Contract(ctx context.Context) (*Result, error) {
	return r.inProgress(ctx, +1, func(m Migration, st *LiveState, res *Result) error {
		if st.Phase == PhaseContract {
			return nil
		}
		if st.Phase == PhaseExpand && m.Live.Backfill != nil {
			return &BackfillPendingError{Version: m.Version, Name: m.Name, State: st}
		}
		return r.contractStep(ctx, m, res)
	})
}

// Rollback undoes the live migration in progress, at any phase before its contract: expand.down.sql
// removes the new shape and its triggers, and the version goes back to the migration before.
func (r *Runner) Rollback(ctx context.Context) (*Result, error) {
	return r.inProgress(ctx, -1, func(m Migration, st *LiveState, res *Result) error {
		if st.Phase == PhaseContract {
			return &CompleteError{Version: m.Version, Name: m.Name}
		}
		return r.rollbackStep(ctx, m, res)
	})
}

// inProgress runs fn, a run in direction dir, with the lock held, on the live migration at the current
// version, if there is one that is not complete (Rollback also sees a complete one, to refuse it).
func (r *Runner) inProgress(ctx context.Context, dir int, fn func(m Migration, st *LiveState, res *Result) error) (*Result, error) {
	var res *Result
	err := r.locked(ctx, func() error {
		current, err := r.cleanVersion(ctx)
		if err != nil {
			return err
		}
		res = &Result{From: current, To: current, Steps: []Step{}}
		m, st, err := r.currentLive(ctx, current)
		if err != nil || st == nil {
			return err
		}
		return r.tracked(ctx, dir, res, func() error {
			if err := fn(m, st, res); err != nil {
				return err
			}
			return r.finishResult(ctx, res)
		})
	})
	return res, err
}

// currentLive is the live migration at version v and its state; a zero state when v is not one.
func (r *Runner) currentLive(ctx context.Context, v uint64) (Migration, *LiveState, error) {
	m, ok := r.source.Find(v)
	if !ok || m.Live == nil {
		return Migration{}, nil, nil
	}
	st, err := r.liveState(ctx, r.db, v)
	return m, st, err
}

// finishResult reads the version and the state of a live migration at it, after a run.
func (r *Runner) finishResult(ctx context.Context, res *Result) error {
	v, _, err := r.version(ctx)
	if err != nil {
		return err
	}
	res.To = v
	_, st, err := r.currentLive(ctx, v)
	if st != nil && st.Phase != PhaseContract {
		res.Live = st
	}
	return err
}

// liveUp takes live migration m, from where it stands, through its phases: expand only in expandOnly
// mode, else all of them. It reports whether the run stops here.
func (r *Runner) liveUp(ctx context.Context, m Migration, st *LiveState, mode runMode, res *Result) (stop bool, err error) {
	if st == nil {
		if err := r.expandStep(ctx, m, res); err != nil {
			return true, err
		}
		if st, err = r.liveState(ctx, r.db, m.Version); err != nil {
			return true, err
		}
	}
	if mode == expandOnly || st.Phase == PhaseContract {
		return mode == expandOnly && st.Phase != PhaseContract, nil
	}
	if st.Phase == PhaseExpand {
		if err := r.backfillStep(ctx, m, st, res); err != nil {
			return true, err
		}
	}
	return false, r.contractStep(ctx, m, res)
}

// liveDown reverts live migration m: its contract part first when it is complete, then its expand.
func (r *Runner) liveDown(ctx context.Context, m Migration, res *Result) error {
	st, err := r.liveState(ctx, r.db, m.Version)
	if err != nil {
		return err
	}
	if st != nil && st.Phase == PhaseContract {
		if m.Live.ContractUp != "" && m.Live.ContractDown == "" {
			return fmt.Errorf("live migration %d_%s has no %s: its contract cannot be reverted", m.Version, m.Name, contractDownFile)
		}
		if err := r.timed(res, m, "down", PhaseContract, func() error {
			if m.Live.ContractDown == "" {
				return r.setPhase(ctx, r.db, m, PhaseBackfill)
			}
			return r.runPart(ctx, m, m.Live.ContractDown, func(tx *sql.Tx) error {
				if err := r.writeVersion(ctx, tx, m.Version, false); err != nil {
					return err
				}
				return r.setPhase(ctx, tx, m, PhaseBackfill)
			})
		}); err != nil {
			return err
		}
	}
	return r.rollbackStep(ctx, m, res)
}

func (r *Runner) expandStep(ctx context.Context, m Migration, res *Result) error {
	return r.timed(res, m, "up", PhaseExpand, func() error {
		start := time.Now()
		return r.runPart(ctx, m, m.Up, func(tx *sql.Tx) error {
			if err := r.writeVersion(ctx, tx, m.Version, false); err != nil {
				return err
			}
			if err := r.clearPhase(ctx, tx, m.Version); err != nil {
				return err
			}
			if err := r.setPhase(ctx, tx, m, PhaseExpand); err != nil {
				return err
			}
			return r.recordTx(ctx, tx, m, Step{Version: m.Version, Name: m.Name, Direction: "up", Duration: time.Since(start)})
		})
	})
}

func (r *Runner) backfillStep(ctx context.Context, m Migration, st *LiveState, res *Result) error {
	return r.timed(res, m, "up", PhaseBackfill, func() error {
		if m.Live.Backfill == nil {
			return r.setPhase(ctx, r.db, m, PhaseBackfill)
		}
		var err error
		res.Backfill, err = r.backfill(ctx, m, st)
		return err
	})
}

func (r *Runner) contractStep(ctx context.Context, m Migration, res *Result) error {
	return r.timed(res, m, "up", PhaseContract, func() error {
		if m.Live.ContractUp == "" {
			return r.setPhase(ctx, r.db, m, PhaseContract)
		}
		return r.runPart(ctx, m, m.Live.ContractUp, func(tx *sql.Tx) error {
			if err := r.writeVersion(ctx, tx, m.Version, false); err != nil {
				return err
			}
			return r.setPhase(ctx, tx, m, PhaseContract)
		})
	})
}

func (r *Runner) rollbackStep(ctx context.Context, m Migration, res *Result) error {
	if m.Down == "" {
		return fmt.Errorf("live migration %d_%s has no %s: it cannot be rolled back", m.Version, m.Name, expandDownFile)
	}
	return r.timed(res, m, "down", PhaseExpand, func() error {
		prev := r.previous(m.Version)
		return r.runPart(ctx, m, m.Down, func(tx *sql.Tx) error {
			if err := r.writeVersion(ctx, tx, prev, false); err != nil {
				return err
			}
			if err := r.clearPhase(ctx, tx, m.Version); err != nil {
				return err
			}
			return r.recordTx(ctx, tx, m, Step{Version: m.Version, Name: m.Name, Direction: "down"})
		})
	})
}

// timed runs one phase of m and adds it to the steps when it succeeds.
func (r *Runner) timed(res *Result, m Migration, dir string, p Phase, fn func() error) error {
	r.opts.Logger.Debug("migrating", "migration", fmt.Sprintf("%d_%s", m.Version, m.Name), "phase", p, "direction", dir)
	start := time.Now()
	if err := fn(); err != nil {
		return err
	}
	res.Steps = append(res.Steps, Step{Version: m.Version, Name: m.Name, Direction: dir, Phase: p, Duration: time.Since(start)})
	return nil
}

// cleanVersion reads the version, recovering from a killed runner when it can; a dirty version that
// needs a person is a DirtyError.
func (r *Runner) cleanVersion(ctx context.Context) (uint64, error) {
	current, dirty, err := r.version(ctx)
	if err != nil || !dirty {
		return current, err
	}
	if err := r.recoverKilled(ctx, current); err != nil {
		return 0, err
	}
	current, _, err = r.version(ctx)
	return current, err
}
