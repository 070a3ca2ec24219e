package publish

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// npmEpoch is the modification time npm gives every entry of a tarball, so that packing reproduces.
var npmEpoch = time.Date(1985, 10, 26, 8, 15, 0, 0, time.UTC)

// Tarball is a packed package: its gzipped tar, as npm pack writes one (entries under package/), and
// the digests the registry records of it.
type Tarball struct {
	Name, Version string
	Files         []string
	Data          []byte
	// Integrity is the subresource integrity of Data (sha512-BASE64), Shasum its SHA-1 in hex.
	Integrity, Shasum string
}

// Filename is npm pack's name of the tarball: name-version.tgz, a scope's @ dropped and its / a -.
func (t *Tarball) Filename() string {
	return strings.ReplaceAll(strings.TrimPrefix(t.Name, "@"), "/", "-") + "-" + t.Version + ".tgz"
}

// Pack packs the package in dir: the files npm pack would take (Files), in a reproducible tarball:
// sorted, each entry's time fixed, its mode 0644 or, when executable, 0755, owned by nobody.
func Pack(dir string) (*Tarball, error) {
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return nil, &InputError{Err: fmt.Errorf("packing %s: %w", dir, err)}
	}
	return pack(dir, data)
}

// pack packs dir with data as its package.json.
func pack(dir string, data []byte) (*Tarball, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, &InputError{Err: fmt.Errorf("%s: %v", filepath.Join(dir, "package.json"), err)}
	}
	if m.Name == "" || m.Version == "" {
		return nil, &InputError{Err: fmt.Errorf("%s has no name or no version", filepath.Join(dir, "package.json"))}
	}
	files, err := Files(dir, m)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, f := range files {
		content, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			return nil, fmt.Errorf("packing %s: %w", f, err)
		}
		if f == "package.json" {
			content = data
		}
		info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			return nil, err
		}
		mode := int64(0o644)
		if info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		hdr := &tar.Header{Name: "package/" + f, Mode: mode, Size: int64(len(content)), ModTime: npmEpoch, Typeflag: tar.TypeReg, Format: tar.FormatPAX}
		if len(hdr.Name) <= 100 {
			hdr.Format = tar.FormatUSTAR
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(content); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	sum512 := sha512.Sum512(buf.Bytes())
	sum1 := sha1.Sum(buf.Bytes())
	return &Tarball{Name: m.Name, Version: m.Version, Files: files, Data: buf.Bytes(),
		Integrity: "sha512-" + base64.StdEncoding.EncodeToString(sum512[:]), Shasum: hex.EncodeToString(sum1[:])}, nil
}
