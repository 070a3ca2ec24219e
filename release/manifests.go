package release

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"go.yaml.in/yaml/v3"
)

// Labels a pinned manifest carries: which release of which environment, and the version, on the
// object and on the pods it makes.
const (
	LabelRelease = "shipyard.dev/release"
	LabelEnv     = "shipyard.dev/env"
	LabelVersion = "app.kubernetes.io/version"
)

// podSpecPath is where each workload kind keeps its pod spec; a List's items are read as documents.
var podSpecPath = map[string][]string{
	"Pod":                   {"spec"},
	"Deployment":            {"spec", "template", "spec"},
	"StatefulSet":           {"spec", "template", "spec"},
	"DaemonSet":             {"spec", "template", "spec"},
	"ReplicaSet":            {"spec", "template", "spec"},
	"ReplicationController": {"spec", "template", "spec"},
	"Job":                   {"spec", "template", "spec"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template", "spec"},
	"PodTemplate":           {"template", "spec"},
}

// Pinned is one image reference a manifest named and what it became.
type Pinned struct {
	File   string `json:"file"`
	Line   int    `json:"line"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
	Before string `json:"before"`
	After  string `json:"after"`
}

// ManifestError is a manifest that cannot be read: the file and line, and why.
type ManifestError struct {
	File string
	Line int
	Msg  string
}

func (e *ManifestError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// InputError says that the manifest is the user's to fix: the command exits 2.
func (e *ManifestError) InputError() bool { return true }

// docSeparator is a line that starts a YAML document.
var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*(?:#.*)?$`)

// Pin rewrites the Kubernetes YAML of file (one or more documents) for release r, as ko resolve does
// for its builds: every container, init container and ephemeral container image of r's repository,
// by tag or by an older digest, becomes r's REPO@sha256:…, and each object so changed, and the pods it
// makes, are labelled with the release, its environment and its version. Documents with nothing of
// r's, of kinds that hold no pods or that shipyard does not know, pass through byte for byte; in the
// documents it changes, comments and the order of keys survive.
func Pin(file string, data []byte, r *Record) ([]byte, []Pinned, error) {
	repo, err := repositoryOf(r.Image)
	if err != nil {
		return nil, nil, fmt.Errorf("release %s: image %s: %w", r.Name, r.Image, err)
	}
	var out bytes.Buffer
	var pinned []Pinned
	starts := docSeparator.FindAllIndex(data, -1)
	bounds := []int{0}
	for _, s := range starts {
		bounds = append(bounds, s[0])
	}
	bounds = append(bounds, len(data))
	line := 1
	for i := 0; i+1 < len(bounds); i++ {
		chunk := data[bounds[i]:bounds[i+1]]
		changed, p, err := pinDocument(file, line, chunk, repo, r)
		if err != nil {
			return nil, nil, err
		}
		out.Write(changed)
		pinned = append(pinned, p...)
		line += bytes.Count(chunk, []byte("\n"))
	}
	return out.Bytes(), pinned, nil
}

// pinDocument is one document (with its --- line, if any) pinned; first is its first line in the file.
func pinDocument(file string, first int, chunk []byte, repo string, r *Record) ([]byte, []Pinned, error) {
	header, body := []byte{}, chunk
	if loc := docSeparator.FindIndex(chunk); loc != nil && loc[0] == 0 {
		end := loc[1]
		if end < len(chunk) && chunk[end] == '\n' {
			end++
		}
		header, body = chunk[:end], chunk[end:]
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(body, &doc); err != nil {
		var te *yaml.TypeError
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		if errors.As(err, &te) {
			msg = strings.Join(te.Errors, "; ")
		}
		return nil, nil, &ManifestError{File: file, Line: first, Msg: "not YAML: " + msg}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return chunk, nil, nil // empty, or not an object: as it was
	}
	offset := first - 1 + bytes.Count(header, []byte("\n"))
	pinned := pinObject(file, offset, doc.Content[0], repo, r)
	if len(pinned) == 0 {
		return chunk, nil, nil
	}
	var buf bytes.Buffer
	buf.Write(header)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, nil, fmt.Errorf("writing %s: %w", file, err)
	}
	if err := enc.Close(); err != nil {
		return nil, nil, fmt.Errorf("writing %s: %w", file, err)
	}
	return buf.Bytes(), pinned, nil
}

// pinObject pins the pod spec of one object (each item of a List), labelling what changed.
func pinObject(file string, offset int, obj *yaml.Node, repo string, r *Record) []Pinned {
	kind, objName := scalar(obj, "kind"), scalar(lookup(obj, "metadata"), "name")
	if kind == "List" {
		var out []Pinned
		if items := lookup(obj, "items"); items != nil && items.Kind == yaml.SequenceNode {
			for _, item := range items.Content {
				if item.Kind == yaml.MappingNode {
					out = append(out, pinObject(file, offset, item, repo, r)...)
				}
			}
		}
		return out
	}
	path, ok := podSpecPath[kind]
	if !ok {
		return nil
	}
	spec := lookup(obj, path...)
	if spec == nil || spec.Kind != yaml.MappingNode {
		return nil
	}
	var out []Pinned
	for _, list := range []string{"initContainers", "containers", "ephemeralContainers"} {
		containers := lookup(spec, list)
		if containers == nil || containers.Kind != yaml.SequenceNode {
			continue
		}
		for _, c := range containers.Content {
			image := lookup(c, "image")
			if image == nil || image.Kind != yaml.ScalarNode {
				continue
			}
			if got, err := repositoryOf(image.Value); err != nil || got != repo || image.Value == r.Image {
				continue
			}
			out = append(out, Pinned{File: file, Line: offset + image.Line, Kind: kind, Name: objName, Before: image.Value, After: r.Image})
			image.Value, image.Style = r.Image, 0
		}
	}
	if len(out) == 0 {
		return nil
	}
	labels := map[string]string{LabelRelease: r.Name, LabelEnv: r.Env}
	if r.Version != "" {
		labels[LabelVersion] = r.Version
	}
	setLabels(obj, labels)
	if len(path) > 1 { // the pod template of a workload
		setLabels(lookup(obj, path[:len(path)-1]...), labels)
	}
	return out
}

// repositoryOf is the repository an image reference names, fully qualified (docker.io/library/…
// for a bare name), without its tag or digest.
func repositoryOf(ref string) (string, error) {
	r, err := name.ParseReference(ref, name.WeakValidation)
	if err != nil {
		return "", err
	}
	return r.Context().Name(), nil
}

// lookup follows keys down mappings from n; nil when one is missing.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return n
}

// scalar is the string value of key in mapping n, "" when absent.
func scalar(n *yaml.Node, key string) string {
	if v := lookup(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

// setLabels sets labels in n's metadata.labels, making the mappings that are missing; keys are added in
// sorted order after the labels there are.
func setLabels(n *yaml.Node, labels map[string]string) {
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	meta := child(n, "metadata")
	l := child(meta, "labels")
	for _, k := range []string{LabelVersion, LabelEnv, LabelRelease} {
		v, ok := labels[k]
		if !ok {
			continue
		}
		if existing := lookup(l, k); existing != nil {
			existing.Kind, existing.Value, existing.Style, existing.Tag = yaml.ScalarNode, v, yaml.DoubleQuotedStyle, "!!str"
			continue
		}
		l.Content = append(l.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k, Tag: "!!str"},
			&yaml.Node{Kind: yaml.ScalarNode, Value: v, Tag: "!!str", Style: yaml.DoubleQuotedStyle})
	}
}

// child is the mapping at key in n, made (empty) when absent or null; a metadata made goes first, where
// people look for it.
func child(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			v := n.Content[i+1]
			if v.Kind != yaml.MappingNode {
				*v = yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			}
			return v
		}
	}
	v := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	pair := []*yaml.Node{{Kind: yaml.ScalarNode, Value: key, Tag: "!!str"}, v}
	if key == "metadata" {
		n.Content = append(pair, n.Content...)
	} else {
		n.Content = append(n.Content, pair...)
	}
	return v
}
