package cmd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"

	"github.com/spf13/cobra"

	"github.com/shipyardci/shipyard/internal/config"
	"github.com/shipyardci/shipyard/internal/exitcode"
	"github.com/shipyardci/shipyard/internal/ghactions"
	"github.com/shipyardci/shipyard/internal/gitx"
	"github.com/shipyardci/shipyard/internal/iostreams"
	"github.com/shipyardci/shipyard/internal/pipeline"
	"github.com/shipyardci/shipyard/internal/textreport"
	"github.com/shipyardci/shipyard/migrate"
	"github.com/shipyardci/shipyard/registry"
)

type pipelineOptions struct {
	Stages       []string
	Env          string
	Registry     string
	RegistryAddr string
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
	c.Flags().StringSliceVar(&o.Stages, "stages", pipeline.Names, "the `STAGES` to run, comma-separated")
	c.Flags().StringVar(&o.Env, "env", "staging", "the environment the release is for")
	c.Flags().StringVar(&o.Registry, "registry", "", "the registry `HOST` to push to (default: the embedded registry)")
	c.Flags().StringVar(&o.RegistryAddr, "registry-addr", embeddedAddr, "the `HOST:PORT` of the embedded registry (registry serve's default, so that it serves the releases' images again; a free port when it is taken)")
	config.BindUnder(c.Flags(), "pipeline", "stages", "env", "registry", "registry-addr")
	return c
}

// embeddedAddr is where the pipeline's embedded registry listens by default: the address of `shipyard
// registry serve`, so that the images the release records name are there again when the same data is
// served.
const embeddedAddr = "127.0.0.1:5000"

func (f *Factory) runPipeline(ctx context.Context, o *pipelineOptions) error {
	if err := pipeline.CheckStages(o.Stages); err != nil {
		return err
	}
	host := o.Registry
	if _, err := gitx.Open(ctx, f.Dir); host == "" && err == nil && slices.Contains(o.Stages, "build") {
		h, stop, err := pipeline.Embedded(ctx, f.Dir, o.RegistryAddr, slog.New(f.IO.LogHandler()))
		if err != nil {
			return err
		}
		defer stop()
		host = h
	}
	reg := f.configRegistryOptions()
	opts := pipeline.Options{Dir: f.Dir, Config: f.Config.Config, Stages: o.Stages, Env: o.Env, Registry: host,
		Getenv: f.Getenv, Environ: f.Environ(), ToolVersion: f.ToolVersion, Output: iostreams.Locked(f.IO.ErrOut),
		Log: slog.New(f.IO.LogHandler()), Now: f.now(), By: migrate.DefaultAppliedBy(),
		Client: func() (*registry.Client, func(), error) { return f.registryClient(&reg) }}
	var endGroup func()
	report, err := pipeline.Run(ctx, opts, pipeline.Hooks{
		Start: func(stage string) {
			endGroup = f.Actions.Group("shipyard pipeline: " + stage)
			f.IO.Infof("== shipyard pipeline: %s", stage)
		},
		End: func(r pipeline.StageReport) {
			if endGroup != nil {
				f.stageEnded(r)
				endGroup()
				endGroup = nil
			}
		},
	})
	if report == nil {
		return err
	}
	if err := f.pipelineSummary(report); err != nil {
		return err
	}
	if err != nil {
		return exitcode.Silent(exitcode.Code(err))
	}
	return nil
}

// configRegistryOptions are the registry client's settings of shipyard.yaml, for the stages that push.
func (f *Factory) configRegistryOptions() registryOptions {
	c := f.Config.Registry
	o := registryOptions{Username: c.Username, Insecure: c.Insecure, Jobs: c.Jobs}
	if c.CACert != "" {
		o.CACerts = []string{c.CACert}
	}
	return o
}

// stageEnded shows what a stage did, as its command would: its status lines, its annotations, its step
// outputs, and its error.
func (f *Factory) stageEnded(r pipeline.StageReport) {
	if r.Err != nil {
		msg := f.IO.Scrub(withFlag(r.Err))
		f.IO.Errorf("%s", msg)
		f.Actions.Annotate(ghactions.Annotation{Title: "shipyard pipeline: " + r.Stage, Message: msg})
	}
	var outputs []string
	switch res := r.Result.(type) {
	case *pipeline.TestResult:
		f.warnNoSource(res.Report)
		if err := textreport.CoverageTable(f.IO.ErrOut, res.Report, res.Failures, false); err == nil {
			_ = f.testOutputs(res.Report, res.Gate.Diff, res.Failures)
		}
	case *pipeline.AuditResult:
		for _, a := range textreport.AuditAnnotations(res.Report, res.FailOn) {
			f.Actions.Annotate(a)
		}
		_ = textreport.Audit(f.IO.ErrOut, res.Report)
	case interface{ Outputs() []string }:
		outputs = res.Outputs()
	}
	if r.Result != nil {
		f.IO.Infof("%s: %s", r.Stage, r.Result.Detail())
	}
	if err := f.SetOutputs(outputs...); err != nil {
		f.IO.Warnf("writing the step outputs: %v", err)
	}
}

func (f *Factory) pipelineSummary(report *pipeline.Report) error {
	for i, r := range report.Stages {
		if r.Err != nil {
			report.Stages[i].Detail = fmt.Sprintf("exit %d", exitcode.Code(r.Err))
		}
	}
	if err := f.Actions.AddSummary(textreport.PipelineMarkdown(report)); err != nil {
		return err
	}
	return f.Render(report, func(w io.Writer) error { return textreport.Pipeline(w, report) })
}
