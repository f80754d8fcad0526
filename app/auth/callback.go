package auth

import (
	"crypto/subtle"
	"errors"
	"html/template"
	"net/http"
	"sync"
)

type callbackResult struct {
	code string
	err  error
}

// callbackHandler answers the provider's redirect. The first request with the right state wins;
// a wrong state gets a 400 page and the flow keeps waiting.
type callbackHandler struct {
	path    string
	state   string
	results chan<- callbackResult // buffered, capacity 1

	mu   sync.Mutex
	done bool
}

func newCallbackHandler(path, state string, results chan<- callbackResult) *callbackHandler {
	return &callbackHandler{path: path, state: state, results: results}
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>timebridge sign-in</title>
<style>body{font-family:system-ui,sans-serif;margin:4em auto;max-width:32em;text-align:center}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Text}}</p></body></html>`))

func writePage(w http.ResponseWriter, status int, title, text string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_ = page.Execute(w, struct{ Title, Text string }{title, text})
}

func (h *callbackHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != h.path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil { // query, and a form_post body
		writePage(w, http.StatusBadRequest, "Sign-in failed", "The sign-in reply could not be read.")
		return
	}
	q := r.Form
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(h.state)) != 1 {
		writePage(w, http.StatusBadRequest, "This sign-in link is not valid",
			"It is stale or did not come from this timebridge sign-in. Start the sign-in again from timebridge.")
		return
	}
	h.mu.Lock()
	first := !h.done
	h.done = true
	h.mu.Unlock()
	if !first {
		writePage(w, http.StatusOK, "Sign-in already done",
			"You can close this tab and return to timebridge.")
		return
	}
	var res callbackResult
	switch {
	case q.Get("error") != "":
		res.err = &CallbackError{Code: q.Get("error"), Description: q.Get("error_description"), URI: q.Get("error_uri")}
		writePage(w, http.StatusOK, "Sign-in was not completed",
			"The service answered: "+res.err.Error()+". You can close this tab and return to timebridge.")
	case q.Get("code") == "":
		res.err = errors.New("the provider's redirect has neither code nor error")
		writePage(w, http.StatusBadRequest, "Sign-in failed",
			"The service sent no authorization code. You can close this tab and return to timebridge.")
	default:
		res.code = q.Get("code")
		writePage(w, http.StatusOK, "Signed in",
			"You can close this tab and return to timebridge.")
	}
	h.results <- res
}
