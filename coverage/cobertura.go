package coverage

import (
	"encoding/xml"
	"fmt"
	"io"
	"path"
	"slices"
	"strconv"
	"time"
)

// The Cobertura XML schema (coverage-04.dtd), as GitLab, Jenkins, Azure DevOps and Codecov read it.
type (
	coberturaReport struct {
		XMLName         xml.Name           `xml:"coverage"`
		LineRate        string             `xml:"line-rate,attr"`
		BranchRate      string             `xml:"branch-rate,attr"`
		LinesCovered    int                `xml:"lines-covered,attr"`
		LinesValid      int                `xml:"lines-valid,attr"`
		BranchesCovered int                `xml:"branches-covered,attr"`
		BranchesValid   int                `xml:"branches-valid,attr"`
		Complexity      string             `xml:"complexity,attr"`
		Version         string             `xml:"version,attr"`
		Timestamp       int64              `xml:"timestamp,attr"`
		Sources         []string           `xml:"sources>source"`
		Packages        []coberturaPackage `xml:"packages>package"`
	}
	coberturaPackage struct {
		Name       string           `xml:"name,attr"`
		LineRate   string           `xml:"line-rate,attr"`
		BranchRate string           `xml:"branch-rate,attr"`
		Complexity string           `xml:"complexity,attr"`
		Classes    []coberturaClass `xml:"classes>class"`
	}
	coberturaClass struct {
		Name       string            `xml:"name,attr"`
		Filename   string            `xml:"filename,attr"`
		LineRate   string            `xml:"line-rate,attr"`
		BranchRate string            `xml:"branch-rate,attr"`
		Complexity string            `xml:"complexity,attr"`
		Methods    []coberturaMethod `xml:"methods>method"`
		Lines      []coberturaLine   `xml:"lines>line"`
	}
	coberturaMethod struct {
		Name       string          `xml:"name,attr"`
		Signature  string          `xml:"signature,attr"`
		LineRate   string          `xml:"line-rate,attr"`
		BranchRate string          `xml:"branch-rate,attr"`
		Complexity string          `xml:"complexity,attr"`
		Lines      []coberturaLine `xml:"lines>line"`
	}
	coberturaLine struct {
		Number int `xml:"number,attr"`
		Hits   int `xml:"hits,attr"`
	}
)

func rate(hit, found int) string {
	if found == 0 {
		return "1"
	}
	return strconv.FormatFloat(float64(hit)/float64(found), 'f', 4, 64)
}

func lineRate(lines []coberturaLine) string {
	hit := 0
	for _, l := range lines {
		if l.Hits > 0 {
			hit++
		}
	}
	return rate(hit, len(lines))
}

// WriteCobertura writes the report in Cobertura XML, line by line from the blocks of p (the profile r was
// computed from): one package per Go package, one class per file, one method per function. Cobertura
// counts lines, not statements, so its rates may differ slightly from the statement totals.
func (r *Report) WriteCobertura(w io.Writer, p *Profile, timestamp time.Time) error {
	out := coberturaReport{Complexity: "0", BranchRate: "1", Version: "shipyard", Timestamp: timestamp.UnixMilli(), Sources: []string{r.Root}}
	blocks := map[string][]Block{}
	for _, fp := range p.Files {
		blocks[fp.Name] = fp.Blocks
	}
	pkgIndex := map[string]int{}
	for _, fc := range r.Files {
		m := r.measured[fc.Name]
		hits := lineHits(blocks[fc.Name], m.src)
		class := coberturaClass{Name: path.Base(fc.Name), Filename: displayPath(fc), BranchRate: "1", Complexity: "0", Methods: []coberturaMethod{}}
		for l, n := range hits {
			class.Lines = append(class.Lines, coberturaLine{Number: l, Hits: n})
		}
		slices.SortFunc(class.Lines, func(a, b coberturaLine) int { return a.Number - b.Number })
		if m.src != nil {
			for _, fn := range m.src.funcs {
				method := coberturaMethod{Name: fn.name, BranchRate: "1", Complexity: "0"}
				for _, l := range class.Lines {
					if l.Number >= fn.start.line && l.Number <= fn.end.line {
						method.Lines = append(method.Lines, l)
					}
				}
				if len(method.Lines) > 0 {
					method.LineRate = lineRate(method.Lines)
					class.Methods = append(class.Methods, method)
				}
			}
		}
		class.LineRate = lineRate(class.Lines)
		for _, l := range class.Lines {
			out.LinesValid++
			if l.Hits > 0 {
				out.LinesCovered++
			}
		}
		i, ok := pkgIndex[fc.Package]
		if !ok {
			i = len(out.Packages)
			pkgIndex[fc.Package] = i
			out.Packages = append(out.Packages, coberturaPackage{Name: fc.Package, BranchRate: "1", Complexity: "0"})
		}
		out.Packages[i].Classes = append(out.Packages[i].Classes, class)
	}
	for i := range out.Packages {
		var lines []coberturaLine
		for _, c := range out.Packages[i].Classes {
			lines = append(lines, c.Lines...)
		}
		out.Packages[i].LineRate = lineRate(lines)
	}
	out.LineRate = rate(out.LinesCovered, out.LinesValid)
	if _, err := io.WriteString(w, xml.Header+`<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">`+"\n"); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("writing Cobertura XML: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func displayPath(fc FileCoverage) string {
	if fc.Path != "" {
		return fc.Path
	}
	return fc.Name
}
