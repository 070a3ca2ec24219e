package progress

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/shipyardci/shipyard/registry"
)

// TestBar: bytes moved, total and rate on one line, erased when done.
func TestBar(t *testing.T) {
	var out strings.Builder
	ch := make(chan registry.Progress, 1)
	done := Bar(&out, ch) // written by its goroutine only, and read once done returned
	ch <- registry.Progress{Total: 2 << 20, Complete: 1 << 20}
	time.Sleep(250 * time.Millisecond)
	done()
	assert.Contains(t, out.String(), "\r\033[K1.0 MiB / 2.0 MiB  ")
	assert.True(t, strings.HasSuffix(out.String(), "/s\r\033[K"), "the line is erased at the end: %q", out.String())
}

// TestLines: on a terminal each line replaces the last and done erases it; elsewhere a line is logged at
// most once a period, unless it is urgent.
func TestLines(t *testing.T) {
	var term strings.Builder
	line, done := Lines(&term, true, func(string) { t.Error("a terminal logs nothing") }, time.Hour)
	line("a", false)
	line("b", false)
	done()
	assert.Equal(t, "\r\033[Ka\r\033[Kb\r\033[K", term.String())

	var logged []string
	line, done = Lines(&term, false, func(s string) { logged = append(logged, s) }, time.Hour)
	line("first", false)
	line("too soon", false)
	line("paused", true)
	done()
	assert.Equal(t, []string{"first", "paused"}, logged)
}
