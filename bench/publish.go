package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/shipyardci/shipyard/internal/npmtest"
)

const publishFiles = 2000

// benchPublish times shipyard publish beside npm on a generated package of 2,000 files in Verdaccio:
// packing (shipyard publish --dry-run, which also reads the registry, beside npm pack --dry-run), and a
// real publish of a new version each (cold: a run each, they cannot repeat).
func benchPublish(ctx context.Context, b *bench) error {
	if _, err := exec.LookPath("npm"); err != nil {
		return fmt.Errorf("npm is not installed: apt-get install npm")
	}
	reg, token, stop, err := npmtest.Start(b.scratch)
	if err != nil {
		return err
	}
	defer stop()
	npmrc := "registry=" + reg + "/\n//" + strings.TrimPrefix(reg, "http://") + "/:_authToken=" + token + "\n"
	gen := func(name string) (string, error) {
		dir := filepath.Join(b.scratch, name)
		if err := os.MkdirAll(filepath.Join(dir, "lib"), 0o755); err != nil {
			return "", err
		}
		for i := range publishFiles {
			src := fmt.Sprintf("module.exports.f%d = (x) => x * %d // %s\n", i, i, strings.Repeat("padding ", 20))
			if err := os.WriteFile(filepath.Join(dir, "lib", fmt.Sprintf("m%04d.js", i)), []byte(src), 0o644); err != nil {
				return "", err
			}
		}
		for file, content := range map[string]string{"package.json": `{"name":"` + name + `","version":"1.0.0","files":["lib"]}`, ".npmrc": npmrc, "README.md": "# " + name + "\n"} {
			if err := os.WriteFile(filepath.Join(dir, file), []byte(content), 0o644); err != nil {
				return "", err
			}
		}
		return dir, nil
	}
	ours, err := gen("bench-shipyard")
	if err != nil {
		return err
	}
	theirs, err := gen("bench-npm")
	if err != nil {
		return err
	}
	// shipyard publish versions from the commits and tags: the package is a repository.
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-q", "-m", "feat: first"}} {
		if out, err := exec.CommandContext(ctx, "git", append([]string{"-C", ours}, args...)...).CombinedOutput(); err != nil {
			return fmt.Errorf("git %v: %v\n%s", args, err, out)
		}
	}
	env := append(os.Environ(), "npm_config_cache="+filepath.Join(b.scratch, "npm-cache"), "npm_config_update_notifier=false")
	dry, err := b.run(ctx, nil, env, ours, b.shipyard, "publish", "--dry-run", "--quiet")
	if err != nil {
		return err
	}
	peer, err := b.run(ctx, nil, env, theirs, "npm", "pack", "--dry-run", "--ignore-scripts")
	if err != nil {
		return err
	}
	b.report(fmt.Sprintf("publish --dry-run: a package of %d files (packs, reads the registry)", publishFiles), dry, peer, "npm pack --dry-run", 0, 0.5)
	start := time.Now()
	if out, err := exec.CommandContext(ctx, b.shipyard, "-C", ours, "publish", "--quiet").CombinedOutput(); err != nil {
		return fmt.Errorf("shipyard publish: %v\n%s", err, out)
	}
	oursPublish := time.Since(start)
	start = time.Now()
	cmd := exec.CommandContext(ctx, "npm", "publish", "--ignore-scripts")
	cmd.Dir, cmd.Env = theirs, env
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm publish: %v\n%s", err, out)
	}
	b.report(fmt.Sprintf("publish: a new version of %d files to Verdaccio (one run each; shipyard also versions and tags)", publishFiles),
		oursPublish, time.Since(start), "npm publish", 0, 1.0)
	return nil
}
