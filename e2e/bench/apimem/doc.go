// Command apimem measures what submissions cost the API server in memory,
// and that its limits bound it (docs/limits.md, "API"): it starts a
// server as `plexus server` does (an engine on an embedded etcd behind
// the API's HTTP server, with an executor that succeeds every attempt at
// once) in a child process, sends it N submissions of S MiB of YAML at
// once, waits until every accepted run has ended, and prints the answers
// (201, 503, 413, or "broken" when the connection failed), the runs the
// server stored, its resident set when idle and at its peak (VmHWM), and
// the MiB of resident set per MiB of YAML submitted.
//
// The server runs alone in its process, so what the client holds (the
// bodies it sends) is not counted, and a server killed for want of memory
// is reported as such rather than taking the measure with it.
//
// The Polyaxonfile is valid, padded to size as -pad says: description
// (one long string), comment (a long comment, which the parser drops), env
// (many env entries), args (a flow list of one-letter arguments, the
// densest YAML: a node every two bytes) or dag (a chain of operations,
// each a dagRef to one component: the legitimate large Polyaxonfile; it
// waits for an approval, so it is compiled and stored but not run).
//
//	go run ./e2e/bench/apimem -n 1 -size 1.9 -pad args     # what one costs
//	go run ./e2e/bench/apimem -n 16 -size 1.9 -pad args    # many at once: bounded
//	go run ./e2e/bench/apimem -n 4 -size 60 -pad description -max-body 67108864 -max-inflight 67108864
//
// -max-body, -max-inflight and -queue-wait set the server's limits (its
// defaults otherwise); -chunked sends the bodies without a Content-Length;
// -allocprofile writes the server's allocation profile when it ends.
package main
