package specs

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// IO declares one input or output of a component.
type IO struct {
	Name            string `json:"name" plexus:"required"`
	Description     string `json:"description,omitempty"`
	Type            IOType `json:"type,omitempty"`
	Value           any    `json:"value,omitempty"`
	IsOptional      bool   `json:"isOptional,omitempty"`
	IsList          bool   `json:"isList,omitempty"`
	IsFlag          bool   `json:"isFlag,omitempty"`
	ArgFormat       string `json:"argFormat,omitempty"`
	DelayValidation *bool  `json:"delayValidation,omitempty"`
	Options         []any  `json:"options,omitempty"`
	Connection      string `json:"connection,omitempty"`
	ToInit          bool   `json:"toInit,omitempty"`
	ToEnv           string `json:"toEnv,omitempty"`
}

// ioTypeAliases are other languages' names for IO types.
var ioTypeAliases = map[string]IOType{
	"string": IOTypeStr, "integer": IOTypeInt, "boolean": IOTypeBool, "number": IOTypeFloat,
	"double": IOTypeFloat, "object": IOTypeDict, "dictionary": IOTypeDict, "map": IOTypeDict,
	"array": IOTypeList, "url": IOTypeURI, "timestamp": IOTypeDatetime,
}

// reservedIONames cannot name an IO: they are roots of the template context.
var reservedIONames = map[string]bool{"globals": true, "params": true, "connections": true}

// Delayed reports whether a missing value is accepted at check time.
// Inputs default to false, outputs to true.
func (io *IO) Delayed(input bool) bool {
	if io.DelayValidation != nil {
		return *io.DelayValidation
	}
	return !input
}

// Required reports whether the IO needs a param before the run can start.
func (io *IO) Required(input bool) bool {
	return !io.IsOptional && !io.Delayed(input)
}

func validateIOList(p Path, ios []IO, input bool) ErrorList {
	var errs ErrorList
	seen := map[string]int{}
	for i := range ios {
		io := &ios[i]
		ip := p.Index(i)
		errs = append(errs, io.validate(ip)...)
		if io.Name == "" {
			continue
		}
		if j, dup := seen[io.Name]; dup {
			errs = append(errs, Duplicate(ip.Child("name"), io.Name, fmt.Sprintf("%s[%d] has the same name", p, j)))
		}
		seen[io.Name] = i
	}
	return errs
}

func (io *IO) validate(p Path) ErrorList {
	var errs ErrorList
	switch {
	case io.Name == "":
		errs = append(errs, Required(p.Child("name"), "an input or output needs a name"))
	case reservedIONames[io.Name]:
		errs = append(errs, Invalidf(p.Child("name"), io.Name, "%q is reserved and cannot name an input or output", io.Name))
	case !ioNameOK(io.Name):
		errs = append(errs, Invalidf(p.Child("name"), io.Name, "an input or output name may only contain letters, digits, '-', '_' and '.', got %q", io.Name))
	}
	if io.Type != "" && !io.Type.Valid() {
		e := NotSupported(p.Child("type"), io.Type, IOTypes)
		if alias, ok := ioTypeAliases[strings.ToLower(string(io.Type))]; ok {
			e.Detail += fmt.Sprintf("; did you mean %q?", alias)
		}
		errs = append(errs, e)
	}
	if io.IsFlag && io.Type != IOTypeBool {
		errs = append(errs, Invalid(p.Child("isFlag"), true, "isFlag needs type: bool"))
	}
	if io.Value != nil && !io.IsOptional {
		errs = append(errs, Invalidf(p.Child("value"), nil, "%q is not optional and has a default value; add isOptional: true", io.Name))
	}
	if io.ToEnv != "" && !envNameRE.MatchString(io.ToEnv) {
		errs = append(errs, Invalidf(p.Child("toEnv"), io.ToEnv, "%q is not a valid environment variable name", io.ToEnv))
	}
	if io.Type.Valid() {
		if io.Value != nil {
			if err := CheckValue(io.Type, io.IsList, io.Value); err != nil {
				errs = append(errs, Invalidf(p.Child("value"), nil, "the default does not fit type %s: %v", io.Type, err))
			}
		}
		for i, opt := range io.Options {
			// Options are the allowed items: of a list input, each item.
			if err := CheckValue(io.Type, false, opt); err != nil {
				errs = append(errs, Invalidf(p.Child("options").Index(i), nil, "option does not fit type %s: %v", io.Type, err))
			}
		}
		if io.Value != nil && len(io.Options) > 0 && !IsTemplateValue(io.Value) {
			if v, err := CoerceValue(io.Type, io.IsList, io.Value); err == nil && !inOptionsIO(io, v) {
				errs = append(errs, Invalidf(p.Child("value"), io.Value, "the default %s is not one of the options %s", renderValue(io.Value), renderValue(io.Options)))
			}
		}
	}
	return errs
}

func ioNameOK(s string) bool {
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// IsTemplateValue reports whether v is a string holding a template.
func IsTemplateValue(v any) bool {
	s, ok := v.(string)
	return ok && IsTemplate(s)
}

// decodeNode decodes a param and requires its `value` key, which may be
// null, as the reference does.
func (prm *Param) decodeNode(d *decoder, n *yaml.Node, p Path) {
	d.decodeStructSkipping(n, reflect.ValueOf(prm).Elem(), p, nil)
	if n.Kind == yaml.MappingNode {
		if k, _ := lookupKey(n, "value"); k == nil {
			d.errorAt(n, Required(p.Child("value"), "a param needs a `value` (it may be null)"))
		}
	}
}

// inOptionsIO checks a coerced value against the IO's options; each item
// of a list input must be an option.
func inOptionsIO(io *IO, v any) bool {
	if items, ok := v.([]any); ok && io.IsList {
		for _, it := range items {
			if !InOptions(it, io.Options) {
				return false
			}
		}
		return true
	}
	return InOptions(v, io.Options)
}
