package textreport

import (
	"fmt"
	"io"
	"time"

	"github.com/shipyardci/shipyard/migrate"
)

// Backfill is the progress line of a running backfill.
func Backfill(p migrate.BackfillProgress) string {
	if p.Paused != "" {
		return fmt.Sprintf("backfill %s paused at %d/%d rows: %s", p.Table, p.Rows, p.Total, p.Paused)
	}
	line := fmt.Sprintf("backfill %s: %d/%d rows (%d%%), %.0f rows/s, ETA %s", p.Table, p.Rows, p.Total, percent(p.Rows, p.Total), p.Rate, p.ETA.Round(time.Second))
	if p.Yielding != "" {
		line += "; yielding to the application: " + p.Yielding
	}
	return line
}

func percent(n, total int64) int64 {
	if total == 0 {
		return 100
	}
	return min(100, n*100/total)
}

// BackfillDone is the line of a finished backfill: rows, batches, rate, and where it resumed.
func BackfillDone(b *migrate.BackfillResult) string {
	rate := 0.0
	if s := b.Duration.Seconds(); s > 0 {
		rate = float64(b.Rows) / s
	}
	resumed := ""
	if b.ResumedAt != "" {
		resumed = fmt.Sprintf(", resumed after key %s with %d rows done", b.ResumedAt, b.ResumedRows)
	}
	yielded := ""
	if b.Yielded > 0 {
		yielded = fmt.Sprintf(", %s of it yielding to the application", b.Yielded.Round(time.Millisecond))
	}
	return fmt.Sprintf("backfill %s: %d rows in %d batches (%d updated) in %s, %.0f rows/s%s%s", b.Table, b.Rows, b.Batches, b.Updated, b.Duration.Round(time.Millisecond), rate, yielded, resumed)
}

// Migration prints the steps of a run, its backfill and the live migration in progress, and the version
// it went from and to; for a run that failed or was stopped, the version the database was left at (and
// never "nothing to do").
func Migration(w io.Writer, res *migrate.Result, failed bool) error {
	for _, s := range res.Steps {
		phase := ""
		if s.Phase != "" {
			phase = " " + string(s.Phase)
		}
		fmt.Fprintf(w, "%-4s %d_%s%s (%s)\n", s.Direction, s.Version, s.Name, phase, s.Duration.Round(time.Millisecond))
	}
	if res.Backfill != nil {
		fmt.Fprintln(w, BackfillDone(res.Backfill))
	}
	if res.Live != nil {
		fmt.Fprintf(w, "live migration %d_%s: %s\n", res.Live.Version, res.Live.Name, res.Live.Summary())
	}
	switch {
	case failed && res.Dirty:
		_, err := fmt.Fprintf(w, "version %d → %d (dirty)\n", res.From, res.To)
		return err
	case failed && res.From == res.To:
		_, err := fmt.Fprintf(w, "still at version %d\n", res.To)
		return err
	case failed:
		_, err := fmt.Fprintf(w, "version %d → %d, then stopped\n", res.From, res.To)
		return err
	case len(res.Steps) == 0:
		_, err := fmt.Fprintf(w, "nothing to do: at version %d\n", res.To)
		return err
	case res.From == res.To: // phases of the live migration at this version ran
		_, err := fmt.Fprintf(w, "at version %d\n", res.To)
		return err
	}
	_, err := fmt.Fprintf(w, "version %d → %d\n", res.From, res.To)
	return err
}

// Status prints the database's version and state, the live migration in progress, the applied and
// pending migrations, and what verification found.
func Status(w io.Writer, database string, st *migrate.Status) error {
	state := "clean"
	switch {
	case st.Running:
		state = "a migration is running in another runner"
	case st.Dirty:
		state = "DIRTY: a migration failed part way; see `shipyard migrate force --help`"
	}
	fmt.Fprintf(w, "database %s\nversion  %d (%s)\n", database, st.Version, state)
	if st.Live != nil {
		fmt.Fprintf(w, "live     %d_%s: %s\n", st.Live.Version, st.Live.Name, st.Live.Summary())
	}
	for _, m := range st.Applied {
		fmt.Fprintf(w, "  applied  %d_%s\n", m.Version, m.Name)
	}
	for _, m := range st.Failed {
		fmt.Fprintf(w, "  FAILED   %d_%s\n", m.Version, m.Name)
	}
	for _, m := range st.Pending {
		fmt.Fprintf(w, "  pending  %d_%s\n", m.Version, m.Name)
	}
	for _, fd := range st.Findings {
		fmt.Fprintf(w, "  %s  %s: %s\n", fd.Kind, fd.File, fd.Message)
	}
	return nil
}
