package specs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MatrixKind is the kind of a matrix (search algorithm).
type MatrixKind string

// Matrix kinds.
const (
	MatrixGrid      MatrixKind = "grid"
	MatrixRandom    MatrixKind = "random"
	MatrixHyperband MatrixKind = "hyperband"
	MatrixBayes     MatrixKind = "bayes"
	MatrixHyperopt  MatrixKind = "hyperopt"
	MatrixIterative MatrixKind = "iterative"
	MatrixMapping   MatrixKind = "mapping"
)

// MatrixKinds lists every matrix kind.
var MatrixKinds = []MatrixKind{MatrixGrid, MatrixRandom, MatrixHyperband, MatrixBayes, MatrixHyperopt, MatrixIterative, MatrixMapping}

// Matrix expands an operation into many runs. Its concrete types are
// *GridMatrix, *RandomMatrix, *HyperbandMatrix, *BayesMatrix,
// *HyperoptMatrix, *IterativeMatrix and *MappingMatrix.
type Matrix interface {
	MatrixKind() MatrixKind
	// SearchSpace returns the declared params (empty for mapping).
	SearchSpace() SearchSpace
	validate(p Path) ErrorList
}

// SearchSpace is a matrix's params: named dimensions in the order the file
// declares them, which is the order a grid expands them in. In YAML it is a
// mapping from name to `{kind, value}`.
type SearchSpace []NamedHyperParam

// NamedHyperParam is one named dimension of a search space.
type NamedHyperParam struct {
	Name string
	HyperParam
}

// Get returns the dimension called name.
func (s SearchSpace) Get(name string) (HyperParam, bool) {
	for _, np := range s {
		if np.Name == name {
			return np.HyperParam, true
		}
	}
	return HyperParam{}, false
}

// IsZero reports whether the space declares nothing.
func (s SearchSpace) IsZero() bool { return len(s) == 0 }

// MarshalJSON writes the space as an object, keeping the order.
func (s SearchSpace) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, np := range s {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(np.Name)
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(np.HyperParam)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (s *SearchSpace) decodeNode(d *decoder, n *yaml.Node, p Path) {
	if isNull(n) {
		*s = nil
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorAt(n, &FieldError{Path: p, Type: ErrType, Detail: "expected a mapping of param names to {kind, value}, got " + nodeKindName(n)})
		return
	}
	out := SearchSpace{}
	seen := map[string]bool{}
	for _, kv := range mappingPairs(n) {
		name := kv[0].Value
		if seen[name] {
			d.errorAt(kv[0], Duplicate(p.Key(name), name, "the param is declared twice"))
			continue
		}
		seen[name] = true
		np := NamedHyperParam{Name: name}
		d.decodeStruct(resolve(kv[1]), reflect.ValueOf(&np.HyperParam).Elem(), p.Key(name))
		out = append(out, np)
	}
	*s = out
}

// HyperParam is one dimension of a search space: `{kind, value}`. Value is
// kept as written; ParseSpace reads it.
type HyperParam struct {
	Kind  HyperParamKind `json:"kind" plexus:"required"`
	Value any            `json:"value" plexus:"required"`
}

// MatrixCommon holds the fields every matrix kind takes.
type MatrixCommon struct {
	Concurrency   *IntOrRef       `json:"concurrency,omitempty"`
	EarlyStopping []EarlyStopping `json:"earlyStopping,omitempty"`
}

// OptimizationMetric is the metric an optimiser maximises or minimises.
type OptimizationMetric struct {
	Name         string       `json:"name" plexus:"required"`
	Optimization Optimization `json:"optimization,omitempty"`
}

// Optimization is maximize or minimize (any case is accepted).
type Optimization string

// Optimizations.
const (
	Maximize Optimization = "maximize"
	Minimize Optimization = "minimize"
)

func (o Optimization) valid() bool {
	return strings.EqualFold(string(o), string(Maximize)) || strings.EqualFold(string(o), string(Minimize))
}

// OptimizationResource is the budget hyperband gives each run.
type OptimizationResource struct {
	Name string `json:"name" plexus:"required"`
	Type string `json:"type,omitempty"`
}

// Tuner is the hub component that suggests the next runs of an optimiser.
type Tuner struct {
	HubRef  string           `json:"hubRef" plexus:"required"`
	Queue   string           `json:"queue,omitempty"`
	Presets []string         `json:"presets,omitempty"`
	Params  map[string]Param `json:"params,omitempty"`
}

// GridMatrix is the cartesian product of discrete params.
type GridMatrix struct {
	Kind         MatrixKind  `json:"kind"`
	Params       SearchSpace `json:"params,omitzero" plexus:"required"`
	NumRuns      *IntOrRef   `json:"numRuns,omitempty"`
	MatrixCommon `json:",inline"`
}

// RandomMatrix samples numRuns suggestions.
type RandomMatrix struct {
	Kind         MatrixKind  `json:"kind"`
	Params       SearchSpace `json:"params,omitzero" plexus:"required"`
	NumRuns      *IntOrRef   `json:"numRuns,omitempty" plexus:"required"`
	Seed         *int        `json:"seed,omitempty"`
	MatrixCommon `json:",inline"`
}

// HyperbandMatrix runs successive halving over a resource.
type HyperbandMatrix struct {
	Kind          MatrixKind            `json:"kind"`
	Params        SearchSpace           `json:"params,omitzero"`
	MaxIterations *IntOrRef             `json:"maxIterations,omitempty"`
	Eta           *float64              `json:"eta,omitempty"`
	Resource      *OptimizationResource `json:"resource,omitempty"`
	Metric        *OptimizationMetric   `json:"metric,omitempty"`
	Resume        *bool                 `json:"resume,omitempty"`
	Seed          *int                  `json:"seed,omitempty"`
	Tuner         *Tuner                `json:"tuner,omitempty"`
	MatrixCommon  `json:",inline"`
}

// UtilityFunction is bayes' acquisition function and Gaussian process.
type UtilityFunction struct {
	AcquisitionFunction string           `json:"acquisitionFunction,omitempty"`
	Kappa               *float64         `json:"kappa,omitempty"`
	Eps                 *float64         `json:"eps,omitempty"`
	NumWarmup           *int             `json:"numWarmup,omitempty"`
	NumIterations       *int             `json:"numIterations,omitempty"`
	GaussianProcess     *GaussianProcess `json:"gaussianProcess,omitempty"`
}

// GaussianProcess configures bayes' surrogate model.
type GaussianProcess struct {
	Kernel               string   `json:"kernel,omitempty"`
	LengthScale          *float64 `json:"lengthScale,omitempty"`
	Nu                   *float64 `json:"nu,omitempty"`
	NumRestartsOptimizer *int     `json:"numRestartsOptimizer,omitempty"`
}

// BayesMatrix is Bayesian optimisation over uniform or discrete params.
type BayesMatrix struct {
	Kind            MatrixKind          `json:"kind"`
	Params          SearchSpace         `json:"params,omitzero" plexus:"required"`
	NumInitialRuns  *IntOrRef           `json:"numInitialRuns,omitempty" plexus:"required"`
	MaxIterations   *IntOrRef           `json:"maxIterations,omitempty"`
	Metric          *OptimizationMetric `json:"metric,omitempty" plexus:"required"`
	UtilityFunction *UtilityFunction    `json:"utilityFunction,omitempty"`
	Seed            *int                `json:"seed,omitempty"`
	Tuner           *Tuner              `json:"tuner,omitempty"`
	MatrixCommon    `json:",inline"`
}

// HyperoptMatrix uses hyperopt's algorithms (tpe, rand, anneal).
type HyperoptMatrix struct {
	Kind          MatrixKind          `json:"kind"`
	Params        SearchSpace         `json:"params,omitzero" plexus:"required"`
	NumRuns       *IntOrRef           `json:"numRuns,omitempty" plexus:"required"`
	Metric        *OptimizationMetric `json:"metric,omitempty" plexus:"required"`
	Algorithm     string              `json:"algorithm,omitempty"`
	MaxIterations *IntOrRef           `json:"maxIterations,omitempty"`
	Seed          *int                `json:"seed,omitempty"`
	Tuner         *Tuner              `json:"tuner,omitempty"`
	MatrixCommon  `json:",inline"`
}

// IterativeMatrix is a custom suggest/map/reduce loop driven by a tuner.
type IterativeMatrix struct {
	Kind          MatrixKind  `json:"kind"`
	Params        SearchSpace `json:"params,omitzero"`
	MaxIterations *IntOrRef   `json:"maxIterations,omitempty" plexus:"required"`
	Seed          *int        `json:"seed,omitempty"`
	Tuner         *Tuner      `json:"tuner,omitempty"`
	MatrixCommon  `json:",inline"`
}

// MappingMatrix runs one child per given set of values.
type MappingMatrix struct {
	Kind         MatrixKind                `json:"kind"`
	Values       ListOrRef[map[string]any] `json:"values,omitzero" plexus:"required"`
	MatrixCommon `json:",inline"`
}

// MatrixKind implementations.
func (m *GridMatrix) MatrixKind() MatrixKind      { return MatrixGrid }
func (m *RandomMatrix) MatrixKind() MatrixKind    { return MatrixRandom }
func (m *HyperbandMatrix) MatrixKind() MatrixKind { return MatrixHyperband }
func (m *BayesMatrix) MatrixKind() MatrixKind     { return MatrixBayes }
func (m *HyperoptMatrix) MatrixKind() MatrixKind  { return MatrixHyperopt }
func (m *IterativeMatrix) MatrixKind() MatrixKind { return MatrixIterative }
func (m *MappingMatrix) MatrixKind() MatrixKind   { return MatrixMapping }

// SearchSpace implementations.
func (m *GridMatrix) SearchSpace() SearchSpace      { return m.Params }
func (m *RandomMatrix) SearchSpace() SearchSpace    { return m.Params }
func (m *HyperbandMatrix) SearchSpace() SearchSpace { return m.Params }
func (m *BayesMatrix) SearchSpace() SearchSpace     { return m.Params }
func (m *HyperoptMatrix) SearchSpace() SearchSpace  { return m.Params }
func (m *IterativeMatrix) SearchSpace() SearchSpace { return m.Params }
func (m *MappingMatrix) SearchSpace() SearchSpace   { return nil }

func init() {
	interfaceDecoders[reflect.TypeFor[Matrix]()] = decodeMatrix
}

func decodeMatrix(d *decoder, n *yaml.Node, p Path) reflect.Value {
	kind, kn, ok := d.kindOf(n, p)
	if !ok {
		return reflect.Value{}
	}
	var m Matrix
	switch MatrixKind(kind) {
	case MatrixGrid:
		m = &GridMatrix{}
	case MatrixRandom:
		m = &RandomMatrix{}
	case MatrixHyperband:
		m = &HyperbandMatrix{}
	case MatrixBayes:
		m = &BayesMatrix{}
	case MatrixHyperopt:
		m = &HyperoptMatrix{}
	case MatrixIterative:
		m = &IterativeMatrix{}
	case MatrixMapping:
		m = &MappingMatrix{}
	case "":
		d.errorAt(n, Required(p.Child("kind"), "a matrix needs a kind: "+joinQuoted(MatrixKinds)))
		return reflect.Value{}
	default:
		d.errorAt(kn, NotSupported(p.Child("kind"), kind, MatrixKinds))
		return reflect.Value{}
	}
	d.decodeStructSkipping(n, reflect.ValueOf(m).Elem(), p, nil)
	return reflect.ValueOf(m)
}

func joinQuoted[T ~string](l []T) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = fmt.Sprintf("%q", string(s))
	}
	return strings.Join(q, ", ")
}

// validateSpace parses every param of a search space. allow says which
// kinds the matrix accepts; it returns a reason for a refused kind.
func validateSpace(p Path, params SearchSpace, allow func(HyperParamKind) string) ErrorList {
	var errs ErrorList
	for _, np := range params {
		name, hp := np.Name, np.HyperParam
		pp := p.Key(name)
		if !hp.Kind.Valid() {
			errs = append(errs, NotSupported(pp.Child("kind"), hp.Kind, HyperParamKinds))
			continue
		}
		if allow != nil {
			if why := allow(hp.Kind); why != "" {
				errs = append(errs, Invalidf(pp.Child("kind"), hp.Kind, "%s", why))
				continue
			}
		}
		if IsTemplateValue(hp.Value) {
			continue
		}
		if _, err := ParseSpace(hp.Kind, hp.Value); err != nil {
			errs = append(errs, Invalidf(pp.Child("value"), nil, "%v", err))
		}
	}
	return errs
}

func (mc *MatrixCommon) validate(p Path) ErrorList {
	errs := atLeastOne(p.Child("concurrency"), mc.Concurrency)
	for i, es := range mc.EarlyStopping {
		errs = append(errs, validateEarlyStopping(p.Child("earlyStopping").Index(i), es)...)
	}
	return errs
}

func (m *OptimizationMetric) validate(p Path) ErrorList {
	if m == nil {
		return nil
	}
	var errs ErrorList
	if m.Name == "" {
		errs = append(errs, Required(p.Child("name"), "the metric needs a name"))
	}
	if m.Optimization != "" && !m.Optimization.valid() {
		errs = append(errs, NotSupported(p.Child("optimization"), m.Optimization, []Optimization{Maximize, Minimize}))
	}
	return errs
}

func (t *Tuner) validate(p Path) ErrorList {
	if t == nil {
		return nil
	}
	return requireHubRef(p, t.HubRef, "a tuner")
}

func requireParams(p Path, params SearchSpace) ErrorList {
	if len(params) == 0 {
		return ErrorList{Required(p.Child("params"), "the matrix needs params to search over")}
	}
	return nil
}

func (m *GridMatrix) validate(p Path) ErrorList {
	errs := requireParams(p, m.Params)
	errs = append(errs, validateSpace(p.Child("params"), m.Params, func(k HyperParamKind) string {
		if k.IsDistribution() {
			return fmt.Sprintf("%s defines a distribution, and it cannot be used with grid search", k)
		}
		return ""
	})...)
	errs = append(errs, atLeastOne(p.Child("numRuns"), m.NumRuns)...)
	return append(errs, m.MatrixCommon.validate(p)...)
}

func (m *RandomMatrix) validate(p Path) ErrorList {
	errs := requireParams(p, m.Params)
	errs = append(errs, validateSpace(p.Child("params"), m.Params, nil)...)
	if m.NumRuns == nil {
		errs = append(errs, Required(p.Child("numRuns"), "random search needs numRuns"))
	}
	errs = append(errs, atLeastOne(p.Child("numRuns"), m.NumRuns)...)
	return append(errs, m.MatrixCommon.validate(p)...)
}

func (m *HyperbandMatrix) validate(p Path) ErrorList {
	errs := validateSpace(p.Child("params"), m.Params, nil)
	errs = append(errs, atLeastOne(p.Child("maxIterations"), m.MaxIterations)...)
	if m.Eta != nil && *m.Eta < 0 {
		errs = append(errs, Invalid(p.Child("eta"), *m.Eta, "eta must not be negative"))
	}
	if m.Resource != nil {
		rp := p.Child("resource")
		if m.Resource.Name == "" {
			errs = append(errs, Required(rp.Child("name"), "the resource needs a name"))
		}
		if m.Resource.Type != "" && m.Resource.Type != "int" && m.Resource.Type != "float" {
			errs = append(errs, NotSupported(rp.Child("type"), m.Resource.Type, []string{"int", "float"}))
		}
	}
	errs = append(errs, m.Metric.validate(p.Child("metric"))...)
	errs = append(errs, m.Tuner.validate(p.Child("tuner"))...)
	return append(errs, m.MatrixCommon.validate(p)...)
}

// AcquisitionFunctions are the values of utilityFunction.acquisitionFunction (any case).
var AcquisitionFunctions = []string{"ucb", "ei", "poi"}

func (m *BayesMatrix) validate(p Path) ErrorList {
	errs := requireParams(p, m.Params)
	errs = append(errs, validateSpace(p.Child("params"), m.Params, func(k HyperParamKind) string {
		if k.IsDistribution() && k != HPUniform {
			return fmt.Sprintf("%s defines a non uniform distribution, and it cannot be used with bayesian optimization", k)
		}
		return ""
	})...)
	if m.NumInitialRuns == nil {
		errs = append(errs, Required(p.Child("numInitialRuns"), "bayes needs numInitialRuns"))
	}
	errs = append(errs, atLeastOne(p.Child("numInitialRuns"), m.NumInitialRuns)...)
	errs = append(errs, atLeastOne(p.Child("maxIterations"), m.MaxIterations)...)
	if m.Metric == nil {
		errs = append(errs, Required(p.Child("metric"), "bayes needs a metric to optimise"))
	}
	errs = append(errs, m.Metric.validate(p.Child("metric"))...)
	if uf := m.UtilityFunction; uf != nil {
		up := p.Child("utilityFunction")
		af := strings.ToLower(uf.AcquisitionFunction)
		switch {
		case af != "" && !slices.Contains(AcquisitionFunctions, af):
			errs = append(errs, NotSupported(up.Child("acquisitionFunction"), uf.AcquisitionFunction, AcquisitionFunctions))
		case (af == "" || af == "ucb") && uf.Kappa == nil:
			errs = append(errs, Required(up.Child("kappa"), "the ucb acquisition function needs kappa"))
		case (af == "ei" || af == "poi") && uf.Eps == nil:
			errs = append(errs, Required(up.Child("eps"), fmt.Sprintf("the %s acquisition function needs eps", af)))
		}
		if gp := uf.GaussianProcess; gp != nil && gp.Kernel != "" && gp.Kernel != "rbf" && gp.Kernel != "matern" {
			errs = append(errs, NotSupported(up.Child("gaussianProcess").Child("kernel"), gp.Kernel, []string{"rbf", "matern"}))
		}
	}
	errs = append(errs, m.Tuner.validate(p.Child("tuner"))...)
	return append(errs, m.MatrixCommon.validate(p)...)
}

// HyperoptAlgorithms are hyperopt's search algorithms.
var HyperoptAlgorithms = []string{"tpe", "rand", "anneal"}

func (m *HyperoptMatrix) validate(p Path) ErrorList {
	errs := requireParams(p, m.Params)
	errs = append(errs, validateSpace(p.Child("params"), m.Params, nil)...)
	if m.NumRuns == nil {
		errs = append(errs, Required(p.Child("numRuns"), "hyperopt needs numRuns"))
	}
	errs = append(errs, atLeastOne(p.Child("numRuns"), m.NumRuns)...)
	if m.Metric == nil {
		errs = append(errs, Required(p.Child("metric"), "hyperopt needs a metric to optimise"))
	}
	errs = append(errs, m.Metric.validate(p.Child("metric"))...)
	if m.Algorithm != "" && !slices.Contains(HyperoptAlgorithms, m.Algorithm) {
		errs = append(errs, NotSupported(p.Child("algorithm"), m.Algorithm, HyperoptAlgorithms))
	}
	errs = append(errs, atLeastOne(p.Child("maxIterations"), m.MaxIterations)...)
	errs = append(errs, m.Tuner.validate(p.Child("tuner"))...)
	return append(errs, m.MatrixCommon.validate(p)...)
}

func (m *IterativeMatrix) validate(p Path) ErrorList {
	errs := validateSpace(p.Child("params"), m.Params, nil)
	if m.MaxIterations == nil {
		errs = append(errs, Required(p.Child("maxIterations"), "iterative needs maxIterations"))
	}
	errs = append(errs, atLeastOne(p.Child("maxIterations"), m.MaxIterations)...)
	errs = append(errs, m.Tuner.validate(p.Child("tuner"))...)
	return append(errs, m.MatrixCommon.validate(p)...)
}

func (m *MappingMatrix) validate(p Path) ErrorList {
	var errs ErrorList
	if m.Values.IsZero() || (m.Values.Template == "" && len(m.Values.Items) == 0) {
		errs = append(errs, Required(p.Child("values"), "mapping needs values: a list of param mappings"))
	}
	return append(errs, m.MatrixCommon.validate(p)...)
}

// matrixParamNames returns the param names a matrix provides to the
// component: its search space, the mapping's keys (from the first entry),
// and hyperband's resource.
func matrixParamNames(m Matrix) map[string]HyperParamKind {
	out := map[string]HyperParamKind{}
	for _, np := range m.SearchSpace() {
		out[np.Name] = np.Kind
	}
	switch mm := m.(type) {
	case *MappingMatrix:
		if len(mm.Values.Items) > 0 {
			for k := range mm.Values.Items[0] {
				out[k] = HPChoice
			}
		}
	case *HyperbandMatrix:
		if mm.Resource != nil && mm.Resource.Name != "" {
			out[mm.Resource.Name] = HPChoice
		}
	}
	return out
}
