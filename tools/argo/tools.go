//go:build tools

// Package argo pins the version of Argo Workflows' controller that the
// side-by-side benchmark (e2e/bench/peer) runs against Plexus. Nothing
// imports it: its go.mod is the single source of that version (a module of
// its own, since Argo's Kubernetes libraries are older than the control
// plane's), and scripts/argo-bin.sh builds the controller from it.
package argo

import _ "github.com/argoproj/argo-workflows/v3/cmd/workflow-controller"
