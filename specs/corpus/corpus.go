package corpus

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Expect is what checking a file must give.
type Expect string

const (
	// Accept: check accepts the file as it is.
	Accept Expect = "accept"
	// Reject: check rejects the file, with or without params.
	Reject Expect = "reject"
	// NeedsParams: check rejects the file without Case.Params and accepts
	// it with them.
	NeedsParams Expect = "needs-params"
)

// Case is one file of a corpus and what it must give.
type Case struct {
	// Name is the file's name in the folder; Path is where it is.
	Name, Path string
	// Exercises says what the file is there for.
	Exercises string
	Expect    Expect
	// Params are name=value pairs, as `-P` takes them.
	Params []string
	// Errors are what a rejection must name (in-file corpora only).
	Errors []Want
	// Warnings are the exact paths check warns about; nil when the folder
	// does not say (an INDEX.md corpus).
	Warnings []string
	// CompileReject, when set, is a substring of the error compiling the
	// file gives; compiling is refused on purpose.
	CompileReject string
	// FromIndex is true when the verdict came from an INDEX.md table;
	// Check is then that table's check column, as written.
	FromIndex bool
	Check     string
}

// DocumentPath, in an `error` line, names the document itself (an error
// with an empty path: a YAML syntax error, an empty file).
const DocumentPath = "(document)"

// Want is one thing a rejection's errors must hold.
type Want struct {
	// Path must be the path of one of the errors ("" for the document).
	Path string
	// Message, when set, must appear in the errors' text.
	Message string
}

// Accepted reports whether check accepts the file (with its params).
func (c *Case) Accepted() bool { return c.Expect != Reject }

// Load reads the cases of dir: from its INDEX.md when it has one, else
// from each top-level *.yaml file's leading comments. A file without a
// verdict, a verdict without a file and an unknown header are errors.
func Load(dir string) ([]Case, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: no *.yaml files", dir)
	}
	index := filepath.Join(dir, "INDEX.md")
	var cases []Case
	if _, err := os.Stat(index); err == nil {
		cases, err = loadIndex(dir, index, files)
		if err != nil {
			return nil, err
		}
	} else if errors.Is(err, fs.ErrNotExist) {
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, err
			}
			c, err := ParseHeader(filepath.Base(f), data)
			if err != nil {
				return nil, err
			}
			c.Path = f
			cases = append(cases, c)
		}
	} else {
		return nil, err
	}
	sort.Slice(cases, func(i, j int) bool { return cases[i].Name < cases[j].Name })
	return cases, nil
}

// ParseHeader reads the verdict from a file's leading comment lines.
func ParseHeader(name string, data []byte) (Case, error) {
	c := Case{Name: name}
	sc := bufio.NewScanner(bytes.NewReader(data))
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		if !strings.HasPrefix(text, "#") {
			break
		}
		key, value, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(text, "#")), ":")
		if !ok || strings.ContainsAny(key, " \t") {
			continue // prose
		}
		value = strings.TrimSpace(value)
		where := fmt.Sprintf("%s:%d", name, line)
		switch key {
		case "exercises":
			c.Exercises = value
		case "expect":
			switch e := Expect(value); e {
			case Accept, Reject, NeedsParams:
				if c.Expect != "" {
					return c, fmt.Errorf("%s: a second expect", where)
				}
				c.Expect = e
			default:
				return c, fmt.Errorf("%s: expect: %q is not accept, reject or needs-params", where, value)
			}
		case "params":
			for _, p := range strings.Fields(value) {
				if k, _, ok := strings.Cut(p, "="); !ok || k == "" {
					return c, fmt.Errorf("%s: params: %q is not name=value", where, p)
				}
				c.Params = append(c.Params, p)
			}
		case "error":
			path, msg, _ := strings.Cut(value, ": ")
			if path = strings.TrimSpace(path); path == "" {
				return c, fmt.Errorf("%s: error: no path (%s for the document itself)", where, DocumentPath)
			} else if path == DocumentPath {
				path = ""
			}
			c.Errors = append(c.Errors, Want{Path: path, Message: strings.TrimSpace(msg)})
		case "warning":
			if value == "" {
				return c, fmt.Errorf("%s: warning: no path", where)
			}
			c.Warnings = append(c.Warnings, value)
		case "compile":
			switch {
			case value == "accept":
			case strings.HasPrefix(value, "reject:"):
				c.CompileReject = strings.TrimSpace(strings.TrimPrefix(value, "reject:"))
				if c.CompileReject == "" {
					return c, fmt.Errorf("%s: compile: reject: what must the error say?", where)
				}
			default:
				return c, fmt.Errorf("%s: compile: %q is not accept or reject: MESSAGE", where, value)
			}
		default:
			return c, fmt.Errorf("%s: unknown header %q (exercises, expect, params, error, warning, compile)", where, key)
		}
	}
	if err := sc.Err(); err != nil {
		return c, fmt.Errorf("%s: %w", name, err)
	}
	switch {
	case c.Expect == "":
		return c, fmt.Errorf("%s: no `# expect:` line in the leading comments", name)
	case c.Expect == NeedsParams && len(c.Params) == 0:
		return c, fmt.Errorf("%s: expect: needs-params without a params line", name)
	case c.Expect == Reject && len(c.Errors) == 0:
		return c, fmt.Errorf("%s: expect: reject without an error line naming what is wrong", name)
	case c.Expect != Reject && len(c.Errors) > 0:
		return c, fmt.Errorf("%s: error lines on a file that is accepted", name)
	case c.Expect == Reject && c.CompileReject != "":
		return c, fmt.Errorf("%s: a compile verdict on a file check rejects", name)
	}
	if c.Warnings == nil {
		c.Warnings = []string{}
	}
	return c, nil
}

var paramFlagRE = regexp.MustCompile(`-P ([A-Za-z0-9_-]+)=([^\s` + "`" + `;)]+)`)

// loadIndex reads an INDEX.md table whose rows are `| file | exercises |
// check | ...`, and checks that it lists exactly the files.
func loadIndex(dir, index string, files []string) ([]Case, error) {
	data, err := os.ReadFile(index)
	if err != nil {
		return nil, err
	}
	var cases []Case
	listed := map[string]bool{}
	for i, line := range strings.Split(string(data), "\n") {
		cols := strings.Split(line, "|")
		if len(cols) < 5 || !strings.HasSuffix(strings.TrimSpace(cols[1]), ".yaml") {
			continue
		}
		c := Case{
			Name:      strings.TrimSpace(cols[1]),
			Exercises: strings.TrimSpace(cols[2]),
			FromIndex: true,
		}
		c.Path = filepath.Join(dir, c.Name)
		if listed[c.Name] {
			return nil, fmt.Errorf("%s:%d: %s is listed twice", index, i+1, c.Name)
		}
		listed[c.Name] = true
		check := strings.TrimSpace(cols[3])
		c.Check = check
		low := strings.ToLower(strings.Trim(check, "* "))
		switch {
		case strings.HasPrefix(low, "accept"):
			c.Expect = Accept
		case strings.HasPrefix(low, "reject"):
			c.Expect = Reject
			if strings.Contains(low, "accept") {
				// "reject without params; accept with -P ...": the flags
				// are in the cell or in the file's own leading comments.
				c.Params = paramFlags(check)
				if len(c.Params) == 0 {
					fileData, err := os.ReadFile(c.Path)
					if err != nil {
						return nil, err
					}
					c.Params = paramFlags(leadingComments(fileData))
				}
				if len(c.Params) > 0 {
					c.Expect = NeedsParams
				}
			}
		default:
			return nil, fmt.Errorf("%s:%d: %s: the check column %q says neither accept nor reject", index, i+1, c.Name, check)
		}
		cases = append(cases, c)
	}
	var missing []string
	for _, f := range files {
		if !listed[filepath.Base(f)] {
			missing = append(missing, filepath.Base(f))
		}
		delete(listed, filepath.Base(f))
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: not listed: %s", index, strings.Join(missing, ", "))
	}
	for name := range listed {
		return nil, fmt.Errorf("%s lists %s, which is not in %s", index, name, dir)
	}
	return cases, nil
}

// paramFlags reads the `-P name=value` flags of a text; the placeholder
// value "…" becomes a plain word.
func paramFlags(text string) []string {
	var out []string
	for _, m := range paramFlagRE.FindAllStringSubmatch(text, -1) {
		value := m[2]
		if value == "…" {
			value = "MeanSquaredError"
		}
		out = append(out, m[1]+"="+value)
	}
	return out
}

func leadingComments(data []byte) string {
	var b strings.Builder
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.HasPrefix(line, "#") {
			break
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// RefsURL is where a corpus's urlRefs point: a URL RefsURL+NAME names the
// component refs/NAME of the corpus's folder, so no test needs the network.
const RefsURL = "https://components.plexus.test/"

// ReadRef returns the component a urlRef of the corpus in dir names, and
// false for a URL outside RefsURL.
func ReadRef(dir, url string) ([]byte, bool, error) {
	name, ok := strings.CutPrefix(url, RefsURL)
	if !ok || name == "" || name != filepath.Base(name) {
		return nil, false, nil
	}
	data, err := os.ReadFile(filepath.Join(dir, "refs", name))
	return data, true, err
}
