//go:build tools

// Package tools pins the versions of the Kubernetes control plane, etcd and
// kwok that the e2e tests run against. Nothing imports it: its go.mod is the
// single source of those versions, and scripts/k8s-bin.sh builds the binaries
// from this module.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "sigs.k8s.io/kwok/cmd/kwok"
)
