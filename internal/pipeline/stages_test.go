package pipeline

import (
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/usererr"
	"github.com/shipyardci/shipyard/migrate"
)

// The pipeline's migrate stage reads migrate.backfill.max_load as the command line reads --max-load,
// and blames the key for a bound it cannot read.
func TestMigrateOptionsMaxLoad(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want *migrate.MaxLoad
		err  string
	}{
		{in: ""}, // the library's default
		{in: "probe=25ms,active=40", want: &migrate.MaxLoad{Probe: 25 * time.Millisecond, Active: 40}},
		{in: "off", want: &migrate.MaxLoad{}},
		{in: "probe=fast", err: `migrate.backfill.max_load: "probe=fast": want a latency`},
	} {
		t.Run(tc.in, func(t *testing.T) {
			opts, err := MigrateOptions(t.TempDir(), config.Migrate{Backfill: config.Backfill{MaxLoad: tc.in}}, "dev", slog.New(slog.DiscardHandler))
			if tc.err == "" {
				require.NoError(t, err)
				var o migrate.Options
				for _, opt := range opts {
					opt(&o)
				}
				assert.Equal(t, tc.want, o.Live.MaxLoad)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
			var ue *usererr.Error
			require.True(t, errors.As(err, &ue))
			assert.Equal(t, "migrate.backfill.max_load", ue.InputOption())
		})
	}
}
