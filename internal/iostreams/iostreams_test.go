package iostreams

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestQuietSilencesInfoOnly(t *testing.T) {
	s, _, out, errOut := Test()
	s.Quiet = true
	s.Infof("pushing %d layers", 3)
	s.Warnf("shallow clone")
	s.Errorf("push failed")
	assert.Empty(t, out.String(), "logs never go to stdout")
	assert.Equal(t, "warning: shallow clone\nerror: push failed\n", errOut.String())
}

func TestInfoGoesToStderr(t *testing.T) {
	s, _, out, errOut := Test()
	s.Infof("pushing %d layers", 3)
	assert.Empty(t, out.String())
	assert.Equal(t, "pushing 3 layers\n", errOut.String())
}

func TestColour(t *testing.T) {
	tests := []struct {
		name     string
		tty      bool
		noColour bool
		want     string
	}{
		{"pipe: plain", false, false, "warning: x\n"},
		{"terminal: coloured", true, false, "\x1b[33mwarning:\x1b[0m x\n"},
		{"terminal with NO_COLOR: plain", true, true, "warning: x\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, _, errOut := Test()
			s.SetTerminal(tt.tty, tt.tty)
			if tt.noColour {
				s.SetNoColor()
			}
			s.Warnf("x")
			assert.Equal(t, tt.want, errOut.String())
			assert.Equal(t, tt.tty && !tt.noColour, s.OutPalette().Enabled())
		})
	}
}

func TestSystemHonoursNoColor(t *testing.T) {
	env := map[string]string{"NO_COLOR": "1"}
	s := System(func(k string) string { return env[k] })
	s.SetTerminal(true, true) // System read NO_COLOR already; terminals do not bring colour back
	assert.False(t, s.ErrPalette().Enabled())
	env = map[string]string{"TERM": "dumb"}
	s = System(func(k string) string { return env[k] })
	s.SetTerminal(true, true)
	assert.False(t, s.OutPalette().Enabled())
}

func TestLockedKeepsConcurrentWrites(t *testing.T) {
	var b bytes.Buffer
	w := Locked(&b)
	done := make(chan struct{})
	for range 4 {
		go func() {
			for range 1000 {
				_, _ = w.Write([]byte("x"))
			}
			done <- struct{}{}
		}()
	}
	for range 4 {
		<-done
	}
	assert.Equal(t, 4000, b.Len())
}

// TestHide: a hidden secret never reaches stderr, whether a status line, a warning, an error or a log
// quotes it, and a secret inside a longer one does not leave the rest of the longer one behind.
func TestHide(t *testing.T) {
	s, _, _, errOut := Test()
	s.Hide("pw", "", "pw-longer")
	s.Infof("connecting with %s", "pw-longer")
	s.Warnf("retrying with %s", "pw")
	s.Errorf("refused: password=%s", "pw")
	slog.New(s.LogHandler()).Info("dsn", "url", "postgres://u:pw@h/db")
	assert.Equal(t, "connecting with xxxxx\nwarning: retrying with xxxxx\nerror: refused: password=xxxxx\ndsn url=postgres://u:xxxxx@h/db\n", errOut.String())
	assert.Equal(t, "nothing secret", s.Scrub("nothing secret"))
}
