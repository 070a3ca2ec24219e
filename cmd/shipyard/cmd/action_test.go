package cmd

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/shipyardci/shipyard/internal/testenv"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/shipyardci/shipyard/internal/registrytest"
)

// actionMetadata is the part of action.yml a composite run needs.
type actionMetadata struct {
	Inputs  map[string]struct{ Default string } `yaml:"inputs"`
	Outputs map[string]struct{ Value string }   `yaml:"outputs"`
	Runs    struct {
		Using string `yaml:"using"`
		Steps []struct {
			ID               string            `yaml:"id"`
			Shell            string            `yaml:"shell"`
			Run              string            `yaml:"run"`
			WorkingDirectory string            `yaml:"working-directory"`
			Env              map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

// composite runs the steps of action.yml as the runner does: each with bash, its env evaluated,
// GITHUB_OUTPUT, GITHUB_PATH and GITHUB_STEP_SUMMARY files, and the PATH the steps before added.
type composite struct {
	t       *testing.T
	meta    actionMetadata
	inputs  map[string]string
	outputs map[string]map[string]string // step id → its outputs
	env     map[string]string
	root    string // GITHUB_ACTION_PATH: this repository
	summary string
}

var expression = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)

// eval evaluates the expressions action.yml uses: inputs.NAME, github.action_ref, steps.ID.outputs.NAME,
// and a || b. Anything else fails the test: the harness must know every expression the action has.
func (c *composite) eval(s string) string {
	return expression.ReplaceAllStringFunc(s, func(m string) string {
		for _, operand := range strings.Split(expression.FindStringSubmatch(m)[1], "||") {
			operand = strings.TrimSpace(operand)
			var v string
			switch parts := strings.Split(operand, "."); {
			case len(parts) == 2 && parts[0] == "inputs":
				v = c.inputs[parts[1]]
			case operand == "github.action_ref":
				v = "main" // a branch: the action builds its own source
			case len(parts) == 4 && parts[0] == "steps" && parts[2] == "outputs":
				v = c.outputs[parts[1]][parts[3]]
			default:
				c.t.Fatalf("action.yml: the test does not know the expression %q", operand)
			}
			if v != "" {
				return v
			}
		}
		return ""
	})
}

// run runs every step in workspace.
func (c *composite) run(workspace string) {
	t := c.t
	temp := t.TempDir()
	pathFile, summary := filepath.Join(temp, "path"), filepath.Join(temp, "summary")
	c.summary = summary
	for _, step := range c.meta.Runs.Steps {
		require.Equal(t, "bash", step.Shell, "step %s", step.ID)
		output := filepath.Join(temp, "output-"+step.ID)
		cmd := exec.Command("bash", "-e", "-c", step.Run)
		cmd.Dir = filepath.Join(workspace, c.eval(step.WorkingDirectory))
		env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_ACTION_PATH": c.root, "GITHUB_OUTPUT": output,
			"GITHUB_PATH": pathFile, "GITHUB_STEP_SUMMARY": summary, "RUNNER_TEMP": temp, "GITHUB_WORKSPACE": workspace}
		for k, v := range c.env {
			env[k] = v
		}
		if added, err := os.ReadFile(pathFile); err == nil {
			for _, dir := range strings.Fields(string(added)) {
				env["PATH"] = dir + string(os.PathListSeparator) + env["PATH"]
			}
		}
		for k, v := range step.Env {
			env[k] = c.eval(v)
		}
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "step %s:\n%s", step.ID, out)
		c.outputs[step.ID] = readOutputs(t, output)
	}
}

// readOutputs reads a GITHUB_OUTPUT file: name=value lines and name<<DELIMITER blocks.
func readOutputs(t *testing.T, path string) map[string]string {
	out := map[string]string{}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return out
	}
	require.NoError(t, err)
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok {
			var value []string
			for sc.Scan() && sc.Text() != delim {
				value = append(value, sc.Text())
			}
			out[name] = strings.Join(value, "\n")
			continue
		}
		if name, value, ok := strings.Cut(line, "="); ok {
			out[name] = value
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// TestAction runs action.yml's composite steps on a fresh clone of examples/hello with the default
// command, pipeline: the install step builds the action's own shipyard, the run step runs it, and the
// action's outputs digest, version, release and coverage come out of GITHUB_OUTPUT.
func TestAction(t *testing.T) {
	if testing.Short() {
		t.Skip("builds shipyard")
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(root, "action.yml"))
	require.NoError(t, err)
	c := &composite{t: t, root: root, inputs: map[string]string{}, outputs: map[string]map[string]string{}}
	require.NoError(t, yaml.Unmarshal(data, &c.meta))
	require.Equal(t, "composite", c.meta.Runs.Using)
	for name, in := range c.meta.Inputs {
		c.inputs[name] = in.Default
	}
	require.Equal(t, "pipeline", c.inputs["command"])
	c.inputs["command"] += fmt.Sprintf(" --registry-addr 127.0.0.1:%d", registrytest.FreePort(t)) // not the shared default port

	dir := helloProject(t)
	c.env = goEnv(map[string]string{"GOPROXY": "off", "SHIPYARD_AUDIT_VULN_DB": testenv.VulnDB(t),
		"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"})
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "feat: hello"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		for k, v := range c.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "git %v: %s", args, out)
	}

	c.run(dir)
	outputs := map[string]string{}
	for name, o := range c.meta.Outputs {
		outputs[name] = c.eval(o.Value)
	}
	assert.Regexp(t, `^sha256:[0-9a-f]{64}$`, outputs["digest"])
	assert.Equal(t, "0.1.0", outputs["version"])
	assert.Equal(t, "v1", outputs["release"])
	assert.Regexp(t, `^[0-9]+\.[0-9]$`, outputs["coverage"])
	assert.Regexp(t, `^127\.0\.0\.1:\d+/hello:0\.1\.0\n127\.0\.0\.1:\d+/hello:0\.1\n127\.0\.0\.1:\d+/hello:0\n127\.0\.0\.1:\d+/hello:latest$`, outputs["tags"])
	assert.Contains(t, readFile(t, c.summary), "shipyard pipeline")
}

// TestActionlint checks the workflows, the examples and, through the workflows that use it (uses: ./),
// action.yml, with actionlint from the Go module proxy.
func TestActionlint(t *testing.T) {
	if testing.Short() {
		t.Skip("builds actionlint")
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	require.NoError(t, err)
	files, err := filepath.Glob(filepath.Join(root, ".github", "workflows", "*.yml"))
	require.NoError(t, err)
	examples, err := filepath.Glob(filepath.Join(root, "examples", "github-actions", "*.yml"))
	require.NoError(t, err)
	require.NotEmpty(t, examples)
	cmd := exec.Command("go", append([]string{"run", "github.com/rhysd/actionlint/cmd/actionlint@v1.7.12"}, append(files, examples...)...)...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	assert.NoError(t, err, "%s", out)
}

// TestActionRunSplitsLikeAShell runs the action's run step with a shipyard built from this tree: the
// command input is split with shell-style quotes and never evaluated, args adds one argument per line
// verbatim, and an unmatched quote is an input error.
func TestActionRunSplitsLikeAShell(t *testing.T) {
	root := testenv.Root(t)
	bin := t.TempDir()
	out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "shipyard"), filepath.Join(root, "cmd", "shipyard")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	marker := filepath.Join(t.TempDir(), "evaluated")
	for _, tc := range []struct {
		name, command, args string
		code                int
		stdout              string
	}{
		{"double quotes keep a space", `version check 1.4.2 ">=1.2 <2"`, "", 0, "1.4.2 satisfies >=1.2 <2\n"},
		{"single quotes and a backslash", `version check '1.4.2' >=1.2\ <2`, "", 0, "1.4.2 satisfies >=1.2 <2\n"},
		{"args, one per line", "version check", "1.4.2\n>=1.2 <2\n", 0, "1.4.2 satisfies >=1.2 <2\n"},
		{"split at whitespace", `version check 1.4.2 >=1.2 <2`, "", 2, ""},
		{"nothing is evaluated", `version check 1.4.2 "$(touch ` + marker + `)"`, "", 2, ""},
		{"an unmatched quote", `version check "1.4.2`, "", 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command("bash", filepath.Join(root, "scripts", "action", "run.sh"))
			cmd.Dir = t.TempDir()
			cmd.Env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "HOME=" + cmd.Dir,
				"ACTION_COMMAND=" + tc.command, "ACTION_ARGS=" + tc.args}
			var stdout, stderr strings.Builder
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.code, code, "stderr: %s", stderr.String())
			if tc.stdout != "" {
				assert.Equal(t, tc.stdout, stdout.String())
			}
			assert.NoFileExists(t, marker, "the command was evaluated by a shell")
		})
	}
}

// TestActionShardInput: the shard input becomes --shard K/N before a "--" (after it, the arguments are
// go test's), or at the end.
func TestActionShardInput(t *testing.T) {
	root := testenv.Root(t)
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "shipyard"), []byte("#!/bin/sh\nprintf '%s\\n' \"$@\"\n"), 0o755))
	for _, tc := range []struct{ command, shard, want string }{
		{"test --min-total 80 -- -race", "2/4", "test\n--min-total\n80\n--shard\n2/4\n--\n-race\n"},
		{"test", "1/3", "test\n--shard\n1/3\n"},
		{"test --min-total 80", "", "test\n--min-total\n80\n"},
	} {
		cmd := exec.Command("bash", filepath.Join(root, "scripts", "action", "run.sh"))
		cmd.Env = []string{"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"), "ACTION_COMMAND=" + tc.command, "ACTION_SHARD=" + tc.shard}
		out, err := cmd.Output()
		require.NoError(t, err)
		assert.Equal(t, tc.want, string(out), tc.command)
	}
}
