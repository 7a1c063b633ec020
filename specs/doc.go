// Package specs owns the Polyaxonfile v1.1 model: the Go types of
// components and operations (also Plexus's Go authoring API), their strict
// decoding from YAML and JSON, and their validation.
//
// Parse reads one or several documents and reports every problem at once,
// each as a FieldError naming its path (`run.operations[2].matrix.params.lr`)
// and, from the YAML source, its line. Decoding is strict: an unknown key is
// an error with the nearest valid key as a suggestion. Kubernetes objects
// (container, volumes, affinity, ...) are the k8s.io/api/core/v1 types; as in
// the reference, their keys may be camelCase or snake_case.
//
// Param values are coerced to their input's type by CoerceValue (§2.3 of
// the reference); matrix search spaces are read by ParseSpace; conditions are
// compiled once by CompileCondition. A number that becomes a Kubernetes
// int32 or a time.Duration is bounded by what holds it (Bound, refused with
// the field's path and line; Seconds where it meets a clock). The package
// does no I/O beyond ParseFile's read, and keeps no global state but its
// type caches.
//
// Types are safe for concurrent reads; nothing here mutates a parsed spec.
package specs
