package audit

import "strings"

// netrcLine is one machine of a .netrc file.
type netrcLine struct {
	machine, login, password string
}

// parseNetrc reads the machine, login and password tokens of a .netrc file, as the go command does
// (macdef bodies are skipped; "default" entries are not used).
func parseNetrc(data string) []netrcLine {
	var out []netrcLine
	var cur *netrcLine
	inMacro := false
	for _, line := range strings.Split(data, "\n") {
		if inMacro {
			if strings.TrimSpace(line) == "" {
				inMacro = false
			}
			continue
		}
		f := strings.Fields(line)
		for i := 0; i < len(f); i++ {
			switch f[i] {
			case "machine", "default":
				if cur != nil {
					out = append(out, *cur)
				}
				cur = nil
				if f[i] == "machine" && i+1 < len(f) {
					cur = &netrcLine{machine: f[i+1]}
					i++
				}
			case "login", "password", "account":
				if i+1 < len(f) {
					if cur != nil && f[i] == "login" {
						cur.login = f[i+1]
					}
					if cur != nil && f[i] == "password" {
						cur.password = f[i+1]
					}
					i++
				}
			case "macdef":
				inMacro = true
				i = len(f)
			}
		}
	}
	if cur != nil {
		out = append(out, *cur)
	}
	return out
}

func netrcLookup(lines []netrcLine, host string) (login, password string, ok bool) {
	for _, l := range lines {
		if l.machine == host && l.login != "" {
			return l.login, l.password, true
		}
	}
	return "", "", false
}
