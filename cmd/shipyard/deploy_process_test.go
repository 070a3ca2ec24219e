package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/shipyardci/shipyard/internal/dbtest"
	"github.com/shipyardci/shipyard/internal/testenv"
	"github.com/shipyardci/shipyard/registry"
)

// TestDeployPath is the delivery this product exists for, end to end in a real container runtime
// (podman, as a cluster would run the manifests): examples/hello through the pipeline to release v1 of
// staging; its manifests pinned by digest; the pre-deploy migration Job's pod, run twice at once,
// expands PostgreSQL (one migrates, the other waits and finds nothing to do); the Deployment serves
// v1; a feat: commit with a live migration gives v2, whose Job expands, whose Deployment serves v2,
// and whose contract Job completes; release rollback gives manifests naming v1's digest, and the
// Deployment replaced with them serves v1 again.
func TestDeployPath(t *testing.T) {
	if testing.Short() {
		t.Skip("builds, pushes and runs images")
	}
	needPodman(t)
	for _, k := range []string{"GIT_AUTHOR_NAME", "GIT_COMMITTER_NAME"} {
		t.Setenv(k, "shipyard test")
	}
	for _, k := range []string{"GIT_AUTHOR_EMAIL", "GIT_COMMITTER_EMAIL"} {
		t.Setenv(k, "test@shipyard.invalid")
	}
	ctx := context.Background()
	reg, err := registry.Start(ctx, registry.ServeOptions{Addr: "127.0.0.1:0", Root: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { reg.Close() })
	db := dbtest.Postgres(t)
	port := freePort(t)
	dir := filepath.Join(t.TempDir(), "hello")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(testenv.Root(t), "examples", "hello"))))
	// A migration that takes a while, so that the two copies of the Job really meet at the lock.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "migrations", "20260101000001_pause.up.sql"), []byte("SELECT pg_sleep(3);\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "migrations", "20260101000001_pause.down.sql"), []byte("SELECT 1;\n"), 0o644))
	git := func(args ...string) { stdout(t, "git", append([]string{"-C", dir}, args...)...) }
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-qm", "feat: hello service")
	k8s := deployManifests(t, dir, reg.Host()+"/hello:latest", db, port)
	shipyard := func(args ...string) string { return stdout(t, binary, append([]string{"-C", dir}, args...)...) }
	release := func() {
		shipyard("pipeline", "--registry", reg.Host(), "--stages", "build,version,release")
		shipyard("release", "manifests", "--env", "staging", "-f", k8s, "--out", "rendered")
	}
	t.Cleanup(func() {
		for _, pod := range []string{"hello-pod-0", "hello-migrate-a", "hello-migrate-b", "hello-contract"} {
			_ = exec.Command("podman", "pod", "rm", "-f", "-t", "2", pod).Run()
		}
		_ = exec.Command("podman", "image", "prune", "-af").Run()
	})

	// v1: the Job's pod twice at once, then the Deployment.
	release()
	rendered := filepath.Join(dir, "rendered")
	v1 := imageOf(t, filepath.Join(rendered, "deployment.yaml"))
	require.Contains(t, v1, "@sha256:")
	logs := runJobs(t, filepath.Join(rendered, "migrate-job.yaml"), "hello-migrate-a", "hello-migrate-b")
	assert.Equal(t, 1, strings.Count(logs, "create_greetings"), "one copy migrated, the other found nothing to do:\n%s", logs)
	assert.Contains(t, logs, "waiting for another migration runner", "the other waited for it")
	playDeployment(t, filepath.Join(rendered, "deployment.yaml"))
	assert.Equal(t, `{"version":"0.1.0"}`, get(t, port, "/version"))
	assert.Equal(t, `{"lang":"fr","text":"Bonjour"}`, get(t, port, "/greetings/fr"))

	// v2: a feat: commit with a live migration.
	live := filepath.Join(dir, "migrations", "20260201000000_greeting_note")
	require.NoError(t, os.MkdirAll(live, 0o755))
	for name, body := range map[string]string{
		"expand.up.sql":     "ALTER TABLE greetings ADD COLUMN note VARCHAR(40);\n",
		"expand.down.sql":   "ALTER TABLE greetings DROP COLUMN note;\n",
		"contract.up.sql":   "UPDATE greetings SET note = 'checked' WHERE note IS NULL;\n",
		"contract.down.sql": "UPDATE greetings SET note = NULL;\n",
	} {
		require.NoError(t, os.WriteFile(filepath.Join(live, name), []byte(body), 0o644))
	}
	git("add", "-A")
	git("commit", "-qm", "feat: greetings have a note")
	release()
	v2 := imageOf(t, filepath.Join(rendered, "deployment.yaml"))
	require.NotEqual(t, v1, v2)
	logs = runJobs(t, filepath.Join(rendered, "migrate-job.yaml"), "hello-migrate-a")
	assert.Contains(t, logs, `"phase": "expand"`)
	playDeployment(t, filepath.Join(rendered, "deployment.yaml"))
	assert.Equal(t, `{"version":"0.2.0"}`, get(t, port, "/version"))
	logs = runJobs(t, filepath.Join(rendered, "contract-job.yaml"), "hello-contract")
	assert.Contains(t, logs, `"phase": "contract"`)

	// The rollback: v1's digest, served again.
	shipyard("release", "rollback", "--env", "staging", "--database", db)
	shipyard("release", "manifests", "--env", "staging", "-f", k8s, "--out", "rendered")
	assert.Equal(t, v1, imageOf(t, filepath.Join(rendered, "deployment.yaml")), "the rollback's manifests name v1's digest")
	playDeployment(t, filepath.Join(rendered, "deployment.yaml"))
	assert.Eventually(t, func() bool { return get(t, port, "/version") == `{"version":"0.1.0"}` }, 20*time.Second, 200*time.Millisecond)
}

// deployManifests writes the test's manifests, examples/k8s's with what podman on one host needs: the
// database and the listen address as plain values (no Secrets), one replica on the host's network.
func deployManifests(t *testing.T, dir, image, db string, port int) string {
	t.Helper()
	out := filepath.Join(dir, "k8s")
	require.NoError(t, os.MkdirAll(out, 0o755))
	for _, name := range []string{"migrate-job.yaml", "contract-job.yaml", "deployment.yaml"} {
		data, err := os.ReadFile(filepath.Join(testenv.Root(t), "examples", "k8s", name))
		require.NoError(t, err)
		var doc yaml.Node
		require.NoError(t, yaml.Unmarshal(data, &doc))
		var obj map[string]any
		require.NoError(t, doc.Decode(&obj))
		spec := obj["spec"].(map[string]any)
		if obj["kind"] == "Deployment" {
			spec["replicas"] = 1
		}
		pod := spec["template"].(map[string]any)["spec"].(map[string]any)
		var containers []any
		for _, c := range pod["containers"].([]any) {
			c := c.(map[string]any)
			if name == "contract-job.yaml" && c["name"] != "contract" {
				continue // the backfill runs in the contract pod's init container in a cluster; here, the contract alone
			}
			c["image"] = image
			delete(c, "resources")
			c["env"] = []any{map[string]any{"name": "DATABASE_URL", "value": db}, map[string]any{"name": "ADDR", "value": fmt.Sprintf("127.0.0.1:%d", port)}}
			delete(c, "readinessProbe")
			delete(c, "livenessProbe")
			delete(c, "ports") // the host's network: the service listens on ADDR
			containers = append(containers, c)
		}
		pod["containers"] = containers
		delete(pod, "initContainers")
		data, err = yaml.Marshal(obj)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(out, name), data, 0o644))
	}
	return "k8s"
}

// imageOf is the image of the first container of a manifest's pod template.
func imageOf(t *testing.T, file string) string {
	t.Helper()
	obj := readObject(t, file)
	pod := obj["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)
	return pod["containers"].([]any)[0].(map[string]any)["image"].(string)
}

func readObject(t *testing.T, file string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	require.NoError(t, err)
	var obj map[string]any
	require.NoError(t, yaml.Unmarshal(data, &obj))
	return obj
}

// runJobs runs a Job's pod template as pods of the given names, all at once, as podman runs a Job, and
// waits for each to exit 0; it returns their logs.
func runJobs(t *testing.T, job string, names ...string) string {
	t.Helper()
	obj := readObject(t, job)
	template := obj["spec"].(map[string]any)["template"].(map[string]any)
	var wg sync.WaitGroup
	logs := make([]string, len(names))
	for i, name := range names {
		_ = exec.Command("podman", "pod", "rm", "-f", "-t", "2", name).Run()
		meta, _ := template["metadata"].(map[string]any)
		if meta == nil {
			meta = map[string]any{}
		}
		meta["name"] = name
		pod := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template["spec"]}
		data, err := yaml.Marshal(pod)
		require.NoError(t, err)
		file := filepath.Join(t.TempDir(), name+".yaml")
		require.NoError(t, os.WriteFile(file, data, 0o644))
		wg.Add(1)
		go func() {
			defer wg.Done()
			container := name + "-" + template["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["name"].(string)
			if out, err := exec.Command("podman", "play", "kube", "--network", "host", "--tls-verify=false", file).CombinedOutput(); err != nil {
				logs[i] = fmt.Sprintf("play kube %s: %v\n%s", name, err, out)
				return
			}
			code, _ := exec.Command("podman", "wait", container).Output()
			out, _ := exec.Command("podman", "logs", container).CombinedOutput()
			logs[i] = fmt.Sprintf("exit %s%s", code, out)
		}()
	}
	wg.Wait()
	t.Logf("%s:\n%s", filepath.Base(job), strings.Join(logs, "\n"))
	for i, l := range logs {
		assert.True(t, strings.HasPrefix(l, "exit 0\n"), "the Job's pod %s exits 0:\n%s", names[i], l)
	}
	return strings.Join(logs, "\n")
}

// playDeployment starts, or replaces, the pods of a Deployment.
func playDeployment(t *testing.T, file string) {
	t.Helper()
	podman(t, "play", "kube", "--replace", "--network", "host", "--tls-verify=false", file)
}
