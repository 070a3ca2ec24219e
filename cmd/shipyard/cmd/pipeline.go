package cmd

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/build"
	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/gitx"
	"github.com/shipyardci/shipyard/registry"
	"github.com/shipyardci/shipyard/semver"
)

// pipelineStages are the stages shipyard pipeline knows, in the order it runs them.
var pipelineStages = []string{"test", "audit", "build", "version", "release", "migrate"}

type pipelineOptions struct {
	Stages       []string
	Env          string
	Registry     string
	RegistryAddr string
}

// stageResult is one stage's outcome, in the summary.
type stageResult struct {
	Stage    string        `json:"stage"`
	Status   string        `json:"status"` // ok, failed, skipped
	Duration time.Duration `json:"duration_ns"`
	Detail   string        `json:"detail,omitempty"`
	code     int
}

func newPipelineCmd(f *Factory) *cobra.Command {
	var o pipelineOptions
	c := &cobra.Command{
		Use:   "pipeline",
		Short: "Run the delivery stages in order: test, audit, build and push, version tag, release, migrate",
		Long: `Run the stages of the delivery, in order, stopping at the first that fails and exiting with its code:

  test     shipyard test, behind the coverage gates of shipyard.yaml
  audit    shipyard audit
  build    shipyard build --push REGISTRY/NAME:VERSION, VERSION the next one (shipyard version next)
  version  shipyard version tag
  release  shipyard release create --env ENV
  migrate  shipyard migrate up

The registry is --registry, else the embedded one, started in this process with its data in
.shipyard/registry, so that a fresh clone runs end to end with nothing else running. One summary
closes the run: a table on a terminal, the step summary under GitHub Actions.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return f.runPipeline(cmd.Context(), &o) },
	}
	c.Flags().StringSliceVar(&o.Stages, "stages", pipelineStages, "the `STAGES` to run, comma-separated")
	c.Flags().StringVar(&o.Env, "env", "staging", "the environment the release is for")
	c.Flags().StringVar(&o.Registry, "registry", "", "the registry `HOST` to push to (default: the embedded registry)")
	c.Flags().StringVar(&o.RegistryAddr, "registry-addr", embeddedAddr, "the `HOST:PORT` of the embedded registry (registry serve's default, so that it serves the releases' images again; a free port when it is taken)")
	config.Bind(c.Flags(), "stages", "pipeline.stages")
	config.Bind(c.Flags(), "env", "pipeline.env")
	config.Bind(c.Flags(), "registry", "pipeline.registry")
	config.Bind(c.Flags(), "registry-addr", "pipeline.registry_addr")
	return c
}

// embeddedAddr is where the pipeline's embedded registry listens by default: the address of `shipyard
// registry serve`, so that the images the release records name are there again when the same data is
// served.
const embeddedAddr = "127.0.0.1:5000"

// embeddedRegistry serves .shipyard/registry on embeddedAddr for the run. A registry that already
// answers there (shipyard registry serve) is used as it is; when something else holds the port, a free
// one is taken, with a warning: the records then name an address that will not serve them again.
func (f *Factory) embeddedRegistry(ctx context.Context, embeddedAddr string) (host string, stop func(), err error) {
	root := f.Path(filepath.Join(".shipyard", "registry"))
	srv, err := registry.Start(ctx, registry.ServeOptions{Addr: embeddedAddr, Root: root})
	if err != nil {
		if registryAnswers(ctx, embeddedAddr) {
			f.IO.Infof("pushing to the registry already serving on %s", embeddedAddr)
			return embeddedAddr, func() {}, nil
		}
		f.IO.Warnf("%s is taken: the embedded registry takes a free port, which the release records will name (%v)", embeddedAddr, err)
		if srv, err = registry.Start(ctx, registry.ServeOptions{Addr: "127.0.0.1:0", Root: root}); err != nil {
			return "", nil, err
		}
	}
	f.IO.Infof("embedded registry on %s (data in .shipyard/registry)", srv.Host())
	return srv.Host(), func() { srv.Close() }, nil
}

// registryAnswers says whether a registry serves the OCI distribution API on addr.
func registryAnswers(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.Header.Get("Docker-Distribution-Api-Version") != "" || resp.StatusCode == http.StatusOK
}

func (f *Factory) runPipeline(ctx context.Context, o *pipelineOptions) error {
	for _, s := range o.Stages {
		if !slices.Contains(pipelineStages, s) {
			return exitcode.Input(fmt.Errorf("--stages: %q is not one of %s", s, strings.Join(pipelineStages, ", ")))
		}
	}
	_, gitErr := gitx.Open(ctx, f.Dir)
	inGit := gitErr == nil
	host := o.Registry
	if host == "" && inGit && slices.Contains(o.Stages, "build") {
		h, stop, err := f.embeddedRegistry(ctx, o.RegistryAddr)
		if err != nil {
			return err
		}
		defer stop()
		host = h
	}
	version := ""
	if r, err := semver.Next(ctx, semver.WithDir(f.Dir), semver.WithTagPrefix(f.Config.Version.TagPrefix)); err == nil {
		version = r.Version.String()
	}
	name := build.ProjectName(f.Dir)
	argsOf := map[string][]string{
		"test":    {"test"},
		"audit":   {"audit"},
		"build":   {"build", "--app-version", version, "--push", host + "/" + name + ":" + version},
		"version": {"version", "tag"},
		"release": {"release", "create", "--env", o.Env},
		"migrate": {"migrate", "up"},
	}
	var results []stageResult
	failed := 0
	for _, s := range pipelineStages {
		if !slices.Contains(o.Stages, s) {
			continue
		}
		if failed != 0 {
			results = append(results, stageResult{Stage: s, Status: "skipped", Detail: "an earlier stage failed"})
			continue
		}
		if why := f.stageInputMissing(s, inGit); why != "" {
			f.IO.Infof("== shipyard pipeline: %s skipped: %s", s, why)
			results = append(results, stageResult{Stage: s, Status: "skipped", Detail: why})
			continue
		}
		start := time.Now()
		end := f.Actions.Group("shipyard pipeline: " + s)
		code := f.runStage(ctx, argsOf[s])
		end()
		res := stageResult{Stage: s, Status: "ok", Duration: time.Since(start), code: code}
		if code != 0 {
			res.Status, res.Detail, failed = "failed", fmt.Sprintf("exit %d", code), code
		}
		if s == "build" && code == 0 {
			res.Detail = host + "/" + name + ":" + version
		}
		results = append(results, res)
	}
	if err := f.pipelineSummary(results, version); err != nil {
		return err
	}
	if failed != 0 {
		return exitcode.Silent(failed)
	}
	return nil
}

// stageInputMissing says why a stage has nothing to work on (a Go-only test stage in a project without
// go.mod, a migrate stage without migrations, a build outside git, which has no version to give the
// image), or "" when it has.
func (f *Factory) stageInputMissing(stage string, inGit bool) string {
	exists := func(p string) bool { _, err := os.Stat(f.Path(p)); return err == nil }
	switch stage {
	case "build", "version", "release":
		if !inGit {
			return "not a git repository (git init and commit for a version)"
		}
	case "test":
		if !exists("go.mod") {
			return "no go.mod"
		}
	case "audit":
		if !exists("go.mod") && !exists("package.json") {
			return "no go.mod or package.json"
		}
	case "migrate":
		dir := f.Config.Migrate.Dir
		if dir == "" {
			dir = "migrations"
		}
		if !exists(dir) {
			return "no " + dir + "/ directory"
		}
	}
	return ""
}

// runStage runs a shipyard command in this process, its results on stderr with its logs.
func (f *Factory) runStage(ctx context.Context, args []string) int {
	stageIO := *f.IO
	stageIO.Out = f.IO.ErrOut
	sub := *f
	sub.IO = &stageIO
	sub.Output = outputText
	f.IO.Infof("== shipyard %s", strings.Join(args, " "))
	return Run(ctx, &sub, BuildInfo{Version: f.ToolVersion}, append([]string{"-C", f.Dir}, args...))
}

func (f *Factory) pipelineSummary(results []stageResult, version string) error {
	var md strings.Builder
	md.WriteString("### shipyard pipeline " + version + "\n\n| stage | status | duration | detail |\n|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(&md, "| %s | %s | %s | %s |\n", r.Stage, r.Status, r.Duration.Round(time.Millisecond), r.Detail)
	}
	if err := f.Actions.AddSummary(md.String()); err != nil {
		return err
	}
	return f.Render(map[string]any{"version": version, "stages": results}, func(w io.Writer) error {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "STAGE\tSTATUS\tDURATION\tDETAIL")
		for _, r := range results {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Stage, r.Status, r.Duration.Round(time.Millisecond), r.Detail)
		}
		return tw.Flush()
	})
}
