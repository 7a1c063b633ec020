package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/plexus-ml/plexus/matrix"
	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
	"github.com/plexus-ml/plexus/triggers"
	"github.com/spf13/cobra"
)

type checkOptions struct {
	files   []string
	params  []string
	output  string
	lint    bool
	urlRefs bool
}

func newCheckCmd() *cobra.Command {
	var o checkOptions
	cmd := &cobra.Command{
		Use:   "check -f FILE... [-P name=value]...",
		Short: "Check Polyaxonfiles: parse, validate and check params, reporting every problem",
		Long: `Check parses each Polyaxonfile strictly (YAML or JSON, one or several
documents; -f - reads stdin), validates it, and checks params against the
component's inputs and outputs as a run would. References are resolved:
pathRef relative to the file, hubRef from the built-in hub, urlRef over
HTTP (--url-refs=false refuses them). It prints one line per valid
document and every error of every file, with its path and line, and exits 1
if any file is invalid.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCheck(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.files, "file", "f", nil, "Polyaxonfile to check (repeatable; - reads stdin)")
	f.StringArrayVarP(&o.params, "param", "P", nil, "param as name=value, checked against the inputs (repeatable)")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text or json")
	f.BoolVarP(&o.lint, "lint", "l", false, "check the spec only, not its params")
	f.BoolVar(&o.urlRefs, "url-refs", true, "fetch the components urlRefs name (HTTP GET); false refuses them")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

// fileReport is the result of checking one source (file or stdin).
type fileReport struct {
	File      string          `json:"file"`
	Valid     bool            `json:"valid"`
	Documents []docReport     `json:"documents,omitempty"`
	Errors    specs.ErrorList `json:"errors,omitempty"`
	Warnings  specs.ErrorList `json:"warnings,omitempty"`
}

type docReport struct {
	Kind    specs.Kind `json:"kind"`
	Name    string     `json:"name,omitempty"`
	Summary string     `json:"summary"`
}

func runCheck(cmd *cobra.Command, o checkOptions) error {
	if o.output != "text" && o.output != "json" {
		return fmt.Errorf("--output must be text or json, got %q", o.output)
	}
	params, err := parseParamFlags(o.params)
	if err != nil {
		return err
	}
	src := sources(o.urlRefs)
	src.PartialHub = true
	reports := make([]fileReport, 0, len(o.files))
	for _, name := range o.files {
		reports = append(reports, checkSource(cmd.Context(), cmd.InOrStdin(), name, params, o.lint, src))
	}
	valid := true
	for _, r := range reports {
		valid = valid && r.Valid
	}
	if o.output == "json" {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			Valid bool         `json:"valid"`
			Files []fileReport `json:"files"`
		}{valid, reports}); err != nil {
			return err
		}
	} else {
		printReports(cmd.OutOrStdout(), cmd.ErrOrStderr(), reports)
	}
	if !valid {
		return errSilent
	}
	return nil
}

// parseParamFlags reads -P name=value flags. Values stay strings; checking
// coerces them to each input's type, as the reference does.
func parseParamFlags(flags []string) (map[string]specs.Param, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	params := make(map[string]specs.Param, len(flags))
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, fmt.Errorf("-P %q: expected name=value", f)
		}
		if _, dup := params[name]; dup {
			return nil, fmt.Errorf("-P %s is given twice", name)
		}
		params[name] = specs.Param{Value: value}
	}
	return params, nil
}

func checkSource(ctx context.Context, stdin io.Reader, name string, params map[string]specs.Param, lint bool, src compiler.Sources) fileReport {
	r := fileReport{File: name}
	var files []*specs.File
	var err error
	if name == "-" {
		files, err = specs.ParseReader("-", stdin)
	} else {
		files, err = specs.ParseFile(name)
	}
	if err != nil {
		var list specs.ErrorList
		if !errors.As(err, &list) {
			list = specs.ErrorList{{Source: name, Type: specs.ErrInvalid, Detail: err.Error()}}
		}
		r.Errors = append(r.Errors, list...)
	}
	// Errors of no document (YAML syntax) stay; the documents' own errors
	// are added below with what is checked beyond parsing.
	inDoc := map[*specs.FieldError]bool{}
	for _, f := range files {
		for _, e := range f.Errors {
			inDoc[e] = true
		}
	}
	r.Errors = slices.DeleteFunc(r.Errors, func(e *specs.FieldError) bool { return inDoc[e] })
	for _, f := range files {
		errs := append(specs.ErrorList(nil), f.Errors...)
		dir := ""
		if name != "-" {
			dir = filepath.Dir(name)
		}
		if len(f.Errors) > 0 || lint {
			// Say which references do not resolve, and no more.
			res, err := compiler.Resolve(ctx, f, dir, src)
			var ce *compiler.CompilationError
			if errors.As(err, &ce) {
				errs = append(errs, ce.Errors...)
			}
			if len(f.Errors) == 0 {
				r.Warnings = append(r.Warnings, res.Warnings...)
				if err == nil {
					errs = append(errs, compiler.LintTemplates(f, res)...)
				}
			}
		} else {
			cerrs, warnings := compiler.Check(ctx, f, dir, params, src)
			errs = append(errs, cerrs...)
			if len(cerrs) == 0 {
				errs = append(errs, f.Locate(matrix.Check(f))...)
				errs = append(errs, f.Locate(triggers.Check(f))...)
			}
			r.Warnings = append(r.Warnings, warnings...)
		}
		r.Warnings = append(r.Warnings, f.Warnings...)
		if len(errs) > 0 {
			r.Errors = append(r.Errors, errs...)
			continue
		}
		r.Documents = append(r.Documents, summarize(f))
	}
	// The file's own errors first, by line; then those inside the files it
	// refers to.
	own := slices.DeleteFunc(slices.Clone(r.Errors), func(e *specs.FieldError) bool { return e.Source != "" && e.Source != name })
	others := slices.DeleteFunc(r.Errors, func(e *specs.FieldError) bool { return e.Source == "" || e.Source == name })
	own.Sort()
	others.Sort()
	r.Errors = append(own, others...)
	r.Valid = len(r.Errors) == 0
	return r
}

func summarize(f *specs.File) docReport {
	if c := f.Component; c != nil {
		return docReport{Kind: specs.KindComponent, Name: c.Name, Summary: describeComponent(c)}
	}
	op := f.Operation
	var parts []string
	switch {
	case op.IsPreset:
		parts = append(parts, "preset")
	case op.Component != nil && op.HubRef == "":
		parts = append(parts, describeComponent(op.Component))
	case op.HubRef != "":
		parts = append(parts, "hubRef "+op.HubRef)
	case op.PathRef != "":
		parts = append(parts, "pathRef "+op.PathRef)
	case op.URLRef != "":
		parts = append(parts, "urlRef "+op.URLRef)
	}
	if op.Matrix != nil {
		parts = append(parts, describeMatrix(op.Matrix))
	}
	if op.Schedule != nil {
		parts = append(parts, op.Schedule.ScheduleKind()+" schedule")
	}
	if n := len(op.Params); n > 0 {
		parts = append(parts, plural(n, "param"))
	}
	return docReport{Kind: specs.KindOperation, Name: op.Name, Summary: strings.Join(parts, ", ")}
}

func describeComponent(c *specs.Component) string {
	s := "job"
	if c.Run != nil {
		s = string(c.Run.RunKind())
	}
	if g, ok := c.Run.(*specs.DAG); ok {
		s += " of " + plural(len(g.Operations), "operation")
	}
	var io []string
	if n := len(c.Inputs); n > 0 {
		io = append(io, plural(n, "input"))
	}
	if n := len(c.Outputs); n > 0 {
		io = append(io, plural(n, "output"))
	}
	if len(io) > 0 {
		s += ", " + strings.Join(io, ", ")
	}
	return s
}

func describeMatrix(m specs.Matrix) string {
	if mm, ok := m.(*specs.MappingMatrix); ok {
		if mm.Values.Template != "" {
			return "mapping matrix"
		}
		return fmt.Sprintf("mapping matrix of %s", plural(len(mm.Values.Items), "run"))
	}
	return fmt.Sprintf("%s matrix over %s", m.MatrixKind(), plural(len(m.SearchSpace()), "param"))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func printReports(stdout, stderr io.Writer, reports []fileReport) {
	for _, r := range reports {
		for _, d := range r.Documents {
			name := ""
			if d.Name != "" {
				name = fmt.Sprintf(" %q", d.Name)
			}
			fmt.Fprintf(stdout, "ok   %s: %s%s: %s\n", r.File, d.Kind, name, d.Summary)
		}
		for _, w := range r.Warnings {
			src := r.File
			if w.Source != "" && w.Source != r.File && w.Source != "-" {
				src = w.Source
			}
			fmt.Fprintf(stderr, "warning: %s: %s\n", src, w.Error())
		}
		if !r.Valid {
			fmt.Fprintf(stdout, "FAIL %s: %s\n", r.File, plural(len(r.Errors), "error"))
			for _, e := range r.Errors {
				// An error inside a referenced file names that file.
				src := r.File
				if e.Source != "" && e.Source != r.File && e.Source != "-" {
					src = e.Source
				}
				fmt.Fprintf(stderr, "%s: %s\n", src, e.Error())
			}
		}
	}
}
