package sign

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Predicate types.
const (
	StatementType = "https://in-toto.io/Statement/v1"
	// SignaturePredicate is what cosign sign states of the image it signs.
	SignaturePredicate = "https://sigstore.dev/cosign/sign/v1"
	// ProvenancePredicate is SLSA provenance v1 (cosign verify-attestation --type slsaprovenance1).
	ProvenancePredicate = "https://slsa.dev/provenance/v1"
	// SPDXPredicate is an SPDX document (cosign verify-attestation --type spdxjson).
	SPDXPredicate = "https://spdx.dev/Document"
	// BuildType is the build type of shipyard's provenance.
	BuildType = "https://github.com/shipyardci/shipyard/build/v1"
)

// statement is an in-toto statement v1.
type statement struct {
	Type          string          `json:"_type"`
	Subject       []subject       `json:"subject"`
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

type subject struct {
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest"`
}

// newStatement states predicate of the image digest (sha256:HEX) named name.
func newStatement(name, digest, predicateType string, predicate any) ([]byte, error) {
	alg, hex, ok := strings.Cut(digest, ":")
	if !ok {
		return nil, fmt.Errorf("%q is not a digest", digest)
	}
	p, err := json.Marshal(predicate)
	if err != nil {
		return nil, err
	}
	return json.Marshal(statement{Type: StatementType, Subject: []subject{{Name: name, Digest: map[string]string{alg: hex}}},
		PredicateType: predicateType, Predicate: p})
}

// names says whether the statement is about digest.
func (s *statement) names(digest string) bool {
	alg, hex, _ := strings.Cut(digest, ":")
	for _, sub := range s.Subject {
		if sub.Digest[alg] == hex {
			return true
		}
	}
	return false
}

// Provenance is what shipyard knows of a build, for its SLSA provenance v1 predicate.
type Provenance struct {
	BuilderVersion string // shipyard's version
	Repository     string // the source repository's URL, without credentials
	Commit         string
	Ref            string // refs/heads/main, refs/tags/v1.2.0
	Base           string // the base image, REPO@sha256:…
	GoVersion      string
	Modules        []Module // the modules compiled in
	Epoch          time.Time
	// GitHub Actions: the workflow (owner/repo/.github/workflows/x.yml@ref), run and runner.
	Workflow, RunID, RunAttempt, Runner string
	Started, Finished                   time.Time
}

// Module is a Go module compiled into the image.
type Module struct {
	Path, Version, Sum string
}

// slsaProvenance is the SLSA provenance v1 predicate (https://slsa.dev/spec/v1.0/provenance).
type slsaProvenance struct {
	BuildDefinition struct {
		BuildType            string               `json:"buildType"`
		ExternalParameters   map[string]any       `json:"externalParameters"`
		InternalParameters   map[string]any       `json:"internalParameters,omitempty"`
		ResolvedDependencies []resourceDescriptor `json:"resolvedDependencies,omitempty"`
	} `json:"buildDefinition"`
	RunDetails struct {
		Builder struct {
			ID      string            `json:"id"`
			Version map[string]string `json:"version,omitempty"`
		} `json:"builder"`
		Metadata struct {
			InvocationID string     `json:"invocationId,omitempty"`
			StartedOn    *time.Time `json:"startedOn,omitempty"`
			FinishedOn   *time.Time `json:"finishedOn,omitempty"`
		} `json:"metadata"`
	} `json:"runDetails"`
}

type resourceDescriptor struct {
	URI    string            `json:"uri,omitempty"`
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest,omitempty"`
}

// dirHash1 is a go.sum h1: hash as in-toto's dirHash1 digest: the same SHA-256, in hexadecimal; "" for
// none.
func dirHash1(sum string) string {
	b64, ok := strings.CutPrefix(sum, "h1:")
	if !ok {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 32 {
		return ""
	}
	return hex.EncodeToString(raw)
}

// predicate is p as SLSA provenance v1.
func (p Provenance) predicate() slsaProvenance {
	var s slsaProvenance
	s.BuildDefinition.BuildType = BuildType
	ext := map[string]any{}
	if p.Repository != "" {
		ext["source"] = map[string]any{"uri": p.Repository, "ref": p.Ref, "commit": p.Commit}
	}
	if !p.Epoch.IsZero() {
		ext["SOURCE_DATE_EPOCH"] = p.Epoch.Unix()
	}
	if p.Workflow != "" {
		ext["workflow"] = p.Workflow
	}
	s.BuildDefinition.ExternalParameters = ext
	internal := map[string]any{}
	if p.GoVersion != "" {
		internal["goVersion"] = p.GoVersion
	}
	if p.Runner != "" {
		internal["runner"] = p.Runner
	}
	if len(internal) > 0 {
		s.BuildDefinition.InternalParameters = internal
	}
	deps := []resourceDescriptor{}
	if p.Repository != "" && p.Commit != "" {
		deps = append(deps, resourceDescriptor{URI: "git+" + p.Repository + "@" + p.Ref, Digest: map[string]string{"gitCommit": p.Commit}})
	}
	if repo, digest, ok := strings.Cut(p.Base, "@"); ok {
		alg, hex, _ := strings.Cut(digest, ":")
		deps = append(deps, resourceDescriptor{URI: "oci://" + repo, Digest: map[string]string{alg: hex}})
	}
	if p.GoVersion != "" {
		deps = append(deps, resourceDescriptor{Name: "go", URI: "pkg:golang/go@" + p.GoVersion})
	}
	for _, m := range p.Modules {
		d := resourceDescriptor{Name: m.Path, URI: "pkg:golang/" + m.Path + "@" + m.Version}
		if h := dirHash1(m.Sum); h != "" {
			d.Digest = map[string]string{"dirHash1": h}
		}
		deps = append(deps, d)
	}
	s.BuildDefinition.ResolvedDependencies = deps
	s.RunDetails.Builder.ID = "https://github.com/shipyardci/shipyard"
	if p.BuilderVersion != "" {
		s.RunDetails.Builder.Version = map[string]string{"shipyard": p.BuilderVersion}
	}
	if p.RunID != "" {
		s.RunDetails.Metadata.InvocationID = p.RunID
		if p.RunAttempt != "" {
			s.RunDetails.Metadata.InvocationID += "/" + p.RunAttempt
		}
	}
	if !p.Started.IsZero() {
		s.RunDetails.Metadata.StartedOn = &p.Started
	}
	if !p.Finished.IsZero() {
		s.RunDetails.Metadata.FinishedOn = &p.Finished
	}
	return s
}
