// Command shipyard takes a service from commit to running release. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/shipyardci/shipyard/cmd/shipyard/cmd"
)

// Set at build time with -ldflags "-X main.version=… -X main.commit=… -X main.date=…".
var (
	version = ""
	commit  = ""
	date    = ""
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cmd.Main(ctx, cmd.BuildInfo{Version: version, Commit: commit, Date: date})
	stop()
	os.Exit(code)
}
