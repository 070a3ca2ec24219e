package build

import (
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// SPDXMediaType is the media type of an SPDX JSON document, as a layer and as an artifact type.
const SPDXMediaType = "application/spdx+json"

// spdx is the part of an SPDX 2.3 JSON document shipyard writes.
type spdx struct {
	SPDXVersion       string             `json:"spdxVersion"`
	DataLicense       string             `json:"dataLicense"`
	SPDXID            string             `json:"SPDXID"`
	Name              string             `json:"name"`
	DocumentNamespace string             `json:"documentNamespace"`
	CreationInfo      spdxCreation       `json:"creationInfo"`
	Packages          []spdxPackage      `json:"packages"`
	Relationships     []spdxRelationship `json:"relationships"`
}

type spdxCreation struct {
	Created  string   `json:"created"`
	Creators []string `json:"creators"`
}

type spdxPackage struct {
	Name             string       `json:"name"`
	SPDXID           string       `json:"SPDXID"`
	VersionInfo      string       `json:"versionInfo,omitempty"`
	DownloadLocation string       `json:"downloadLocation"`
	FilesAnalyzed    bool         `json:"filesAnalyzed"`
	Checksums        []spdxSum    `json:"checksums,omitempty"`
	ExternalRefs     []spdxExtRef `json:"externalRefs,omitempty"`
	Supplier         string       `json:"supplier,omitempty"`
	PrimaryPurpose   string       `json:"primaryPackagePurpose,omitempty"`
	LicenseConcluded string       `json:"licenseConcluded"`
	LicenseDeclared  string       `json:"licenseDeclared"`
	CopyrightText    string       `json:"copyrightText"`
}

type spdxSum struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"checksumValue"`
}

type spdxExtRef struct {
	Category string `json:"referenceCategory"`
	Type     string `json:"referenceType"`
	Locator  string `json:"referenceLocator"`
}

type spdxRelationship struct {
	Element string `json:"spdxElementId"`
	Type    string `json:"relationshipType"`
	Related string `json:"relatedSpdxElement"`
}

// SBOM is an SPDX 2.3 JSON document of the Go modules compiled into the binary, read from its build
// information (what `go version -m` prints). toolVersion names the creator.
func SBOM(b Binary, epoch time.Time, toolVersion string) ([]byte, error) {
	info, err := buildinfo.ReadFile(b.Path)
	if err != nil {
		return nil, fmt.Errorf("reading the build information of %s: %w", b.Path, err)
	}
	id := func(s string) string {
		r := strings.NewReplacer("/", "-", "@", "-", "+", "-", "_", "-", "~", "-")
		return "SPDXRef-Package-" + r.Replace(s)
	}
	purl := func(path, version string) []spdxExtRef {
		return []spdxExtRef{{Category: "PACKAGE-MANAGER", Type: "purl", Locator: "pkg:golang/" + path + "@" + version}}
	}
	main := info.Main
	doc := spdx{
		SPDXVersion: "SPDX-2.3", DataLicense: "CC0-1.0", SPDXID: "SPDXRef-DOCUMENT", Name: b.Name + " " + b.Platform.String(),
		DocumentNamespace: "https://spdx.org/spdxdocs/shipyard/" + b.Name + "/" + b.SHA256,
		CreationInfo:      spdxCreation{Created: epoch.UTC().Format(time.RFC3339), Creators: []string{"Tool: shipyard-" + toolVersion}},
	}
	mainID := id(main.Path)
	doc.Packages = append(doc.Packages, spdxPackage{Name: main.Path, SPDXID: mainID, VersionInfo: main.Version, DownloadLocation: "NOASSERTION",
		PrimaryPurpose: "APPLICATION", Checksums: []spdxSum{{Algorithm: "SHA256", Value: b.SHA256}},
		LicenseConcluded: "NOASSERTION", LicenseDeclared: "NOASSERTION", CopyrightText: "NOASSERTION"})
	doc.Relationships = append(doc.Relationships, spdxRelationship{Element: "SPDXRef-DOCUMENT", Type: "DESCRIBES", Related: mainID})
	goID := id("golang.org-toolchain-" + info.GoVersion)
	doc.Packages = append(doc.Packages, spdxPackage{Name: "go", SPDXID: goID, VersionInfo: info.GoVersion, DownloadLocation: "https://go.dev/dl/",
		ExternalRefs: purl("stdlib", strings.TrimPrefix(info.GoVersion, "go")), LicenseConcluded: "NOASSERTION", LicenseDeclared: "NOASSERTION", CopyrightText: "NOASSERTION"})
	doc.Relationships = append(doc.Relationships, spdxRelationship{Element: mainID, Type: "DEPENDS_ON", Related: goID})
	for _, d := range info.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		pkg := spdxPackage{Name: m.Path, SPDXID: id(m.Path + "@" + m.Version), VersionInfo: m.Version,
			DownloadLocation: "https://proxy.golang.org/" + m.Path + "/@v/" + m.Version + ".zip", ExternalRefs: purl(m.Path, m.Version),
			LicenseConcluded: "NOASSERTION", LicenseDeclared: "NOASSERTION", CopyrightText: "NOASSERTION"}
		if sum, ok := strings.CutPrefix(m.Sum, "h1:"); ok {
			if raw, err := decodeBase64(sum); err == nil {
				pkg.Checksums = []spdxSum{{Algorithm: "SHA256", Value: hex.EncodeToString(raw)}}
			}
		}
		doc.Packages = append(doc.Packages, pkg)
		doc.Relationships = append(doc.Relationships, spdxRelationship{Element: mainID, Type: "DEPENDS_ON", Related: pkg.SPDXID})
	}
	return json.MarshalIndent(doc, "", "  ")
}

// SBOMArtifact is an OCI artifact holding the SBOM that refers to subject (an image), for the
// registry's referrers API.
func SBOMArtifact(sbom []byte, subject v1.Descriptor) (v1.Image, error) {
	// The config's media type names the artifact's type, as the referrers API reports it when a
	// manifest has no artifactType field (which go-containerregistry does not write).
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, SPDXMediaType)
	img, err := mutate.Append(img, mutate.Addendum{Layer: static.NewLayer(sbom, SPDXMediaType)})
	if err != nil {
		return nil, err
	}
	out, ok := mutate.Subject(img, subject).(v1.Image)
	if !ok {
		return nil, fmt.Errorf("setting the subject of the SBOM")
	}
	return out, nil
}

func decodeBase64(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }
