package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
	"github.com/owenrumney/go-sarif/v3/pkg/report"
	"github.com/owenrumney/go-sarif/v3/pkg/report/v210/sarif"
)

// securitySeverity is GitHub code scanning's numeric severity of each rating.
var securitySeverity = map[string]string{"critical": "9.5", "high": "8.0", "moderate": "5.5", "low": "2.0", "unknown": "5.5"}

// WriteSARIF writes the vulnerabilities, and the deprecated or retracted dependencies, as a SARIF 2.1.0
// log for GitHub code scanning: one rule per advisory, one result per finding on its manifest line.
func WriteSARIF(w io.Writer, toolVersion string, deps []Dependency, vulns []Vulnerability) error {
	rep := report.NewV210Report()
	run := sarif.NewRunWithInformationURI("shipyard audit", "https://github.com/shipyardci/shipyard")
	run.Tool.Driver.WithVersion(toolVersion)
	for _, v := range vulns {
		props := sarif.NewPropertyBag()
		props.Add("security-severity", securitySeverity[v.Severity])
		props.Add("tags", []string{"security", "dependency", string(v.Ecosystem)})
		rule := run.AddRule(v.ID).WithDescription(v.Summary).WithProperties(props)
		if v.URL != "" {
			rule.WithHelpURI(v.URL)
		}
		addResult(run, v.ID, sarifLevel(v.Severity), v.Name+"@"+v.Version+": "+v.Summary+fixedText(v.Fixed), v.File, v.Line)
	}
	for _, d := range deps {
		if d.Deprecated != "" {
			run.AddRule("deprecated-dependency").WithDescription("A dependency its author deprecated")
			addResult(run, "deprecated-dependency", "warning", d.Name+" is deprecated: "+d.Deprecated, d.File, d.Line)
		}
		if d.Retracted != "" {
			run.AddRule("retracted-version").WithDescription("A Go module version its author retracted")
			addResult(run, "retracted-version", "warning", d.Name+"@"+d.Current+" is retracted: "+d.Retracted, d.File, d.Line)
		}
	}
	rep.AddRun(run)
	var raw bytes.Buffer
	if err := rep.Write(&raw); err != nil {
		return err
	}
	var doc any
	if err := json.Unmarshal(raw.Bytes(), &doc); err != nil {
		return fmt.Errorf("writing SARIF: %w", err)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(compact(doc, ""))
}

// sarifDefaults are values the SARIF 2.1.0 specification gives a property when it is absent, which
// go-sarif writes out all the same.
var sarifDefaults = map[string]any{"kind": "fail", "language": "en-US", "isComprehensive": false}

// compact drops what carries nothing from a SARIF log: go-sarif's -1 placeholders for unset indexes,
// offsets and ranks, empty lists and objects, and properties at their specified defaults (the newline
// sequences, the driver's contents), so that the log holds only fields with values. A run's results stay,
// even empty: an empty list says the scan ran and found nothing.
func compact(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			c := compact(e, k)
			if drop(k, c) {
				delete(v, k)
			} else {
				v[k] = c
			}
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = compact(e, key)
		}
		return v
	}
	return v
}

func drop(key string, v any) bool {
	if d, ok := sarifDefaults[key]; ok && d == v {
		return true
	}
	switch v := v.(type) {
	case float64:
		return v == -1
	case []any:
		return len(v) == 0 && key != "results" || key == "newlineSequences" || key == "contents"
	case map[string]any:
		return len(v) == 0
	}
	return false
}

func addResult(run *sarif.Run, rule, level, message, file string, line int) {
	loc := sarif.NewPhysicalLocation().WithArtifactLocation(sarif.NewSimpleArtifactLocation(file))
	if line > 0 {
		loc = loc.WithRegion(sarif.NewSimpleRegion(line, line))
	}
	run.AddDistinctArtifact(file)
	run.CreateResultForRule(rule).WithLevel(level).WithMessage(sarif.NewTextMessage(message)).
		AddLocation(sarif.NewLocationWithPhysicalLocation(loc))
}

func sarifLevel(severity string) string {
	switch severity {
	case "critical", "high":
		return "error"
	case "low":
		return "note"
	}
	return "warning"
}

func fixedText(fixed string) string {
	if fixed == "" {
		return " (no fixed version yet)"
	}
	return " (fixed in " + fixed + ")"
}

// WriteSARIFFile writes the report's findings as SARIF to path, whole or not at all (its directory is
// made).
func WriteSARIFFile(path, toolVersion string, r *Report) error {
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, toolVersion, r.Dependencies, r.Vulnerabilities); err != nil {
		return fmt.Errorf("writing SARIF: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return &InputError{Option: "audit.SARIF", Msg: err.Error()}
	}
	if err := renameio.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return &InputError{Option: "audit.SARIF", Msg: err.Error()}
	}
	return nil
}
