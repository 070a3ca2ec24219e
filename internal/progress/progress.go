// Package progress shows long work as it goes: a line redrawn on a terminal, periodic plain lines
// elsewhere (a CI log, a Kubernetes Job's log).
package progress

import (
	"fmt"
	"io"
	"time"

	"github.com/shipyardci/shipyard/internal/textreport"
	"github.com/shipyardci/shipyard/registry"
)

// Bar draws bytes moved, total and rate on one terminal line until done is called.
func Bar(w io.Writer, ch <-chan registry.Progress) (done func()) {
	stop := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		start := time.Now()
		var last registry.Progress
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		drawn := false
		for {
			select {
			case p := <-ch:
				last = p
			case <-tick.C:
				if last.Total == 0 {
					continue
				}
				rate := float64(last.Complete) / time.Since(start).Seconds()
				fmt.Fprintf(w, "\r\033[K%s / %s  %s/s", textreport.Bytes(float64(last.Complete)), textreport.Bytes(float64(last.Total)), textreport.Bytes(rate))
				drawn = true
			case <-stop:
				if drawn {
					fmt.Fprint(w, "\r\033[K")
				}
				return
			}
		}
	}()
	return func() {
		close(stop)
		<-finished
	}
}

// Lines shows a progress line: redrawn in place on a terminal (tty), else given to log at most once
// every period, and at once when it is urgent (a pause, say). done erases the terminal line.
func Lines(w io.Writer, tty bool, log func(string), period time.Duration) (line func(s string, urgent bool), done func()) {
	var last time.Time
	drawn := false
	line = func(s string, urgent bool) {
		if tty {
			fmt.Fprintf(w, "\r\033[K%s", s)
			drawn = true
			return
		}
		if urgent || time.Since(last) >= period {
			log(s)
			last = time.Now()
		}
	}
	return line, func() {
		if drawn {
			fmt.Fprint(w, "\r\033[K")
		}
	}
}
