package tokensvc

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// multiValued are the parameters RFC 8693 lets a client repeat; every other
// parameter may appear at most once (RFC 6749 §3.2).
var multiValued = map[string]bool{"resource": true, "audience": true}

// parseForm reads an application/x-www-form-urlencoded body of at most max
// bytes. Query parameters are ignored: OAuth parameters travel in the body.
func parseForm(w http.ResponseWriter, r *http.Request, max int64) (url.Values, error) {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil, ErrInvalidRequest.WithDescription("Content-Type must be application/x-www-form-urlencoded")
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, ErrInvalidRequest.WithDescription("Content-Type must be application/x-www-form-urlencoded")
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return nil, ErrInvalidRequest.WithDescription("charset must be utf-8")
	}
	if r.ContentLength > max {
		return nil, ErrTooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, ErrTooLarge
		}
		return nil, ErrInvalidRequest.WithDescription("unreadable body").WithCause(err)
	}
	return parseFormBody(string(body))
}

// parseTokenForm reads the form of the endpoints that take a token
// parameter (RFC 7009 §2.1, RFC 7662 §2.1), which is required.
func parseTokenForm(w http.ResponseWriter, r *http.Request, max int64) (form url.Values, token string, err error) {
	form, err = parseForm(w, r, max)
	if err != nil {
		return nil, "", err
	}
	token = form.Get("token")
	if token == "" {
		return nil, "", ErrInvalidRequest.WithDescription("token is missing")
	}
	return form, token, nil
}

// parseFormBody parses a form body strictly: bad escapes, invalid UTF-8 and
// repeated parameters are errors.
func parseFormBody(body string) (url.Values, error) {
	if body == "" {
		return nil, ErrInvalidRequest.WithDescription("request body is empty")
	}
	v, err := url.ParseQuery(body)
	if err != nil {
		return nil, ErrInvalidRequest.WithDescription("body is not a valid form")
	}
	for k, vs := range v {
		if !utf8.ValidString(k) {
			return nil, ErrInvalidRequest.WithDescription("body is not valid UTF-8")
		}
		for _, s := range vs {
			if !utf8.ValidString(s) {
				return nil, ErrInvalidRequest.WithDescription("body is not valid UTF-8")
			}
		}
		if len(vs) > 1 && !multiValued[k] {
			return nil, ErrInvalidRequest.WithDescription("parameter %s is repeated", printable(k))
		}
	}
	return v, nil
}

// printable shortens a client-supplied name and replaces anything but
// printable ASCII, so it can go into an error description.
func printable(s string) string {
	if len(s) > 40 {
		s = s[:40]
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			b.WriteByte('?')
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
