package build

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one entry of a layer.
type File struct {
	Path   string      // in the image, without the leading slash: "app/hello"
	Mode   fs.FileMode // permissions and type bits (fs.ModeDir for a directory)
	Source string      // a host file to copy, or
	Data   []byte      // the content, or
	Link   string      // the target of a symbolic link
	UID    int         // owner
	GID    int
}

// Layer makes a reproducible layer of files: entries sorted by path, parent directories added, owner,
// mode and time (epoch) fixed, no user or group names, gzip with an empty header.
func Layer(files []File, epoch time.Time) (v1.Layer, error) {
	byPath := map[string]File{}
	for _, f := range files {
		p := strings.TrimPrefix(path.Clean("/"+f.Path), "/")
		if p == "" {
			continue
		}
		f.Path = p
		byPath[p] = f
		for dir := path.Dir(p); dir != "." && dir != "/"; dir = path.Dir(dir) {
			if _, ok := byPath[dir]; !ok {
				byPath[dir] = File{Path: dir, Mode: fs.ModeDir | 0o755}
			}
		}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		paths = append(paths, p)
	}
	sort.Strings(paths)

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		f := byPath[p]
		hdr := &tar.Header{Name: p, Mode: int64(f.Mode.Perm()), Uid: f.UID, Gid: f.GID, ModTime: epoch, Format: tar.FormatPAX}
		if f.Mode&fs.ModeSticky != 0 {
			hdr.Mode |= 0o1000
		}
		if f.Mode.IsDir() {
			hdr.Typeflag, hdr.Name = tar.TypeDir, p+"/"
			if err := tw.WriteHeader(hdr); err != nil {
				return nil, err
			}
			continue
		}
		if f.Link != "" {
			hdr.Typeflag, hdr.Linkname, hdr.Mode = tar.TypeSymlink, f.Link, 0o777
			if err := tw.WriteHeader(hdr); err != nil {
				return nil, err
			}
			continue
		}
		data := f.Data
		if f.Source != "" {
			var err error
			if data, err = os.ReadFile(f.Source); err != nil {
				return nil, fmt.Errorf("reading %s for the image's /%s: %w", f.Source, p, err)
			}
		}
		hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(data))
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	content := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil },
		tarball.WithMediaType(types.OCILayer))
}

// NonRoot is the user and group the generated base runs as, as distroless and ko do.
const NonRoot = 65532

// defaultCACerts are the host's CA certificates, the first that exists.
var defaultCACerts = []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"}

// BaseLayer is the generated base: /etc/passwd and /etc/group with root and nonroot (65532), the CA
// certificates of caFile (default: the host's), /tmp, and the nonroot user's home.
func BaseLayer(caFile string, epoch time.Time) (v1.Layer, error) {
	if caFile == "" {
		for _, f := range defaultCACerts {
			if _, err := os.Stat(f); err == nil {
				caFile = f
				break
			}
		}
	}
	files := []File{
		{Path: "etc/passwd", Mode: 0o644, Data: []byte(fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", NonRoot, NonRoot))},
		{Path: "etc/group", Mode: 0o644, Data: []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", NonRoot))},
		{Path: "tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
		{Path: "home/nonroot", Mode: fs.ModeDir | 0o700, UID: NonRoot, GID: NonRoot},
	}
	if caFile != "" {
		files = append(files, File{Path: "etc/ssl/certs/ca-certificates.crt", Mode: 0o644, Source: caFile})
	}
	return Layer(files, epoch)
}
