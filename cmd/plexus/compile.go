package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/plexus-ml/plexus/specs"
	"github.com/plexus-ml/plexus/specs/compiler"
)

type compileOptions struct {
	files     []string
	params    []string
	output    string
	uuid      string
	name      string
	project   string
	namespace string
	attempt   int
	initImage string
	urlRefs   bool
	policy    string
	conns     string
	user      string
	teams     []string
}

func newCompileCmd() *cobra.Command {
	var o compileOptions
	cmd := &cobra.Command{
		Use:   "compile -f FILE [-f PRESET]... [-P name=value]...",
		Short: "Compile an operation and print it with the Kubernetes objects it becomes",
		Long: `Compile resolves the operation's component, applies the presets (every -f
after the first), merges the operation onto the component, resolves params,
renders every template, and prints the compiled component followed by the
Kubernetes objects of the run, like helm template. It exits 1 with every
error of the first stage that fails.

With --policy, what the run uses is checked for --user, --team and
--project: its project, namespace, connections, secrets, volumes, node
selectors and resources, and every hub component its hubRefs name (the
public polyaxon components are for everyone; a private owner/name is for
the user or team named owner, and for whom a rule grants the project
owner/name or owner/*).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCompile(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&o.files, "file", "f", nil, "the Polyaxonfile, then presets (repeatable; - reads stdin)")
	f.StringArrayVarP(&o.params, "param", "P", nil, "param as name=value (repeatable)")
	f.StringVarP(&o.output, "output", "o", "yaml", "output format: yaml or json")
	f.StringVar(&o.uuid, "uuid", "", "the run's uuid (default: a new one)")
	f.StringVar(&o.name, "name", "", "the run's name (default: the operation's or component's)")
	f.StringVar(&o.project, "project", compiler.DefaultProject, "the project")
	f.StringVar(&o.namespace, "namespace", "default", "the Kubernetes namespace")
	f.IntVar(&o.attempt, "attempt", 1, "the attempt the objects are for")
	f.StringVar(&o.initImage, "init-image", compiler.DefaultInitImage, "the image running init handlers")
	f.BoolVar(&o.urlRefs, "url-refs", true, "fetch the components urlRefs name (HTTP GET); false refuses them")
	f.StringVar(&o.policy, "policy", "", "an access policy file: what --user and --team may use, hub components included (default: everything)")
	f.StringVar(&o.conns, "connections", "", "a connections file (`connections: [...]`): what runs may name in connections")
	f.StringVar(&o.user, "user", "", "the user compiling, for the access policy")
	f.StringArrayVar(&o.teams, "team", nil, "a team of the user, for the access policy (repeatable)")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func runCompile(cmd *cobra.Command, o compileOptions) error {
	if o.output != "yaml" && o.output != "json" {
		return fmt.Errorf("--output must be yaml or json, got %q", o.output)
	}
	params, err := parseParamFlags(o.params)
	if err != nil {
		return err
	}
	stderr := cmd.ErrOrStderr()
	var main *specs.File
	fail := func(source string, err error) error {
		stage := ""
		var ce *compiler.CompilationError
		if errors.As(err, &ce) {
			stage = string(ce.Stage) + ": "
		}
		var list specs.ErrorList
		if !errors.As(err, &list) {
			fmt.Fprintf(stderr, "%s: %v\n", source, err)
			return errSilent
		}
		if main != nil {
			list = main.Locate(list)
		}
		for _, e := range list {
			src := source
			if e.Source != "" {
				src = e.Source
			}
			fmt.Fprintf(stderr, "%s: %s%s\n", src, stage, e.Error())
		}
		return errSilent
	}
	main, dir, err := readSpec(cmd.InOrStdin(), o.files[0], false)
	if err != nil {
		main = nil
		return fail(o.files[0], err)
	}
	var presets []*specs.Operation
	for _, name := range o.files[1:] {
		files, _, err := readSpecs(cmd.InOrStdin(), name, true)
		if err != nil {
			return fail(name, err)
		}
		for _, f := range files {
			presets = append(presets, f.Operation)
		}
	}
	var policy *compiler.Policy
	if o.policy != "" {
		if policy, err = compiler.ReadPolicy(o.policy); err != nil {
			return err
		}
	}
	caller := compiler.Caller{User: o.user, Teams: o.teams, Project: o.project}
	// The policy also says which hub components the caller may read.
	src := sources(o.urlRefs)
	src.Policy, src.Caller = policy, caller
	res, err := compiler.Resolve(cmd.Context(), main, dir, src)
	if err != nil {
		return fail(o.files[0], err)
	}
	op, comp := main.Operation, main.Component
	if op == nil {
		op = &specs.Operation{}
	} else {
		comp = res.Of(op).Component
	}
	ri := compiler.RunInfo{UUID: o.uuid, Name: o.name, Project: o.project, Namespace: o.namespace,
		CreatedAt: time.Now().UTC(), CompiledAt: time.Now().UTC()}
	if ri.UUID == "" {
		ri.UUID = compiler.NewUUID()
	}
	if ri.Name == "" {
		ri.Name = op.Name
		if ri.Name == "" {
			ri.Name = comp.Name
		}
	}
	var catalogue compiler.Catalogue
	if o.conns != "" {
		if catalogue, err = compiler.ReadConnections(o.conns); err != nil {
			return err
		}
	}
	c, err := compiler.Compile(op, comp, compiler.Options{Presets: presets, Params: params, Run: ri, Connections: catalogue,
		Policy: policy, Caller: caller, Deferred: len(op.Events) > 0})
	if err != nil {
		return fail(o.files[0], err)
	}
	var objs *compiler.Objects
	if _, pipeline := c.Component.Run.(*specs.DAG); !pipeline && c.Operation.Matrix == nil && c.Operation.Schedule == nil && len(c.Operation.Events) == 0 {
		objs, err = compiler.Lower(c, ri, compiler.LowerOptions{Attempt: o.attempt, InitImage: o.initImage})
		if err != nil {
			return fail(o.files[0], err)
		}
	}
	return printCompiled(cmd.OutOrStdout(), o.output, c, objs)
}

func printCompiled(w io.Writer, format string, c *compiler.Compiled, objs *compiler.Objects) error {
	if format == "json" {
		params := map[string]any{}
		for _, p := range c.Params {
			params[p.Name] = p.Value
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Component *specs.Component  `json:"component"`
			Params    map[string]any    `json:"params"`
			Objects   *compiler.Objects `json:"objects,omitempty"`
		}{c.Component, params, objs})
	}
	var b bytes.Buffer
	out, err := specs.MarshalYAML(c.Component)
	if err != nil {
		return err
	}
	b.WriteString("# compiled component\n")
	b.Write(out)
	if objs != nil {
		for _, o := range objs.Manifests() {
			y, err := specs.MarshalYAML(o)
			if err != nil {
				return err
			}
			b.WriteString("---\n")
			b.Write(y)
		}
	}
	_, err = w.Write(b.Bytes())
	return err
}

// readSpec reads the one document of the main file.
func readSpec(stdin io.Reader, name string, presets bool) (*specs.File, string, error) {
	files, dir, err := readSpecs(stdin, name, presets)
	if err != nil {
		return nil, "", err
	}
	if len(files) != 1 {
		return nil, "", specs.ErrorList{{Source: name, Type: specs.ErrInvalid,
			Detail: fmt.Sprintf("compile takes one operation or component per file; %s holds %d documents (pass presets with more -f)", name, len(files))}}
	}
	return files[0], dir, nil
}

func readSpecs(stdin io.Reader, name string, presets bool) ([]*specs.File, string, error) {
	var data []byte
	var err error
	dir := ""
	if name == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(name)
		dir = filepath.Dir(name)
	}
	if err != nil {
		return nil, "", err
	}
	parse := specs.Parse
	if presets {
		parse = specs.ParsePresets
	}
	files, err := parse(name, data)
	return files, dir, err
}
