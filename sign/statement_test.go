package sign

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/shipyardci/shipyard/internal/golden"
)

// TestProvenanceStatement: the statement of a build under GitHub Actions, byte for byte: an in-toto
// statement v1 about the digest, with the SLSA provenance v1 of everything the build knows.
func TestProvenanceStatement(t *testing.T) {
	p := Provenance{BuilderVersion: "1.4.0", Repository: "https://github.com/acme/api", Commit: strings.Repeat("c", 40),
		Ref: "refs/tags/v1.2.0", Base: "cgr.dev/chainguard/static@sha256:" + strings.Repeat("b", 64), GoVersion: "go1.26.8",
		Modules: []Module{{Path: "golang.org/x/text", Version: "v0.38.0", Sum: "h1:Khu2En+0gcYPZ2kuIihfswbzxv/mIHXgzPZ018Oty48="},
			{Path: "example.com/local", Version: "(devel)"}},
		Epoch: time.Unix(1700000000, 0), Workflow: "acme/api/.github/workflows/release.yml@refs/tags/v1.2.0",
		RunID: "12345", RunAttempt: "2", Runner: "github-hosted Linux/X64",
		Started: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC), Finished: time.Date(2026, 12, 4, 10, 1, 30, 0, time.UTC)}
	st, err := newStatement("registry.example.com/acme/api", "sha256:"+strings.Repeat("d", 64), ProvenancePredicate, p.predicate())
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(st, &v); err != nil {
		t.Fatal(err)
	}
	out, _ := json.MarshalIndent(v, "", "  ")
	golden.Assert(t, "provenance", append(out, '\n'))
}
