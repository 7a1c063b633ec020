// Package compiler turns a parsed operation, its component and the
// caller's params into exactly one runnable description, in named stages,
// each a function with its own tests:
//
//   - Resolve finds the component of every operation: inline, dagRef (a
//     component of the enclosing dag), pathRef (relative to the file),
//     hubRef (through a Hub; StubHub holds a few public components until
//     the hub lands) or urlRef (an HTTP GET with a timeout and a size cap,
//     refused when no fetcher is configured).
//   - ApplyPresets and Merge apply presets, then the operation's runPatch
//     and fields onto its component, with Patch's four strategies exactly
//     as the reference merges (replace, isnull, post_merge, pre_merge).
//   - ResolveParams checks and coerces params against the component's
//     inputs and outputs; refs go through a RefResolver the engine provides.
//   - Globals and Context build what templates see (docs/context.md);
//     RenderSections, RenderOperation and RenderRun render every template
//     with gonja: an undefined variable is an error, templates read no
//     files, and typed fields get their type from what they render.
//   - CheckAccess checks the run against an access Policy.
//   - Lower turns a compiled run into Kubernetes objects: a Job, a
//     Deployment and a Service, or a Kubeflow training-operator resource.
//
// Compile runs the stages after resolution in order; Check is what
// `plexus check` adds to parsing. Every stage reports all its problems at
// once as a CompilationError naming the stage and each problem's path.
// Compiling is safe for concurrent use.
package compiler
