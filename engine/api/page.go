package api

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

// The web page: its files (Server.UI) are served to anyone, at / and
// /NAME, since they hold no data; everything the page shows comes from
// the API with the token the page's login form keeps. Only the files
// the page has are routes: any other path is a 404 as before.

// servePage registers the page's files on mux.
func servePage(mux *http.ServeMux, files fs.FS) error {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := fs.ReadFile(files, e.Name())
		if err != nil {
			return err
		}
		route := "GET /" + e.Name()
		if e.Name() == "index.html" {
			route = "GET /{$}"
		}
		mux.Handle(route, pageFile(e.Name(), data))
	}
	return nil
}

// pageFile serves one file, revalidated by its hash on each load (so a
// new server's page is used at once), gzipped for a browser that takes
// it (the script is a third of its size then).
func pageFile(name string, data []byte) http.Handler {
	sum := sha256.Sum256(data)
	etag := `"` + hex.EncodeToString(sum[:12]) + `"`
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = http.DetectContentType(data)
	}
	var zipped bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&zipped, gzip.BestCompression)
	_, _ = zw.Write(data)
	_ = zw.Close()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", ctype)
		h.Set("Cache-Control", "no-cache")
		h.Set("Vary", "Accept-Encoding")
		body, tag := data, etag
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			body, tag = zipped.Bytes(), etag[:len(etag)-1]+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("ETag", tag)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// Nothing but the page's own files and the API; no framing.
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
	})
}
