package coverage

import (
	"bufio"
	"bytes"
	"fmt"
	"html/template"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/renameio/v2"
)

var htmlTemplates = template.Must(template.New("").Funcs(template.FuncMap{
	"pct": func(p float64) string { return fmt.Sprintf("%.1f%%", p) },
	"band": func(p float64) string {
		switch {
		case p >= 80:
			return "high"
		case p >= 50:
			return "mid"
		}
		return "low"
	},
}).Parse(`{{define "style"}}<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right}td.name,th.name{text-align:left}
.high{color:#2a7d2a}.mid{color:#a07000}.low{color:#c0392b}
pre{margin:0;font:13px/1.45 ui-monospace,monospace}.src td{padding:0 8px;text-align:left}
.src .n{color:#999;text-align:right;user-select:none}.cov{background:#e6ffed}.unc{background:#ffeef0}.ign{background:#f3f3f3;color:#888}
</style>{{end}}
{{define "index"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Coverage {{pct .Total.Percent}}</title>{{template "style"}}</head><body>
<h1>Coverage <span class="{{band .Total.Percent}}">{{pct .Total.Percent}}</span></h1>
<p>{{.Total.Covered}} of {{.Total.Statements}} statements; {{.Functions.Called}} of {{.Functions.Total}} functions called{{if .Ignored.Statements}}; {{.Ignored.Statements}} statements ignored{{end}}{{if .Excluded}}; excluded: {{len .Excluded}}{{end}}.</p>
<table><tr><th>Coverage</th><th>Statements</th><th class="name">File</th></tr>
{{range .Files}}<tr><td class="{{band .Percent}}">{{pct .Percent}}</td><td>{{.Covered}}/{{.Statements}}</td><td class="name">{{if .Page}}<a href="{{.Page}}">{{.Name}}</a>{{else}}{{.Name}}{{end}}</td></tr>
{{end}}</table></body></html>
{{end}}
{{define "file"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Name}} {{pct .Percent}}</title>{{template "style"}}</head><body>
<p><a href="{{.Index}}">All files</a></p>
<h1>{{.Name}} <span class="{{band .Percent}}">{{pct .Percent}}</span></h1>
<table class="src">{{range .Lines}}<tr class="{{.Class}}"><td class="n">{{.Number}}</td><td><pre>{{.Text}}</pre></td></tr>
{{end}}</table></body></html>
{{end}}`))

type htmlFile struct {
	Name string
	Page string
	Counts
}

type htmlLine struct {
	Number int
	Text   string
	Class  string // cov, unc, ign or empty
}

// WriteHTML writes an HTML report to dir: index.html with the files worst first, and a page per file with
// its source, lines coloured by whether they ran (line by line, from the blocks of p).
func (r *Report) WriteHTML(dir string, p *Profile) error {
	blocks := map[string][]Block{}
	for _, fp := range p.Files {
		blocks[fp.Name] = fp.Blocks
	}
	var files []htmlFile
	for _, fc := range r.Files {
		hf := htmlFile{Name: displayPath(fc), Counts: fc.Counts}
		if m, ok := r.measured[fc.Name]; ok {
			hf.Page = path.Clean(strings.TrimPrefix(hf.Name, "/")) + ".html"
			if err := r.writeFilePage(filepath.Join(dir, filepath.FromSlash(hf.Page)), hf, m, blocks[fc.Name]); err != nil {
				return err
			}
		}
		files = append(files, hf)
	}
	slices.SortStableFunc(files, func(a, b htmlFile) int {
		if a.Percent() != b.Percent() {
			if a.Percent() < b.Percent() {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	data := struct {
		*Report
		Files []htmlFile
	}{r, files}
	return writeTemplate(filepath.Join(dir, "index.html"), "index", data)
}

func (r *Report) writeFilePage(dest string, hf htmlFile, m measuredFile, blocks []Block) error {
	src, err := os.ReadFile(m.abs)
	if err != nil {
		return fmt.Errorf("writing the HTML report: %w", err)
	}
	hits := lineHits(blocks, m.src)
	ignored := map[int]bool{}
	if m.src != nil {
		for _, sp := range m.src.ignored {
			for l := sp.start.line; l <= sp.end.line; l++ {
				ignored[l] = true
			}
		}
	}
	var lines []htmlLine
	sc := bufio.NewScanner(bytes.NewReader(src))
	sc.Buffer(make([]byte, 0, 64*1024), 4*1024*1024)
	for n := 1; sc.Scan(); n++ {
		l := htmlLine{Number: n, Text: strings.ReplaceAll(sc.Text(), "\t", "    ")}
		if c, ok := hits[n]; ok {
			l.Class = "unc"
			if c > 0 {
				l.Class = "cov"
			}
		} else if ignored[n] {
			l.Class = "ign"
		}
		lines = append(lines, l)
	}
	depth := strings.Count(hf.Page, "/")
	data := struct {
		htmlFile
		Index string
		Lines []htmlLine
	}{hf, strings.Repeat("../", depth) + "index.html", lines}
	return writeTemplate(dest, "file", data)
}

func writeTemplate(dest, name string, data any) error {
	var b bytes.Buffer
	if err := htmlTemplates.ExecuteTemplate(&b, name, data); err != nil {
		return fmt.Errorf("writing the HTML report: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
		return fmt.Errorf("writing the HTML report: %w", err)
	}
	if err := renameio.WriteFile(dest, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("writing the HTML report: %w", err)
	}
	return nil
}
