// Package api is the engine's HTTP/JSON API under /api/v1 — submit, list
// (by status, project, or parent: a dag's runs, read from the children
// index, or with since only those changed after a store revision; or
// order=newest: the runs submitted, newest first), get, logs (streamed,
// with follow), a dag's graph (with max, summarised by status when
// larger), stop, approve, resume, restart and whoami — with bearer-token
// authentication and roles (a token is a user with teams, projects and a
// role, read, submit or admin: tokens.go, access.go), /healthz, /readyz
// (ready when etcd answers), /metrics (Prometheus), the web page's files
// at / (page.go; the page itself is package ui), and the Go client the
// CLI uses.
//
// Submissions take memory many times their size, so the server bounds
// them (Limits, in limits.go): a body is at most MaxBody (2 MiB by
// default; a pipeline of 30,000 operations), and at most InFlight bytes of
// bodies are handled at once (admission.go, a weighted semaphore taken
// before a body is read); a submission finding no room within QueueWait
// is answered 503 with a Retry-After, which Client.Submit honours. A body
// must arrive within BodyTimeout, headers within ReadHeaderTimeout, and an
// idle connection closes after IdleTimeout. Server.HTTPServer is the HTTP
// server with those timeouts.
package api
