package cmd

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/shipyardci/shipyard/internal/registrytest"
	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/release"
)

// embeddedWithImages starts the embedded registry with a random image in api for each tag, and returns
// the registry, a client, and the images by digest.
func embeddedWithImages(t *testing.T, tags ...string) (*registry.Server, *registry.Client, []string) {
	t.Helper()
	ctx := context.Background()
	s, err := registry.Start(ctx, registry.ServeOptions{Addr: "127.0.0.1:0", Root: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	client, err := registry.New(registry.Options{})
	require.NoError(t, err)
	var refs []string
	for _, tag := range tags {
		dir, _ := registrytest.Image(t, 1024, 1)
		a, err := registry.Load(dir)
		require.NoError(t, err)
		res, err := client.Push(ctx, a, registrytest.Ref(t, s.Host()+"/api:"+tag), registry.PushOptions{NoExpand: true})
		require.NoError(t, err)
		refs = append(refs, res.Reference.String())
	}
	return s, client, refs
}

func TestRelease(t *testing.T) {
	ctx := context.Background()
	s, client, refs := embeddedWithImages(t, "one", "two")
	one, two := refs[0], refs[1]
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "staging.yaml"), []byte("values:\n  LOG_LEVEL: info\nsecrets:\n  DATABASE_URL: vault:secret/api#db\n"), 0o644))
	env, output, _ := actionsEnv(t)

	r := cli(t, dir, env, "release", "create", "--env", "staging", "--image", one, "--config", "staging.yaml", "--version", "1.0.0", "--migration-version", "3")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "staging v1: "+one+"\n", r.stdout)
	assert.Contains(t, readFile(t, output), "release=v1")
	r = cli(t, dir, env, "release", "create", "--env", "staging", "--image", two, "--config", "staging.yaml", "--version", "1.1.0")
	require.Equal(t, 0, r.code, r.stderr)

	r = cli(t, dir, nil, "-o", "json", "release", "rollback", "--env", "staging")
	require.Equal(t, 0, r.code, r.stderr)
	var v3 struct {
		Name, Env, Image, Digest string
		RollbackOf               string `json:"rollback_of"`
		Number                   int
		ConfigSHA256             string `json:"config_sha256"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &v3), r.stdout)
	assert.Equal(t, "v3", v3.Name)
	assert.Equal(t, 3, v3.Number)
	assert.Equal(t, one, v3.Image, "v3 points at v1's digest")
	assert.Equal(t, "v1", v3.RollbackOf)
	assert.Len(t, v3.ConfigSHA256, 64)
	tagged, err := client.Digest(ctx, registrytest.Ref(t, s.Host()+"/api:staging"))
	require.NoError(t, err)
	assert.Equal(t, v3.Digest, tagged, "the environment's tag moved")

	r = cli(t, dir, nil, "release", "promote", "--from", "staging", "--to", "prod")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "prod v1: "+one+" (promoted from staging/v3)\n", r.stdout)

	r = cli(t, dir, nil, "release", "list", "--env", "staging")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "v3    1.0.0")
	assert.Contains(t, r.stdout, "rollback to v1")

	r = cli(t, dir, nil, "release", "show", "v2", "--env", "staging")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "staging v2: "+two+"\n", r.stdout)

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"release", "create", "--image", one}, "--env: say which environment"},
		{[]string{"release", "create", "--env", "staging", "--image", s.Host() + "/api:one"}, "is not a reference by digest"},
		{[]string{"release", "create", "--env", "staging", "--image", one, "--scheme", "random"}, `--scheme: "random" is not counter, timestamp, semver or calver`},
		{[]string{"release", "show", "v9", "--env", "staging"}, "error: staging has no release v9"},
		{[]string{"release", "rollback", "--env", "staging", "--to", "v9"}, "--to: staging has no release v9"},
	} {
		r := cli(t, dir, nil, tc.args...)
		assert.Equal(t, 2, r.code, "%v: %s", tc.args, r.stderr)
		assert.Contains(t, r.stderr, tc.want)
	}
}

// TestRollbackChecksTheSchema: rolling back to a release that needs a schema version the database no
// longer has warns, and still rolls back.
func TestRollbackChecksTheSchema(t *testing.T) {
	dir := migrationsProject(t, nil)
	_, _, refs := embeddedWithImages(t, "one", "two")
	r := cli(t, dir, nil, "migrate", "up")
	require.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, nil, "release", "create", "--env", "staging", "--image", refs[0])
	require.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, nil, "release", "create", "--env", "staging", "--image", refs[1], "--migration-version", "1")
	require.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, nil, "migrate", "down", "2")
	require.Equal(t, 0, r.code, r.stderr)

	r = cli(t, dir, nil, "release", "rollback", "--env", "staging", "--no-tag", "--database", "sqlite://.shipyard/dev.db")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "warning: v3 needs schema version 3, and the database is at 1: run shipyard migrate up (or goto 3) before it serves traffic")
}

// TestReleaseInTheRegistry keeps the records in the image's repository: nothing on disk, and a second
// machine (another directory) sees them.
func TestReleaseInTheRegistry(t *testing.T) {
	ctx := context.Background()
	s, client, refs := embeddedWithImages(t, "one", "two")
	laptop, other := t.TempDir(), t.TempDir()
	for _, ref := range refs {
		r := cli(t, laptop, nil, "release", "create", "--env", "staging", "--image", ref, "--store", "registry://")
		require.Equal(t, 0, r.code, r.stderr)
	}
	assert.NoDirExists(t, filepath.Join(laptop, ".shipyard", "releases"))
	store := "registry://" + s.Host() + "/api"
	r := cli(t, other, nil, "release", "rollback", "--env", "staging", "--store", store)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Equal(t, "staging v3: "+refs[0]+" (rollback to v1)\n", r.stdout)
	r = cli(t, other, nil, "-o", "json", "release", "list", "--env", "staging", "--store", store)
	require.Equal(t, 0, r.code, r.stderr)
	var list struct {
		Releases []struct{ Name, Image string }
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list), r.stdout)
	require.Len(t, list.Releases, 3)
	assert.Equal(t, "v3", list.Releases[0].Name)
	assert.Equal(t, refs[0], list.Releases[0].Image)
	tags, err := client.Tags(ctx, registrytest.Repo(t, s.Host()+"/api"))
	require.NoError(t, err)
	assert.Subset(t, tags, []string{"release-1-staging", "release-2-staging", "release-3-staging", "staging"})

	r = cli(t, other, nil, "release", "list", "--env", "staging", "--store", "registry://")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--store: registry:// needs the repository of the releases, registry://HOST/REPO")
}

// TestPruneKeepsReleasedImages: registry prune never deletes an image that a release record names, nor
// prunes while a record is damaged.
func TestPruneKeepsReleasedImages(t *testing.T) {
	s, _, refs := embeddedWithImages(t, "a", "b", "c")
	dir := t.TempDir()
	r := cli(t, dir, nil, "release", "create", "--env", "staging", "--image", refs[0])
	require.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, nil, "-o", "json", "registry", "prune", s.Host()+"/api", "--keep", "0", "--dry-run")
	require.Equal(t, 0, r.code, r.stderr)
	var out struct{ Deleted []registry.Deleted }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	var gone []string
	for _, d := range out.Deleted {
		gone = append(gone, s.Host()+"/api@"+d.Digest)
	}
	assert.ElementsMatch(t, refs[1:], gone, "the released image stays")

	records, err := filepath.Glob(filepath.Join(dir, ".shipyard", "releases", "staging", "*.json"))
	require.NoError(t, err)
	require.Len(t, records, 1)
	require.NoError(t, os.WriteFile(records[0], []byte(`{"name": "v1", "digest": "sha256:`), 0o644))
	r = cli(t, dir, nil, "registry", "prune", s.Host()+"/api", "--keep", "0")
	assert.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "release record "+records[0]+" is damaged")
	assert.Contains(t, r.stderr, "nothing is pruned")

	r = cli(t, dir, nil, "-o", "json", "release", "list", "--env", "staging")
	require.Equal(t, 0, r.code, "a damaged record blocks no listing: %s", r.stderr)
	assert.Contains(t, r.stderr, "warning: release record "+records[0]+" is damaged: it is not a release record: unexpected end of JSON input: left out")
	var list struct {
		Releases []release.Record
		Damaged  []release.DamagedError
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &list))
	assert.Empty(t, list.Releases)
	assert.Equal(t, []release.DamagedError{{Where: records[0], Number: 1, Problem: "it is not a release record: unexpected end of JSON input"}}, list.Damaged)
}

// TestReleaseManifests: release manifests pins Kubernetes YAML to the environment's current release, to
// a named one, and, after a rollback, to the old digest; to stdout (one stream of documents, ready for
// kubectl apply -f -), to --out DIR, from stdin; a release that does not exist and a missing file are
// input errors.
func TestReleaseManifests(t *testing.T) {
	_, _, refs := embeddedWithImages(t, "one", "two")
	one, two := refs[0], refs[1]
	repo := strings.SplitN(one, "@", 2)[0]
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "k8s"), 0o755))
	deploy := "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api # the service\n          image: " + repo + ":latest\n"
	job := "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: api-migrate\nspec:\n  template:\n    spec:\n      containers:\n        - name: migrate\n          image: " + repo + ":latest\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "k8s", "deploy.yaml"), []byte(deploy), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "k8s", "job.yml"), []byte(job), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "k8s", "README.md"), []byte("not a manifest\n"), 0o644))

	r := cli(t, dir, nil, "release", "manifests", "--env", "staging", "-f", "k8s")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--env: staging has no release")

	for _, ref := range []string{one, two} {
		r = cli(t, dir, nil, "release", "create", "--env", "staging", "--image", ref, "--version", map[string]string{one: "1.0.0", two: "1.1.0"}[ref])
		require.Equal(t, 0, r.code, r.stderr)
	}
	r = cli(t, dir, nil, "release", "manifests", "--env", "staging", "-f", "k8s")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "staging release v2: 2 image references pinned to "+two)
	docs := strings.Split(r.stdout, "\n---\n")
	require.Len(t, docs, 2, r.stdout)
	assert.Contains(t, docs[0], "image: "+two)
	assert.Contains(t, docs[0], "- name: api # the service\n", "comments survive")
	assert.Contains(t, docs[0], "shipyard.dev/release: \"v2\"")
	assert.Contains(t, docs[0], "app.kubernetes.io/version: \"1.1.0\"")
	assert.Contains(t, docs[1], "kind: Job")
	assert.Contains(t, docs[1], "image: "+two+"\n")

	r = cli(t, dir, nil, "release", "manifests", "--env", "staging", "-f", "k8s/deploy.yaml", "v1")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "image: "+one+"\n", "a named release")

	r = cli(t, dir, nil, "release", "rollback", "--env", "staging", "--no-tag")
	require.Equal(t, 0, r.code, r.stderr)
	r = cli(t, dir, nil, "-o", "json", "release", "manifests", "--env", "staging", "-f", "k8s", "--out", "rendered")
	require.Equal(t, 0, r.code, r.stderr)
	var res struct {
		Release struct{ Name, Image string }
		Pinned  []struct{ Kind, Before, After string }
		Written []string
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &res), r.stdout)
	assert.Equal(t, "v3", res.Release.Name)
	assert.Equal(t, one, res.Release.Image, "a rollback's manifests name the old digest")
	assert.Len(t, res.Pinned, 2)
	assert.Equal(t, []string{filepath.Join(dir, "rendered", "deploy.yaml"), filepath.Join(dir, "rendered", "job.yml")}, res.Written)
	assert.Contains(t, readFile(t, filepath.Join(dir, "rendered", "job.yml")), "image: "+one+"\n")

	r = executeWithStdin(context.Background(), t, dir, nil, false, deploy, "release", "manifests", "--env", "staging", "-f", "-")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "image: "+one+"\n", "from stdin")

	r = cli(t, dir, nil, "release", "manifests", "--env", "staging", "-f", "nowhere.yaml")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--filename: stat ")
}
