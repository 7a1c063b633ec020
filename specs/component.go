package specs

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Kind is the kind of a Polyaxonfile document.
type Kind string

// Document kinds.
const (
	KindComponent Kind = "component"
	KindOperation Kind = "operation"
)

// SpecVersion is the only Polyaxonfile version Plexus reads.
const SpecVersion = 1.1

// Version is the `version` of a Polyaxonfile. It is written as the number
// 1.1; the string "1.1" is accepted too.
type Version float64

// Base holds the fields that components and operations share.
type Base struct {
	Version     *Version          `json:"version,omitempty"`
	Kind        Kind              `json:"kind,omitempty"`
	Name        string            `json:"name,omitempty"`
	Description string            `json:"description,omitempty"`
	Tags        []string          `json:"tags,omitempty"`
	Presets     ListOrRef[string] `json:"presets,omitzero"`
	Queue       string            `json:"queue,omitempty"`
	Cache       *Cache            `json:"cache,omitempty"`
	Termination *Termination      `json:"termination,omitempty"`
	Plugins     *Plugins          `json:"plugins,omitempty"`
	Build       *Build            `json:"build,omitempty"`
	Hooks       []Hook            `json:"hooks,omitempty"`
	IsApproved  *bool             `json:"isApproved,omitempty"`
	Cost        *float64          `json:"cost,omitempty"`
	Template    *Template         `json:"template,omitempty"`
}

// Template marks a file as a template that needs editing before it runs.
type Template struct {
	Enabled     *bool    `json:"enabled,omitempty"`
	Description string   `json:"description,omitempty"`
	Fields      []string `json:"fields,omitempty"`
}

// Component is a reusable, containerised action with typed inputs and
// outputs and one runtime (`kind: component`).
type Component struct {
	Base    `json:",inline"`
	Inputs  []IO `json:"inputs,omitempty"`
	Outputs []IO `json:"outputs,omitempty"`
	Run     Run  `json:"run"`
}

var nameRE = regexp.MustCompile(`^[-a-zA-Z0-9_]+$`)

// Validate checks the component on its own (its run, IO and sections).
// The file-level `version` is Parse's concern: Validate does not ask for it
// in a component built in Go, but checks it when set.
func (c *Component) Validate() ErrorList {
	return c.validate("", c.Version != nil, vctx{})
}

func (c *Component) validate(p Path, topLevel bool, vc vctx) ErrorList {
	var errs ErrorList
	errs = append(errs, c.Base.validate(p, topLevel, KindComponent)...)
	if c.Run == nil {
		errs = append(errs, Required(p.Child("run"), "a component needs a `run` section"))
	} else {
		if c.Build != nil {
			vc.imagePatched = true
		}
		errs = append(errs, c.Run.validate(p.Child("run"), vc)...)
	}
	errs = append(errs, validateIOList(p.Child("inputs"), c.Inputs, true)...)
	errs = append(errs, validateIOList(p.Child("outputs"), c.Outputs, false)...)
	return errs
}

func (b *Base) validate(p Path, topLevel bool, want Kind) ErrorList {
	var errs ErrorList
	if topLevel {
		if b.Version == nil {
			errs = append(errs, Required(p.Child("version"), "the Polyaxonfile `version` must be specified (version: 1.1)"))
		} else if float64(*b.Version) != SpecVersion {
			errs = append(errs, Invalidf(p.Child("version"), float64(*b.Version),
				"version %s is not supported: Plexus reads Polyaxonfile version 1.1", strconv.FormatFloat(float64(*b.Version), 'f', -1, 64)))
		}
	}
	if b.Kind != "" && b.Kind != want {
		errs = append(errs, Invalidf(p.Child("kind"), b.Kind, "kind must be %q here, got %q", want, b.Kind))
	}
	if b.Name != "" && !nameRE.MatchString(b.Name) {
		errs = append(errs, Invalidf(p.Child("name"), b.Name, "name %q may only contain letters, digits, '-' and '_'", b.Name))
	}
	errs = append(errs, b.Cache.validate(p.Child("cache"))...)
	errs = append(errs, b.Termination.validate(p.Child("termination"))...)
	errs = append(errs, b.Plugins.validate(p.Child("plugins"))...)
	errs = append(errs, b.Build.validate(p.Child("build"))...)
	for i := range b.Hooks {
		errs = append(errs, b.Hooks[i].validate(p.Child("hooks").Index(i))...)
	}
	if b.Queue != "" && !IsTemplate(b.Queue) && !queueRE.MatchString(b.Queue) {
		errs = append(errs, Invalidf(p.Child("queue"), b.Queue, "queue must be `queue-name` or `agent-name/queue-name`, got %q", b.Queue))
	}
	if b.Cost != nil && *b.Cost < 0 {
		errs = append(errs, Invalidf(p.Child("cost"), *b.Cost, "cost must not be negative"))
	}
	return errs
}

var queueRE = regexp.MustCompile(`^[-a-zA-Z0-9_.]+(/[-a-zA-Z0-9_.]+)?$`)

func (v *Version) String() string { return fmt.Sprint(float64(*v)) }

// decodeNode accepts the number 1.1 and, unlike the reference, the string "1.1".
func (v *Version) decodeNode(d *decoder, n *yaml.Node, p Path) {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Tag == "!!bool" {
		d.errorAt(n, &FieldError{Path: p, Type: ErrType, Detail: "version must be the number 1.1, got " + nodeKindName(n)})
		return
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(n.Value), 64)
	if err != nil {
		d.errorAt(n, Invalidf(p, n.Value, "version must be the number 1.1, got %q", n.Value))
		return
	}
	*v = Version(f)
}
