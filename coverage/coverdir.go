package coverage

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ReadCoverDirs reads the coverage data that binaries built with `go build -cover` wrote to GOCOVERDIR
// directories, merged, through `go tool covdata textfmt`.
func ReadCoverDirs(ctx context.Context, dirs ...string) (*Profile, error) {
	tmp, err := os.MkdirTemp("", "shipyard-covdata-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "cover.out")
	cmd := exec.CommandContext(ctx, "go", "tool", "covdata", "textfmt", "-i="+strings.Join(dirs, ","), "-o="+out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("reading coverage data in %s: %v: %s", strings.Join(dirs, ", "), err, strings.TrimSpace(stderr.String()))
	}
	if info, err := os.Stat(out); err != nil || info.Size() == 0 {
		return nil, fmt.Errorf("reading coverage data in %s: no coverage data found (was the binary built with go build -cover and run with GOCOVERDIR set?)", strings.Join(dirs, ", "))
	}
	return ReadProfile(out)
}
