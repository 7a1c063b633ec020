package inits

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/plexus-ml/plexus/specs"
)

// errNoStore is the refusal when the executor gives no default store.
const errNoStore = "the default artifacts store is not available on this executor"

// storePath checks a path of the default artifacts store: relative, and
// inside the store once cleaned (no leading "..", not the whole store).
func storePath(what string, item any, from string) (string, error) {
	slashed := filepath.ToSlash(from)
	if filepath.IsAbs(from) || path.IsAbs(slashed) {
		return "", fmt.Errorf("init: %s %v: %q is absolute; a path of the artifacts store is relative to it (<run uuid>/outputs/...)", what, item, from)
	}
	if !filepath.IsLocal(from) {
		return "", fmt.Errorf("init: %s %v: %q leaves the artifacts store", what, item, from)
	}
	clean := path.Clean(slashed)
	if clean == "." {
		return "", fmt.Errorf("init: %s %v: %q is the whole artifacts store; name a run's path (<run uuid>/outputs/...)", what, item, from)
	}
	return clean, nil
}

// copyFromStore copies items (paths, or [from, to] pairs) from the
// default artifacts store, where a run's artifacts live under its uuid
// (`<uuid>/outputs/...`), to the step's destination. A path the store
// does not hold is skipped with a line in the log, as the reference's
// init container does (`if [ -d from ]; then cp ...; fi`): a service
// started while a run is still writing its outputs still starts.
// Symbolic links inside a copied directory are left out (a line in the
// log), so that nothing outside the store is read.
func (s *Step) copyFromStore(items []any, what string) error {
	type pair struct {
		item     any
		from, to string
	}
	var pairs []pair
	for _, it := range items {
		from, to, err := fromTo(what, it)
		if err != nil {
			return err
		}
		if from, err = storePath(what, it, from); err != nil {
			return err
		}
		pairs = append(pairs, pair{it, from, to})
	}
	if s.Store == nil && len(pairs) > 0 {
		return fmt.Errorf("%w: %s %s: %s", ErrUnsupported, what, pairs[0].from, errNoStore)
	}
	for _, p := range pairs {
		src, err := s.Store(p.from)
		if err != nil {
			return fmt.Errorf("init: %s %s: %w", what, p.from, err)
		}
		copied, err := s.copyStoreTree(src, s.dest(p.to))
		if err != nil {
			return fmt.Errorf("init: %s %s: %w", what, p.from, err)
		}
		if !copied {
			fmt.Fprintf(s.Log, "%s %s: not in the artifacts store, nothing copied\n", what, p.from)
			continue
		}
		fmt.Fprintf(s.Log, "copied %s from the artifacts store to %s\n", p.from, s.dest(p.to))
	}
	return nil
}

// tensorboard lays out a multi-run log directory: each run's
// `<uuid>/outputs/tensorboard` from the default artifacts store, copied to
// `<destination>/<uuid>`, so that tensorboard names the runs by uuid. A
// run without that directory is skipped with a line in the log, as the
// reference does (it downloads with raise_errors=False); at least one
// uuid is required. useNames (it needs the runs' names, which a step does
// not have) and plugins (pip packages to install) are refused with
// ErrUnsupported. port and pathPrefix are not used: the reference writes
// them into a start script, while Plexus's service gives tensorboard its
// own arguments.
func (s *Step) tensorboard(tb *specs.TensorboardType) error {
	if tb.UUIDs.Template != "" {
		return fmt.Errorf("init: tensorboard uuids %q is a template that was not rendered", tb.UUIDs.Template)
	}
	if tb.UseNames != nil && *tb.UseNames {
		return fmt.Errorf("%w: tensorboard useNames (naming runs by name needs the run history; leave it out to name them by uuid)", ErrUnsupported)
	}
	if tb.Plugins.Template != "" || len(tb.Plugins.Items) > 0 {
		plugins := tb.Plugins.Template
		if plugins == "" {
			plugins = strings.Join(tb.Plugins.Items, ", ")
		}
		return fmt.Errorf("%w: tensorboard plugins (%s): install them in the service's image instead", ErrUnsupported, plugins)
	}
	if len(tb.UUIDs.Items) == 0 {
		return errors.New("init: tensorboard needs at least one run uuid in uuids")
	}
	for _, u := range tb.UUIDs.Items {
		if u == "" || u == "." || u == ".." || strings.ContainsAny(u, `/\`) {
			return fmt.Errorf("init: tensorboard uuids: %q is not a run uuid", u)
		}
	}
	if s.Store == nil {
		return fmt.Errorf("%w: tensorboard uuids %s: %s", ErrUnsupported, strings.Join(tb.UUIDs.Items, ", "), errNoStore)
	}
	for _, u := range tb.UUIDs.Items {
		from := path.Join(u, "outputs", "tensorboard")
		src, err := s.Store(from)
		if err != nil {
			return fmt.Errorf("init: tensorboard %s: %w", from, err)
		}
		copied, err := s.copyStoreTree(src, s.dest(u))
		if err != nil {
			return fmt.Errorf("init: tensorboard %s: %w", from, err)
		}
		if !copied {
			fmt.Fprintf(s.Log, "tensorboard: run %s has no %s in the artifacts store, left out\n", u, from)
			continue
		}
		fmt.Fprintf(s.Log, "copied %s from the artifacts store to %s\n", from, s.dest(u))
	}
	return nil
}

// fromTo reads an item: a path (copied to the same path) or a [from, to]
// pair.
func fromTo(what string, it any) (from, to string, err error) {
	switch v := it.(type) {
	case string:
		from, to = v, v
	case []any:
		if len(v) == 2 {
			from, _ = v[0].(string)
			to, _ = v[1].(string)
		}
	}
	if from == "" || to == "" {
		return "", "", fmt.Errorf("init: %s: %v is not a path or a [from, to] pair", what, it)
	}
	return from, to, nil
}

// copyStoreTree copies a file or a directory of the store, leaving out
// symbolic links; it reports false when src does not exist.
func (s *Step) copyStoreTree(src, dst string) (bool, error) {
	info, err := os.Lstat(src)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if info.Mode()&fs.ModeSymlink != 0 {
		return false, fmt.Errorf("%s is a symbolic link, which is not followed out of the artifacts store", src)
	}
	if !info.IsDir() {
		return true, copyFile(src, dst, info.Mode())
	}
	return true, filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case !d.Type().IsRegular():
			fmt.Fprintf(s.Log, "left out %s: not a regular file\n", p)
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		return copyFile(p, target, fi.Mode())
	})
}
