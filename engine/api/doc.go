// Package api is the engine's HTTP/JSON API under /api/v1 — submit, list,
// get, logs (streamed, with follow), stop — with bearer-token
// authentication, /healthz, /readyz (ready when etcd answers) and /metrics
// (Prometheus), and the Go client the CLI uses.
package api
