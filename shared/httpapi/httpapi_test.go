package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func loadEvent(t testing.TB) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile("testdata/request.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestRequestFromEvent(t *testing.T) {
	ev := loadEvent(t)
	var got *http.Request
	var body string
	a := New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.WriteHeader(http.StatusNoContent)
	}))
	resp, err := a.Handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %d", resp.StatusCode)
	}
	checks := []struct{ name, got, want string }{
		{"method", got.Method, "POST"},
		{"path", got.URL.Path, "/sessions/abc/def"},
		{"escaped path", got.URL.EscapedPath(), "/sessions/abc%2Fdef"},
		{"query a", strings.Join(got.URL.Query()["a"], ","), "1,2"},
		{"query b", got.URL.Query().Get("b"), "x y"},
		{"host", got.Host, "api.example.com"},
		{"content type", got.Header.Get("Content-Type"), "application/x-www-form-urlencoded"},
		{"accept", got.Header.Get("Accept"), "application/json,text/plain"},
		{"cookie", got.Header.Get("Cookie"), "theme=dark; lang=en"},
		{"remote", got.RemoteAddr, "198.51.100.7:0"},
		{"proto", got.Proto, "HTTP/1.1"},
		{"body", body, "grant_type=refresh_token"},
		{"request uri", got.RequestURI, "/sessions/abc%2Fdef?a=1&a=2&b=x%20y"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if c, err := got.Cookie("lang"); err != nil || c.Value != "en" {
		t.Errorf("cookie lang: %v %v", c, err)
	}
	if got.ContentLength != int64(len(body)) {
		t.Errorf("content length %d", got.ContentLength)
	}
	rc, ok := RequestContext(got.Context())
	if !ok || rc.RequestID != "req-1" {
		t.Errorf("request context %+v %v", rc, ok)
	}
}

func TestResponse(t *testing.T) {
	tests := []struct {
		name    string
		h       http.HandlerFunc
		status  int
		body    string
		b64     bool
		headers map[string]string
		cookies []string
	}{
		{
			name: "json",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Add("Vary", "Origin")
				w.Header().Add("Vary", "Accept")
				w.WriteHeader(http.StatusCreated)
				_, _ = io.WriteString(w, `{"ok":true}`)
			},
			status:  201,
			body:    `{"ok":true}`,
			headers: map[string]string{"Content-Type": "application/json", "Vary": "Origin,Accept"},
		},
		{
			name: "binary",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/octet-stream")
				_, _ = w.Write([]byte{0, 1, 2, 0xff})
			},
			status: 200,
			body:   base64.StdEncoding.EncodeToString([]byte{0, 1, 2, 0xff}),
			b64:    true,
		},
		{
			name: "invalid utf8 text",
			h: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = w.Write([]byte{0xff, 0xfe})
			},
			status: 200,
			body:   base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe}),
			b64:    true,
		},
		{
			name: "cookies",
			h: func(w http.ResponseWriter, r *http.Request) {
				http.SetCookie(w, &http.Cookie{Name: "a", Value: "1"})
				http.SetCookie(w, &http.Cookie{Name: "b", Value: "2", HttpOnly: true})
			},
			status:  200,
			cookies: []string{"a=1", "b=2; HttpOnly"},
		},
		{
			name:   "nothing written",
			h:      func(w http.ResponseWriter, r *http.Request) {},
			status: 200,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := New(tc.h).Handle(context.Background(), loadEvent(t))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.status || resp.Body != tc.body || resp.IsBase64Encoded != tc.b64 {
				t.Fatalf("got %d %q b64=%v", resp.StatusCode, resp.Body, resp.IsBase64Encoded)
			}
			for k, v := range tc.headers {
				if resp.Headers[k] != v {
					t.Errorf("header %s = %q, want %q", k, resp.Headers[k], v)
				}
			}
			if strings.Join(resp.Cookies, "|") != strings.Join(tc.cookies, "|") {
				t.Errorf("cookies %q, want %q", resp.Cookies, tc.cookies)
			}
			if _, ok := resp.Headers["Set-Cookie"]; ok {
				t.Error("Set-Cookie left in headers")
			}
			// The response must survive the JSON trip to API Gateway.
			b, err := json.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			var back events.APIGatewayV2HTTPResponse
			if err := json.Unmarshal(b, &back); err != nil || back.Body != resp.Body {
				t.Fatalf("round trip: %v", err)
			}
		})
	}
}

func TestRefused(t *testing.T) {
	big := strings.Repeat("x", 101)
	tests := []struct {
		name   string
		edit   func(ev *events.APIGatewayV2HTTPRequest)
		status int
		err    error
	}{
		{"empty method", func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.HTTP.Method = "" }, 400, ErrBadEvent},
		{"bad method", func(ev *events.APIGatewayV2HTTPRequest) { ev.RequestContext.HTTP.Method = "GE T" }, 400, ErrBadEvent},
		{"relative path", func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "token"; ev.RequestContext.HTTP.Path = "" }, 400, ErrBadEvent},
		{"no path", func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = ""; ev.RequestContext.HTTP.Path = "" }, 400, ErrBadEvent},
		{"path with query", func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "/a?b" }, 400, ErrBadEvent},
		{"bad escape", func(ev *events.APIGatewayV2HTTPRequest) { ev.RawPath = "/a%zz" }, 400, ErrBadEvent},
		{"bad header name", func(ev *events.APIGatewayV2HTTPRequest) { ev.Headers["bad name"] = "x" }, 400, ErrBadEvent},
		{"header injection", func(ev *events.APIGatewayV2HTTPRequest) { ev.Headers["x-a"] = "a\r\nb: c" }, 400, ErrBadEvent},
		{"cookie injection", func(ev *events.APIGatewayV2HTTPRequest) { ev.Cookies = []string{"a=b\nc"} }, 400, ErrBadEvent},
		{"bad base64", func(ev *events.APIGatewayV2HTTPRequest) { ev.Body = "!!!" }, 400, ErrBadEvent},
		{"body too large", func(ev *events.APIGatewayV2HTTPRequest) { ev.IsBase64Encoded = false; ev.Body = big }, 413, ErrBodyTooLarge},
		{"base64 body too large", func(ev *events.APIGatewayV2HTTPRequest) {
			ev.Body = base64.StdEncoding.EncodeToString([]byte(big + big))
		}, 413, ErrBodyTooLarge},
		{"headers too large", func(ev *events.APIGatewayV2HTTPRequest) { ev.Headers["x-big"] = strings.Repeat("h", 300) }, 431, ErrHeadersTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev := loadEvent(t)
			tc.edit(&ev)
			called := false
			var gotErr error
			a := New(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }),
				WithMaxBodyBytes(100), WithMaxHeaderBytes(256),
				WithErrorFunc(func(w http.ResponseWriter, status int, err error) {
					gotErr = err
					defaultError(w, status, err)
				}))
			resp, err := a.Handle(context.Background(), ev)
			if err != nil {
				t.Fatal(err)
			}
			if called {
				t.Fatal("handler reached")
			}
			if resp.StatusCode != tc.status || !errors.Is(gotErr, tc.err) {
				t.Fatalf("got %d %v, want %d %v", resp.StatusCode, gotErr, tc.status, tc.err)
			}
			if !strings.Contains(resp.Body, "message") {
				t.Fatalf("body %q", resp.Body)
			}
		})
	}
}

func TestPanicAndOversizedResponse(t *testing.T) {
	resp, err := New(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })).
		Handle(context.Background(), loadEvent(t))
	if err == nil || resp.StatusCode != 500 {
		t.Fatalf("panic: %d %v", resp.StatusCode, err)
	}
	resp, err = New(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write(make([]byte, 64))
	}), WithMaxResponseBytes(32)).Handle(context.Background(), loadEvent(t))
	if err != nil || resp.StatusCode != 500 {
		t.Fatalf("oversized: %d %v", resp.StatusCode, err)
	}
}

func FuzzAdapter(f *testing.F) {
	f.Add("POST", "/token", "a=1", "content-type", "application/x-www-form-urlencoded", "grant_type=x", false, "c=1")
	f.Add("GET", "/sessions/%2F", "", "authorization", "Bearer x", "", false, "")
	f.Add("DELETE", "/", "q=%zz", "x", "\x00", "AAAA", true, "a=b; c=d")
	f.Fuzz(func(t *testing.T, method, path, query, hk, hv, body string, b64 bool, cookie string) {
		ev := events.APIGatewayV2HTTPRequest{
			RawPath:         path,
			RawQueryString:  query,
			Headers:         map[string]string{hk: hv},
			Body:            body,
			IsBase64Encoded: b64,
		}
		if cookie != "" {
			ev.Cookies = []string{cookie}
		}
		ev.RequestContext.HTTP.Method = method
		a := New(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, err := io.ReadAll(r.Body)
			if err != nil {
				t.Fatalf("body: %v", err)
			}
			if int64(len(b)) != r.ContentLength || len(b) > 64 {
				t.Fatalf("body length %d, content length %d", len(b), r.ContentLength)
			}
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write(b)
		}), WithMaxBodyBytes(64))
		resp, err := a.Handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 && resp.StatusCode != 400 && resp.StatusCode != 413 && resp.StatusCode != 431 {
			t.Fatalf("status %d", resp.StatusCode)
		}
	})
}
