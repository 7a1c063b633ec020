package hub

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/plexus-ml/plexus/specs/compiler"
)

// Source is one place components are read from. Every source has the same
// layout: the component `owner/name:tag` is the file
// `<owner>/<name>/<tag>.yaml`.
type Source interface {
	// String names the source in errors and listings: a directory, a base
	// URL, or "built-in".
	String() string
	// Read returns the text of the component ref names and where it was
	// read from (a file path or a URL). A source that does not hold it
	// returns an error wrapping fs.ErrNotExist; any other error (a missing
	// directory, an unreachable server) is the source's own failure.
	Read(ctx context.Context, ref compiler.HubRef) (data []byte, location string, err error)
	// Refs lists the components the source holds. The error, when not
	// nil, lists what could not be listed; the refs are those that could.
	Refs(ctx context.Context) ([]compiler.HubRef, error)
}

// segmentRE is what an owner, a name or a tag may be: a path segment that
// can neither climb nor hide (no `/`, no leading `.`). Owners and names
// hold no `.`, which a hubRef reads as the owner's end.
var (
	segmentRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]*$`)
	tagRE     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
)

// checkRef refuses a ref whose parts cannot be a file of the layout.
func checkRef(ref compiler.HubRef) error {
	for _, part := range []struct{ what, v string }{{"owner", ref.Owner}, {"name", ref.Name}} {
		if !segmentRE.MatchString(part.v) {
			return fmt.Errorf("hub: %s: the %s %q is not letters, digits, `-` and `_`", ref, part.what, part.v)
		}
	}
	if !tagRE.MatchString(ref.Tag) {
		return fmt.Errorf("hub: %s: the tag %q is not letters, digits, `-`, `_` and `.` (starting with a letter or digit)", ref, ref.Tag)
	}
	return nil
}

// layoutPath is where a ref's file is, relative to a source's root.
func layoutPath(ref compiler.HubRef) string {
	return path.Join(ref.Owner, ref.Name, ref.Tag+".yaml")
}

// Dir is a source reading a directory of the hub layout. The directory is
// looked at on each use: one that does not exist is an error, never an
// empty hub.
func Dir(dir string) Source {
	return &fsSource{name: dir, root: dir, fsys: os.DirFS(dir)}
}

// fsSource reads a file system of the hub layout: a directory (root set)
// or the embedded built-in components.
type fsSource struct {
	name string
	root string // the directory; "" for an embedded file system
	fsys fs.FS
}

func (s *fsSource) String() string { return s.name }

// location names a file of the source as a user finds it.
func (s *fsSource) location(p string) string {
	if s.root == "" {
		return s.name + ":" + p
	}
	return filepath.Join(s.root, filepath.FromSlash(p))
}

// checkRoot fails unless the source's directory exists.
func (s *fsSource) checkRoot() error {
	if s.root == "" {
		return nil
	}
	fi, err := os.Stat(s.root)
	if err != nil {
		// Not wrapped: a missing directory is the source's failure, not a
		// component it does not hold (fs.ErrNotExist).
		msg := err.Error()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			msg = pe.Err.Error()
		}
		return fmt.Errorf("hub source %s: %s", s.root, msg)
	}
	if !fi.IsDir() {
		return fmt.Errorf("hub source %s: not a directory", s.root)
	}
	return nil
}

func (s *fsSource) Read(_ context.Context, ref compiler.HubRef) ([]byte, string, error) {
	if err := s.checkRoot(); err != nil {
		return nil, "", err
	}
	p := layoutPath(ref)
	loc := s.location(p)
	data, err := fs.ReadFile(s.fsys, p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, loc, fmt.Errorf("%s: %w", loc, fs.ErrNotExist)
	}
	if err != nil {
		return nil, loc, fmt.Errorf("hub source %s: reading %s: %w", s.name, loc, err)
	}
	return data, loc, nil
}

// Refs walks `<owner>/<name>/<tag>.yaml`. Hidden entries and files at the
// top are left alone; a YAML file anywhere else in the layout, or one
// whose owner, name or tag cannot be a ref, is reported rather than
// skipped without a word.
func (s *fsSource) Refs(context.Context) ([]compiler.HubRef, error) {
	if err := s.checkRoot(); err != nil {
		return nil, err
	}
	var refs []compiler.HubRef
	var errs []error
	misplaced := func(p, why string) {
		errs = append(errs, fmt.Errorf("hub source %s: %s: %s; a component is <owner>/<name>/<tag>.yaml", s.name, s.location(p), why))
	}
	owners, err := fs.ReadDir(s.fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("hub source %s: %w", s.name, err)
	}
	for _, o := range owners {
		if hidden(o.Name()) || !o.IsDir() {
			continue
		}
		names, err := fs.ReadDir(s.fsys, o.Name())
		if err != nil {
			errs = append(errs, fmt.Errorf("hub source %s: %w", s.name, err))
			continue
		}
		for _, n := range names {
			np := path.Join(o.Name(), n.Name())
			switch {
			case hidden(n.Name()):
				continue
			case !n.IsDir():
				if isYAML(n.Name()) {
					misplaced(np, "not read")
				}
				continue
			}
			tags, err := fs.ReadDir(s.fsys, np)
			if err != nil {
				errs = append(errs, fmt.Errorf("hub source %s: %w", s.name, err))
				continue
			}
			for _, t := range tags {
				tp := path.Join(np, t.Name())
				if hidden(t.Name()) || t.IsDir() {
					continue
				}
				tag, ok := strings.CutSuffix(t.Name(), ".yaml")
				if !ok {
					if isYAML(t.Name()) {
						misplaced(tp, "not read: a component's file ends in .yaml")
					}
					continue
				}
				ref := compiler.HubRef{Owner: o.Name(), Name: n.Name(), Tag: tag}
				if err := checkRef(ref); err != nil {
					misplaced(tp, "not read: "+strings.TrimPrefix(err.Error(), "hub: "))
					continue
				}
				refs = append(refs, ref)
			}
		}
	}
	return refs, errors.Join(errs...)
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") }

func isYAML(name string) bool {
	return strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")
}

// ParseSources reads a list of sources: entries separated by commas, each
// an http:// or https:// base URL or else a directory. Empty entries are
// ignored. It does no I/O: a directory or server is looked at when used.
func ParseSources(list string) ([]Source, error) {
	var out []Source
	for _, entry := range strings.Split(list, ",") {
		entry = strings.TrimSpace(entry)
		switch {
		case entry == "":
			continue
		case strings.HasPrefix(entry, "http://") || strings.HasPrefix(entry, "https://"):
			u, err := URL(entry)
			if err != nil {
				return nil, err
			}
			out = append(out, u)
		case strings.Contains(entry, "://"):
			return nil, fmt.Errorf("hub source %q: a source is a directory or an http:// or https:// URL", entry)
		default:
			out = append(out, Dir(entry))
		}
	}
	return out, nil
}
