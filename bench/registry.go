package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/random"
)

const (
	registryLayers    = 20
	registryLayerSize = 10 << 20 // 200 MiB in all
)

// pushTool is one way to push the layout to a repository.
type pushTool struct {
	name string
	cmd  func(layoutDir, ref string) []string
	env  []string
}

// benchRegistry pushes a generated 200 MiB, 20-layer image with shipyard, crane and skopeo to a fresh
// distribution registry (Debian's docker-registry), then to a second repository of that registry, then
// again (nothing to do).
func benchRegistry(ctx context.Context, b *bench) error {
	for _, tool := range []string{"docker-registry", "skopeo"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed: apt-get install docker-registry skopeo", tool)
		}
	}
	crane, err := exec.LookPath("crane")
	if err != nil {
		crane = filepath.Join(b.scratch, "bin", "crane")
		fmt.Println("installing crane")
		install := exec.CommandContext(ctx, "go", "install", "github.com/google/go-containerregistry/cmd/crane@v0.22.1")
		install.Env = append(os.Environ(), "GOBIN="+filepath.Dir(crane))
		if out, err := install.CombinedOutput(); err != nil {
			return fmt.Errorf("installing crane: %v\n%s", err, out)
		}
	}
	dir := filepath.Join(b.scratch, "registry-image")
	start := time.Now()
	img, err := random.Image(registryLayerSize, registryLayers)
	if err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	if err := p.AppendImage(img); err != nil {
		return err
	}
	fmt.Printf("generated a %d MiB image of %d layers in %s\n", registryLayers*registryLayerSize>>20, registryLayers, time.Since(start).Round(time.Millisecond))

	tools := []pushTool{
		{"shipyard push", func(l, ref string) []string { return []string{b.shipyard, "push", l, ref, "--no-expand", "--quiet"} }, nil},
		{"crane push", func(l, ref string) []string { return []string{crane, "push", l, ref} }, nil},
		{"skopeo copy", func(l, ref string) []string {
			return []string{"skopeo", "copy", "--quiet", "--dest-tls-verify=false", "oci:" + l, "docker://" + ref}
		}, nil},
	}
	results := map[string][3]time.Duration{}
	for _, t := range tools {
		r, err := b.pushRounds(ctx, dir, t)
		if err != nil {
			return err
		}
		results[t.name] = r
	}
	ours := results["shipyard push"]
	b.report("push: 200 MiB, 20 layers, fresh registry", ours[0], results["crane push"][0], "crane push", 0, 0.9)
	b.report("push: 200 MiB, 20 layers, fresh registry", ours[0], results["skopeo copy"][0], "skopeo copy", 0, 0)
	b.report("push: the same image to a second repository", ours[1], results["skopeo copy"][1], "skopeo copy", 0, 1)
	b.report("push: the same image to a second repository", ours[1], results["crane push"][1], "crane push", 0, 0)
	b.report("push: again, nothing to do", ours[2], results["crane push"][2], "crane push", 300*time.Millisecond, 0)
	b.report("push: again, nothing to do", ours[2], results["skopeo copy"][2], "skopeo copy", 0, 0)
	return nil
}

// pushRounds times, b.runs times after a warm-up, each on a fresh registry: the first push, the push to a
// second repository, and the push again; it returns the medians.
func (b *bench) pushRounds(ctx context.Context, layoutDir string, t pushTool) ([3]time.Duration, error) {
	var times [3][]time.Duration
	for run := 0; run <= b.runs; run++ {
		host, stop, err := b.startRegistry(ctx)
		if err != nil {
			return [3]time.Duration{}, err
		}
		cache := filepath.Join(b.scratch, fmt.Sprintf("xdg-cache-%d", run)) // shipyard's blob cache, fresh per registry
		env := append(os.Environ(), "XDG_CACHE_HOME="+cache)
		for i, ref := range []string{host + "/first:1", host + "/second:1", host + "/first:1"} {
			args := t.cmd(layoutDir, ref)
			cmd := exec.CommandContext(ctx, args[0], args[1:]...)
			cmd.Env = env
			begin := time.Now()
			out, err := cmd.CombinedOutput()
			elapsed := time.Since(begin)
			if err != nil {
				stop()
				return [3]time.Duration{}, fmt.Errorf("%s: %v\n%s", t.name, err, out)
			}
			if run > 0 {
				times[i] = append(times[i], elapsed)
			}
		}
		stop()
	}
	var medians [3]time.Duration
	for i, ts := range times {
		slices.Sort(ts)
		medians[i] = ts[len(ts)/2]
	}
	return medians, nil
}

// startRegistry starts Debian's docker-registry on a free port with its data in a new directory.
func (b *bench) startRegistry(ctx context.Context) (host string, stop func(), err error) {
	if host, err = freeHost(); err != nil {
		return "", nil, err
	}
	root, err := os.MkdirTemp(b.scratch, "registry-")
	if err != nil {
		return "", nil, err
	}
	conf := filepath.Join(root, "config.yml")
	yml := fmt.Sprintf("version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n", filepath.Join(root, "data"), host)
	if err := os.WriteFile(conf, []byte(yml), 0o644); err != nil {
		return "", nil, err
	}
	cmd := exec.CommandContext(ctx, "docker-registry", "serve", conf)
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		os.RemoveAll(root)
	}
	if err := waitListening(host, "docker-registry"); err != nil {
		stop()
		return "", nil, err
	}
	return host, stop, nil
}

// freeHost is a loopback host:port nothing listens on.
func freeHost() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// waitListening waits up to 10s until what accepts connections on host.
func waitListening(host, what string) error {
	for deadline := time.Now().Add(10 * time.Second); ; {
		if conn, err := net.Dial("tcp", host); err == nil {
			conn.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not start on %s", what, host)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
