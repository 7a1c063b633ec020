// Package compiler turns a parsed operation, its component and the caller's
// params into exactly one runnable description. It works in named stages,
// each a function with its own tests:
//
//   - resolve: find the component an operation runs — inline, dagRef (a
//     component of the enclosing dag), pathRef (relative to the file),
//     hubRef (through a Hub) or urlRef (an HTTP GET with a timeout and a
//     size cap, refused when no fetcher is configured) — for the file's
//     operation and every operation of every dag inside it.
//
// The later stages (presets and patches, params, context, templates,
// access control, lowering to Kubernetes objects) build on Resolution.
//
// Every stage reports all of its problems at once, as a CompilationError
// naming the stage and, for each problem, the path in the file.
package compiler
