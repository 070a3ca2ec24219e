package publish

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/Masterminds/semver/v3"

	"github.com/shipyardci/shipyard/internal/npmrc"
)

// Request asks to publish the package in Dir.
type Request struct {
	Dir string
	// Version, when set, is the version published instead of package.json's (the tarball's package.json
	// says it; the files on disk are the caller's to write).
	Version string
	// Tag is the dist-tag (default: publishConfig.tag, else latest for a stable version and next for a
	// pre-release).
	Tag    string
	DryRun bool
	Getenv func(string) string
	Client *http.Client
}

// Result is what a publish did, or would do (DryRun).
type Result struct {
	Name      string   `json:"name"`
	Version   string   `json:"version"`
	Tag       string   `json:"tag"`
	Registry  string   `json:"registry"`
	Filename  string   `json:"filename"`
	Integrity string   `json:"integrity"`
	Shasum    string   `json:"shasum"`
	Files     []string `json:"files"`
	// Published says this run published it; Already that the registry had this version, with the same
	// tarball.
	Published bool `json:"published"`
	Already   bool `json:"already_published"`
}

// ConflictError is a version the registry has with another tarball: versions are immutable.
type ConflictError struct {
	Name, Version, Registry string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s@%s is already in %s with other content: a published version is never replaced; release a new version", e.Name, e.Version, e.Registry)
}

// publishConfig is package.json's publishConfig.
type publishConfig struct {
	Registry string `json:"registry"`
	Tag      string `json:"tag"`
	Access   string `json:"access"`
}

// Publish packs the package in req.Dir as npm pack does and publishes it through the npm registry
// API to the registry .npmrc or publishConfig names, with .npmrc's token: no npm needed. A version the
// registry already has is not published again: Already when its tarball is the same, a ConflictError
// when it differs.
func Publish(ctx context.Context, req Request) (*Result, error) {
	if req.Client == nil {
		req.Client = http.DefaultClient
	}
	raw, err := os.ReadFile(filepath.Join(req.Dir, "package.json"))
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("publishing %s: %w", req.Dir, err)}
	}
	if req.Version != "" {
		if raw, err = SetVersion(raw, req.Version, false); err != nil {
			return nil, &InputError{Err: fmt.Errorf("%s: %v", filepath.Join(req.Dir, "package.json"), err)}
		}
	}
	tb, err := pack(req.Dir, raw)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	var extra struct {
		PublishConfig publishConfig `json:"publishConfig"`
		Private       bool          `json:"private"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	_ = json.Unmarshal(raw, &extra)
	if extra.Private {
		return nil, &InputError{Err: fmt.Errorf("%s is private (\"private\": true): it is never published", filepath.Join(req.Dir, "package.json"))}
	}
	v, err := semver.StrictNewVersion(strings.TrimPrefix(tb.Version, "v"))
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("%s: version %q is not a semantic version", filepath.Join(req.Dir, "package.json"), tb.Version)}
	}
	cfg, err := npmrc.Read(req.Dir, req.Getenv)
	if err != nil {
		return nil, err
	}
	registry := cfg.RegistryFor(tb.Name)
	if extra.PublishConfig.Registry != "" {
		registry = npmrc.WithSlash(extra.PublishConfig.Registry)
	}
	tag := cmp.Or(req.Tag, extra.PublishConfig.Tag, "latest")
	if req.Tag == "" && extra.PublishConfig.Tag == "" && v.Prerelease() != "" {
		tag = "next"
	}
	res := &Result{Name: tb.Name, Version: tb.Version, Tag: tag, Registry: registry, Filename: tb.Filename(),
		Integrity: tb.Integrity, Shasum: tb.Shasum, Files: tb.Files}
	pkgURL, err := url.Parse(registry + npmrc.PackagePath(tb.Name))
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("the registry %q is not a URL: %v", registry, err)}
	}
	token := cfg.Token(pkgURL)
	have, err := existing(ctx, req.Client, pkgURL, token, tb.Version)
	if err != nil {
		return nil, err
	}
	switch {
	case have == tb.Integrity:
		res.Already = true
		return res, nil
	case have != "":
		return res, &ConflictError{Name: tb.Name, Version: tb.Version, Registry: registry}
	case req.DryRun:
		return res, nil
	}
	if token == "" {
		return nil, &InputError{Err: fmt.Errorf("no token for %s in .npmrc (//%s%s:_authToken=…)", registry, pkgURL.Host, strings.TrimSuffix(strings.TrimSuffix(pkgURL.Path, npmrc.PackagePath(tb.Name)), "/")+"/")}
	}
	if err := put(ctx, req.Client, pkgURL, token, tb, doc, tag, extra.PublishConfig.Access); err != nil {
		return nil, err
	}
	res.Published = true
	return res, nil
}

// existing is the integrity of version in the registry's document of the package, "" when it has none.
func existing(ctx context.Context, client *http.Client, u *url.URL, token, version string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", fmt.Errorf("reading %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", nil
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("reading %s: %s", u.Redacted(), resp.Status)
	}
	var p struct {
		Versions map[string]struct {
			Dist struct {
				Integrity string `json:"integrity"`
			} `json:"dist"`
		} `json:"versions"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(&p); err != nil {
		return "", fmt.Errorf("reading %s: %w", u.Redacted(), err)
	}
	if pv, ok := p.Versions[version]; ok {
		return cmp.Or(pv.Dist.Integrity, "unknown"), nil
	}
	return "", nil
}

// put publishes the version: the registry API's document of one version with its tarball attached,
// as npm publish sends it.
func put(ctx context.Context, client *http.Client, u *url.URL, token string, tb *Tarball, manifest map[string]any, tag, access string) error {
	base := tb.Name[strings.LastIndex(tb.Name, "/")+1:]
	manifest["_id"] = tb.Name + "@" + tb.Version
	manifest["dist"] = map[string]any{"integrity": tb.Integrity, "shasum": tb.Shasum,
		"tarball": u.String() + "/-/" + base + "-" + tb.Version + ".tgz"}
	body := map[string]any{
		"_id": tb.Name, "name": tb.Name, "dist-tags": map[string]string{tag: tb.Version},
		"versions": map[string]any{tb.Version: manifest},
		"_attachments": map[string]any{tb.Filename(): map[string]any{"content_type": "application/octet-stream",
			"data": base64.StdEncoding.EncodeToString(tb.Data), "length": len(tb.Data)}},
	}
	if d, ok := manifest["description"]; ok {
		body["description"] = d
	}
	if access != "" {
		body["access"] = access
	}
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, u.String(), bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("publishing %s@%s to %s: %w", tb.Name, tb.Version, u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 2048))
		var e struct{ Error string }
		if json.Unmarshal(msg, &e) == nil && e.Error != "" {
			msg = []byte(e.Error)
		}
		err := fmt.Errorf("publishing %s@%s to %s: %s: %s", tb.Name, tb.Version, u.Redacted(), resp.Status, strings.TrimSpace(string(msg)))
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return errors.Join(err, errors.New("check the token in .npmrc"))
		}
		return err
	}
	return nil
}
