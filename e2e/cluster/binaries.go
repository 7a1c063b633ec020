package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// EnvBinDir names the environment variable that, when set, is the folder
// holding the binaries (and where scripts/k8s-bin.sh builds them).
const EnvBinDir = "PLEXUS_K8S_BIN"

// ErrNoBinaries reports that the control-plane binaries are not built.
var ErrNoBinaries = errors.New("cluster: Kubernetes test binaries not built")

// The binaries Start runs, all in one folder.
const (
	binEtcd              = "etcd"
	binAPIServer         = "kube-apiserver"
	binControllerManager = "kube-controller-manager"
	binScheduler         = "kube-scheduler"
	binKwok              = "kwok"
)

var binaries = []string{binEtcd, binAPIServer, binControllerManager, binScheduler, binKwok}

// modulePath is the root module's path, used to recognise the repository root.
const modulePath = "github.com/plexus-ml/plexus"

// BinDir returns the folder that holds (or should hold) the binaries:
// $PLEXUS_K8S_BIN if set, else .cache/k8s/<kubernetes>-<etcd>-<kwok> under
// the repository root, with the versions pinned in tools/go.mod. It does not
// check that the binaries are there.
func BinDir() (string, error) {
	if dir := os.Getenv(EnvBinDir); dir != "" {
		return dir, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	k8s, etcd, kwok, err := toolVersions(filepath.Join(root, "tools", "go.mod"))
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".cache", "k8s", k8s+"-"+etcd+"-"+kwok), nil
}

// findBinaries returns the folder holding every binary, or an error wrapping
// ErrNoBinaries that says how to build them.
func findBinaries(dir string) (string, error) {
	if dir == "" {
		var err error
		if dir, err = BinDir(); err != nil {
			return "", fmt.Errorf("%w: %v", ErrNoBinaries, err)
		}
	}
	var missing []string
	for _, b := range binaries {
		fi, err := os.Stat(filepath.Join(dir, b))
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		return "", fmt.Errorf("%w: %s lacks %s; run `make k8s-bin` (a cold build takes ~15 min) "+
			"or point $%s at a folder with %s",
			ErrNoBinaries, dir, strings.Join(missing, ", "), EnvBinDir, strings.Join(binaries, ", "))
	}
	return dir, nil
}

// repoRoot finds the root module's folder: up from the working directory
// (a test runs in its package's folder), else up from this source file.
func repoRoot() (string, error) {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		starts = append(starts, filepath.Dir(file))
	}
	for _, dir := range starts {
		for {
			if isRepoRoot(dir) {
				return dir, nil
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return "", fmt.Errorf("cluster: no %s module above %v; set $%s", modulePath, starts, EnvBinDir)
}

func isRepoRoot(dir string) bool {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	for line := range strings.Lines(string(data)) {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == modulePath
		}
	}
	return false
}

// toolVersions reads the Kubernetes, etcd and kwok versions required by the
// tools module, the one source of those versions (scripts/k8s-bin.sh reads
// them the same way).
func toolVersions(gomod string) (k8s, etcd, kwok string, err error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", "", "", fmt.Errorf("cluster: reading tool versions: %w", err)
	}
	defer f.Close()
	want := map[string]*string{
		"k8s.io/kubernetes":         &k8s,
		"go.etcd.io/etcd/server/v3": &etcd,
		"sigs.k8s.io/kwok":          &kwok,
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 0 && fields[0] == "require" {
			fields = fields[1:]
		}
		if len(fields) >= 2 && strings.HasPrefix(fields[1], "v") {
			if v, ok := want[fields[0]]; ok && *v == "" {
				*v = fields[1]
			}
		}
	}
	if err := sc.Err(); err != nil {
		return "", "", "", fmt.Errorf("cluster: reading tool versions: %w", err)
	}
	if k8s == "" || etcd == "" || kwok == "" {
		return "", "", "", fmt.Errorf("cluster: %s does not require k8s.io/kubernetes, go.etcd.io/etcd/server/v3 and sigs.k8s.io/kwok", gomod)
	}
	return k8s, etcd, kwok, nil
}
