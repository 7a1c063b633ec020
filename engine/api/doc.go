// Package api is the engine's HTTP/JSON API under /api/v1 — submit (up to
// 64 MiB, a pipeline of 100,000 operations), list (by status, project, or
// parent: a dag's runs, read from the children index, or with since only
// those changed after a store revision), get, logs
// (streamed, with follow), a dag's graph, stop, approve, resume and restart
// — with bearer-token authentication, /healthz, /readyz (ready when etcd
// answers) and /metrics (Prometheus), and the Go client the CLI uses.
package api
