package hub

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/plexus-ml/plexus/specs/compiler"
)

// IndexFile is the file, at an HTTP source's base URL, that lists its
// components; `plexus hub index DIR` writes it for a directory.
const IndexFile = "index.json"

// Index lists a hub's components:
//
//	{"components": [{"owner": "acme", "name": "trainer", "tags": ["latest", "v2"]}]}
//
// Each tag is the file `<owner>/<name>/<tag>.yaml` next to the index.
type Index struct {
	Components []IndexEntry `json:"components"`
}

// IndexEntry is one component of an Index and its tags.
type IndexEntry struct {
	Owner string   `json:"owner"`
	Name  string   `json:"name"`
	Tags  []string `json:"tags"`
}

// HTTPSource reads a hub served over HTTP(S): the component
// `owner/name:tag` is GET <Base>/<owner>/<name>/<tag>.yaml, and the listing
// GET <Base>/index.json (an Index). A 404 means the source does not hold
// the component; any other failure is the source's.
type HTTPSource struct {
	// Base is the hub's base URL, without a trailing slash.
	Base string
	// Client defaults to http.DefaultClient.
	Client *http.Client
	// Timeout bounds each request (default 10s).
	Timeout time.Duration
	// MaxBytes caps a file's size (default 1 MiB).
	MaxBytes int64
}

// URL returns the source served at base, an http:// or https:// URL.
func URL(base string) (*HTTPSource, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("hub source %q: %w", base, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("hub source %q: want an http:// or https:// URL with a host", base)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("hub source %q: a base URL has no query or fragment", base)
	}
	return &HTTPSource{Base: strings.TrimRight(base, "/")}, nil
}

func (s *HTTPSource) String() string { return s.Base }

// get fetches base/p: its body, its URL, and whether it was missing (404
// or 410).
func (s *HTTPSource) get(ctx context.Context, p string) (body []byte, loc string, missing bool, err error) {
	loc = s.Base + "/" + p
	f := compiler.HTTPFetcher{Client: s.Client, Timeout: s.Timeout, MaxBytes: s.MaxBytes}
	body, err = f.Fetch(ctx, loc)
	var status *compiler.HTTPStatusError
	switch {
	case errors.As(err, &status) && (status.Code == http.StatusNotFound || status.Code == http.StatusGone):
		return nil, loc, true, nil
	case err != nil:
		return nil, loc, false, fmt.Errorf("hub source %s: %w", s.Base, err)
	}
	return body, loc, false, nil
}

// Read GETs the component's file.
func (s *HTTPSource) Read(ctx context.Context, ref compiler.HubRef) ([]byte, string, error) {
	p := url.PathEscape(ref.Owner) + "/" + url.PathEscape(ref.Name) + "/" + url.PathEscape(ref.Tag) + ".yaml"
	body, loc, missing, err := s.get(ctx, p)
	if missing {
		return nil, loc, fmt.Errorf("%s: %w", loc, fs.ErrNotExist)
	}
	return body, loc, err
}

// Refs reads the source's index. Entries that cannot be refs are reported.
func (s *HTTPSource) Refs(ctx context.Context) ([]compiler.HubRef, error) {
	body, loc, missing, err := s.get(ctx, IndexFile)
	if missing {
		return nil, fmt.Errorf("hub source %s: cannot list it: %s is missing", s.Base, loc)
	}
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	var idx Index
	if err := dec.Decode(&idx); err != nil {
		return nil, fmt.Errorf("hub source %s: %s: %w", s.Base, loc, err)
	}
	var refs []compiler.HubRef
	var errs []error
	for i, e := range idx.Components {
		for _, tag := range e.Tags {
			ref := compiler.HubRef{Owner: e.Owner, Name: e.Name, Tag: tag}
			if err := checkRef(ref); err != nil {
				errs = append(errs, fmt.Errorf("hub source %s: %s: components[%d]: %w", s.Base, loc, i, err))
				continue
			}
			refs = append(refs, ref)
		}
		if len(e.Tags) == 0 {
			errs = append(errs, fmt.Errorf("hub source %s: %s: components[%d] (%s/%s) has no tags", s.Base, loc, i, e.Owner, e.Name))
		}
	}
	return refs, errors.Join(errs...)
}
