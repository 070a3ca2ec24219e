package build

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/renameio/v2"
)

// RecordFile is where a project keeps the record of its last build, relative to the project.
var RecordFile = filepath.Join(".shipyard", "build.json")

// Record is what a build made and where it went: .shipyard/build.json, and `shipyard build -o json`.
type Record struct {
	Digest    string         `json:"digest"`
	Platforms []string       `json:"platforms"`
	Binaries  []RecordBinary `json:"binaries"`
	Version   string         `json:"version"`
	Commit    string         `json:"commit"`
	Created   time.Time      `json:"created"`
	Dest      string         `json:"dest,omitempty"`
	SBOMs     []string       `json:"sboms"`
	// Migrations and Shipyard are where the image keeps the migrations and the shipyard binary that a
	// pre-deploy Job runs (build.migrations); "" when it has none.
	Migrations string  `json:"migrations,omitempty"`
	Shipyard   string  `json:"shipyard,omitempty"`
	Pushed     *Pushed `json:"pushed,omitempty"`
}

// RecordBinary is a binary of the build, by path relative to the project and checksum.
type RecordBinary struct {
	Name     string `json:"name"`
	Platform string `json:"platform"`
	Path     string `json:"path"`
	SHA256   string `json:"sha256"`
}

// Pushed is where the image was pushed: the repository@digest and the tags written.
type Pushed struct {
	Reference name.Digest `json:"reference"`
	Digest    string      `json:"digest"`
	Tags      []string    `json:"tags"`
	// Signatures are the signed bundles pushed beside it (build --sign-key), as referrers.
	Signatures []Signature `json:"signatures,omitempty"`
}

// Signature is a signed bundle about one manifest of the push: its signature, provenance or SBOM.
type Signature struct {
	Subject       string `json:"subject"` // the digest it is about
	Digest        string `json:"digest"`  // the referrer's
	PredicateType string `json:"predicate_type"`
}

// WriteRecord writes the record of the project in dir, whole or not at all.
func WriteRecord(dir string, r *Record) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(dir, RecordFile)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return renameio.WriteFile(path, append(data, '\n'), 0o644)
}

// ReadRecord reads the record of the project in dir's last build.
func ReadRecord(dir string) (*Record, error) {
	data, err := os.ReadFile(filepath.Join(dir, RecordFile))
	if err != nil {
		return nil, err
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("reading %s: %w", RecordFile, err)
	}
	return &r, nil
}
