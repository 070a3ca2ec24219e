package build

import (
	"bytes"
	"debug/elf"
	"debug/macho"
	"debug/pe"
	"fmt"
	"io"
	"strconv"
)

// The Go linker writes a binary's build ID where `go tool buildid` reads it: an ELF note named "Go"
// of type 4, or, for Mach-O and PE, a quoted string at the start of the text. Reading it here costs
// nothing, where `go tool buildid` has to be compiled first on an empty build cache (Go ships no
// prebuilt buildid tool), which is most of what a cold build would otherwise spend over go build.

// goBuildIDNote is the type of the ELF note that holds the Go build ID.
const goBuildIDNote = 4

// textPrefix and textEnd frame the build ID at the start of the text of non-ELF binaries.
var textPrefix, textEnd = []byte("\xff Go build ID: \""), []byte("\"\n \xff")

// goBuildID is the Go build ID of the binary at file, as `go tool buildid` prints it; "" when it has
// none.
func goBuildID(file string) (string, error) {
	if f, err := elf.Open(file); err == nil {
		defer f.Close()
		return elfBuildID(f)
	}
	var text io.ReaderAt
	if f, err := macho.Open(file); err == nil {
		defer f.Close()
		if s := f.Section("__text"); s != nil {
			text = s
		}
	} else if f, err := pe.Open(file); err == nil {
		defer f.Close()
		if s := f.Section(".text"); s != nil {
			text = s
		}
	} else {
		return "", fmt.Errorf("reading the build ID of %s: not an ELF, Mach-O or PE binary", file)
	}
	if text == nil {
		return "", nil
	}
	head := make([]byte, 4096)
	n, err := text.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading the build ID of %s: %w", file, err)
	}
	return quotedBuildID(head[:n])
}

// elfBuildID reads the Go note of an ELF binary.
func elfBuildID(f *elf.File) (string, error) {
	s := f.Section(".note.go.buildid")
	if s == nil {
		return "", nil
	}
	data, err := s.Data()
	if err != nil {
		return "", fmt.Errorf("reading the build ID note: %w", err)
	}
	for len(data) >= 12 {
		nameSize, descSize, typ := f.ByteOrder.Uint32(data), f.ByteOrder.Uint32(data[4:]), f.ByteOrder.Uint32(data[8:])
		nameEnd := 12 + align4(nameSize)
		descEnd := nameEnd + align4(descSize)
		if uint64(descEnd) > uint64(len(data)) {
			break
		}
		if typ == goBuildIDNote && nameSize == 4 && bytes.Equal(data[12:16], []byte("Go\x00\x00")) {
			return string(data[nameEnd : nameEnd+descSize]), nil
		}
		data = data[descEnd:]
	}
	return "", nil
}

func align4(n uint32) uint32 { return (n + 3) &^ 3 }

// quotedBuildID finds the build ID the linker quoted at the start of the text.
func quotedBuildID(head []byte) (string, error) {
	i := bytes.Index(head, textPrefix)
	if i < 0 {
		return "", nil
	}
	rest := head[i+len(textPrefix)-1:]
	j := bytes.Index(rest, textEnd)
	if j < 0 {
		return "", fmt.Errorf("a build ID that does not end")
	}
	id, err := strconv.Unquote(string(rest[:j+1]))
	if err != nil {
		return "", fmt.Errorf("a malformed build ID: %w", err)
	}
	return id, nil
}
