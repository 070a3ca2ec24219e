// Package iostreams holds the streams a command writes to, and the decisions that depend on them: whether
// they are terminals, whether to colour, whether to log. Results go to Out; logs and progress to ErrOut.
package iostreams

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"

	"golang.org/x/term"
)

// IO is the standard streams of one run.
type IO struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	// Quiet silences Infof; warnings and errors still show.
	Quiet bool
	// Verbose lets debug logs through (each request of the registry, for example).
	Verbose bool

	outTTY, errTTY bool
	noColor        bool
	hidden         []string
}

// System returns the process's streams. getenv decides NO_COLOR and TERM=dumb.
func System(getenv func(string) string) *IO {
	return &IO{
		In:      os.Stdin,
		Out:     os.Stdout,
		ErrOut:  os.Stderr,
		outTTY:  term.IsTerminal(int(os.Stdout.Fd())),
		errTTY:  term.IsTerminal(int(os.Stderr.Fd())),
		noColor: getenv("NO_COLOR") != "" || getenv("TERM") == "dumb",
	}
}

// Test returns streams backed by buffers, as if no terminal were attached.
func Test() (s *IO, in, out, errOut *bytes.Buffer) {
	in, out, errOut = &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IO{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetTerminal pretends, for tests, that stdout and stderr are terminals.
func (s *IO) SetTerminal(out, errOut bool) { s.outTTY, s.errTTY = out, errOut }

// SetNoColor turns colour off whatever the terminal (the --no-color flag).
func (s *IO) SetNoColor() { s.noColor = true }

// IsStderrTTY reports whether progress bars can redraw on stderr.
func (s *IO) IsStderrTTY() bool { return s.errTTY }

// Out and ErrOut palettes colour only on a terminal and never under NO_COLOR.
func (s *IO) OutPalette() Palette { return Palette{on: s.outTTY && !s.noColor} }
func (s *IO) ErrPalette() Palette { return Palette{on: s.errTTY && !s.noColor} }

// Hide makes Scrub, and so every later status line, warning, error and log, replace each secret
// with xxxxx: a password that a library error or a database driver quotes is never printed.
func (s *IO) Hide(secrets ...string) {
	for _, secret := range secrets {
		if secret != "" && !slices.Contains(s.hidden, secret) {
			s.hidden = append(s.hidden, secret)
		}
	}
	slices.SortFunc(s.hidden, func(a, b string) int { return len(b) - len(a) }) // the longest first
}

// Scrub is text with the secrets given to Hide replaced.
func (s *IO) Scrub(text string) string {
	for _, secret := range s.hidden {
		text = strings.ReplaceAll(text, secret, "xxxxx")
	}
	return text
}

// Infof logs a status line to stderr unless Quiet.
func (s *IO) Infof(format string, args ...any) {
	if s.Quiet {
		return
	}
	fmt.Fprintln(s.ErrOut, s.Scrub(fmt.Sprintf(format, args...)))
}

// Warnf logs a warning to stderr, even when Quiet.
func (s *IO) Warnf(format string, args ...any) {
	fmt.Fprintf(s.ErrOut, "%s %s\n", s.ErrPalette().Yellow("warning:"), s.Scrub(fmt.Sprintf(format, args...)))
}

// Errorf prints an error to stderr, even when Quiet.
func (s *IO) Errorf(format string, args ...any) {
	fmt.Fprintf(s.ErrOut, "%s %s\n", s.ErrPalette().Red("error:"), s.Scrub(fmt.Sprintf(format, args...)))
}

// Palette wraps text in ANSI colours when enabled.
type Palette struct{ on bool }

// Enabled reports whether the palette colours.
func (p Palette) Enabled() bool { return p.on }

func (p Palette) paint(code, s string) string {
	if !p.on {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (p Palette) Bold(s string) string   { return p.paint("1", s) }
func (p Palette) Dim(s string) string    { return p.paint("2", s) }
func (p Palette) Red(s string) string    { return p.paint("31", s) }
func (p Palette) Green(s string) string  { return p.paint("32", s) }
func (p Palette) Yellow(s string) string { return p.paint("33", s) }

// Locked serialises the writes to w, for a writer shared by goroutines: a command's stdout and stderr
// copied by os/exec. Without it a bytes.Buffer loses writes, since its ReadFrom holds the buffer while it
// waits on a pipe.
func Locked(w io.Writer) io.Writer { return &lockedWriter{w: w} }

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// LogHandler is a slog.Handler that prints library progress for people on stderr: the message, then its
// attributes as key=value, nothing when Quiet.
func (s *IO) LogHandler() slog.Handler { return &logHandler{io: s} }

type logHandler struct {
	io    *IO
	attrs []slog.Attr
}

func (h *logHandler) Enabled(_ context.Context, l slog.Level) bool {
	switch {
	case l >= slog.LevelWarn:
		return true
	case l >= slog.LevelInfo:
		return !h.io.Quiet
	}
	return h.io.Verbose && !h.io.Quiet
}

func (h *logHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	write := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range h.attrs {
		write(a)
	}
	r.Attrs(write)
	if r.Level >= slog.LevelWarn {
		h.io.Warnf("%s", b.String())
		return nil
	}
	h.io.Infof("%s", b.String())
	return nil
}

func (h *logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &logHandler{io: h.io, attrs: append(slices.Clone(h.attrs), attrs...)}
}

func (h *logHandler) WithGroup(string) slog.Handler { return h }

// Secret is a secret read from a stream once per process: a command that makes two registry clients
// (build --base REF --push REF, release promote with a registry store) needs the password of
// --password-stdin twice, and the second read would find stdin empty.
type Secret struct {
	once  sync.Once
	value string
	err   error
}

// Read reads the secret from in the first time, its trailing newline trimmed, and returns it each time.
func (s *Secret) Read(in io.Reader) (string, error) {
	s.once.Do(func() {
		data, err := io.ReadAll(in)
		if err != nil {
			s.err = fmt.Errorf("reading the password from stdin: %w", err)
			return
		}
		s.value = strings.TrimRight(string(data), "\r\n")
	})
	return s.value, s.err
}
