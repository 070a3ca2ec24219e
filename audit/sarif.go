package audit

import (
	"io"

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
		props.Add("tags", []string{"security", "dependency", v.Ecosystem})
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
	return rep.PrettyWrite(w)
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
