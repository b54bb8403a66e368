package custommessage

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/triggers/templates"
)

func newHandler(t testing.TB) *Handler {
	t.Helper()
	h, err := FromEnv(config.FromMap(map[string]string{"SHORTFUSE_MESSAGE_APP_NAME": "Acme"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func event(source string, attrs map[string]any, meta map[string]string) Event {
	var ev Event
	ev.TriggerSource = source
	ev.UserName = "ada"
	ev.Request.CodeParameter = "{####}"
	if source == "CustomMessage_AdminCreateUser" {
		ev.Request.UsernameParameter = "{username}"
	}
	ev.Request.UserAttributes = attrs
	ev.Request.ClientMetadata = meta
	return ev
}

func TestAllSourcesAllLocales(t *testing.T) {
	h := newHandler(t)
	for _, loc := range []string{"en", "de"} {
		for _, src := range templates.CognitoSources {
			ev := event("CustomMessage_"+string(src), map[string]any{"email": "ada@example.com", "name": "Ada", "locale": loc}, nil)
			out, err := h.Handle(context.Background(), ev)
			if err != nil {
				t.Fatalf("%s/%s: %v", loc, src, err)
			}
			r := out.Response
			if r.EmailSubject == "" || utf8.RuneCountInString(r.EmailSubject) > 140 || utf8.RuneCountInString(r.SMSMessage) > 140 || utf8.RuneCountInString(r.EmailMessage) > 20000 {
				t.Errorf("%s/%s: limits: %+v", loc, src, r)
			}
			if !strings.Contains(r.EmailMessage, "{####}") || !strings.Contains(r.SMSMessage, "{####}") {
				t.Errorf("%s/%s: code placeholder missing", loc, src)
			}
			if src == templates.AdminCreateUser && (!strings.Contains(r.EmailMessage, "{username}") || !strings.Contains(r.SMSMessage, "{username}")) {
				t.Errorf("%s/%s: username placeholder missing", loc, src)
			}
			if !strings.Contains(r.EmailMessage, `lang="`+loc+`"`) {
				t.Errorf("%s/%s: wrong locale", loc, src)
			}
		}
	}
}

func TestLocaleOrder(t *testing.T) {
	h := newHandler(t)
	for _, tc := range []struct {
		attr, meta, want string
	}{
		{"de", "en", "de"},
		{"", "de", "de"},
		{"xx", "de-CH", "de"},
		{"", "", "en"},
		{"zz", "yy", "en"},
	} {
		attrs := map[string]any{}
		if tc.attr != "" {
			attrs["locale"] = tc.attr
		}
		out, err := h.Handle(context.Background(), event("CustomMessage_SignUp", attrs, map[string]string{"locale": tc.meta}))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.Response.EmailMessage, `lang="`+tc.want+`"`) {
			t.Errorf("attr %q meta %q: want %s", tc.attr, tc.meta, tc.want)
		}
	}
}

func TestScriptInNameEscaped(t *testing.T) {
	h := newHandler(t)
	out, err := h.Handle(context.Background(), event("CustomMessage_SignUp",
		map[string]any{"given_name": `<script>alert(1)</script>`, "email": "a@b.example"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.Response.EmailMessage, "<script>") || !strings.Contains(out.Response.EmailMessage, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatalf("not escaped: %s", out.Response.EmailMessage)
	}
}

func TestUnknownSourceKeepsDefault(t *testing.T) {
	h := newHandler(t)
	for _, src := range []string{"CustomMessage_Nope", "PreSignUp_SignUp", ""} {
		out, err := h.Handle(context.Background(), event(src, nil, nil))
		if err != nil || out.Response.EmailMessage != "" || out.Response.SMSMessage != "" {
			t.Errorf("%q: %+v %v", src, out.Response, err)
		}
	}
}

func TestOddPlaceholders(t *testing.T) {
	h := newHandler(t)
	ev := event("CustomMessage_SignUp", nil, nil)
	ev.Request.CodeParameter = ""
	out, err := h.Handle(context.Background(), ev)
	if err != nil || !strings.Contains(out.Response.EmailMessage, "{####}") {
		t.Fatalf("default placeholder: %v", err)
	}
	ev.Request.CodeParameter = strings.Repeat("#", 100)
	if _, err := h.Handle(context.Background(), ev); !errors.Is(err, ErrRender) {
		t.Fatalf("absurd placeholder: %v", err)
	}
	ev.Request.CodeParameter = "{&&&}"
	if _, err := h.Handle(context.Background(), ev); !errors.Is(err, ErrRender) {
		t.Fatalf("placeholder lost to escaping: %v", err)
	}
}

// The events cognito-local and Cognito send decode and come back with the
// message, through the Lambda runtime's JSON handling.
func TestFixtures(t *testing.T) {
	h := lambda.NewHandler(newHandler(t).Handle)
	for _, tc := range []struct {
		file, want string
	}{
		{"testdata/cognito-local-signup.json", "Willkommen, Ada!"},
		{"testdata/cognito-admincreateuser.json", "Benutzername: <strong>{username}</strong>"},
	} {
		in, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		out, err := h.Invoke(context.Background(), in)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		var ev events.CognitoEventUserPoolsCustomMessage
		if err := json.Unmarshal(out, &ev); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ev.Response.EmailMessage, tc.want) || ev.UserPoolID == "" || ev.Request.CodeParameter != "{####}" {
			t.Errorf("%s: %s", tc.file, ev.Response.EmailMessage)
		}
	}
}

func FuzzHandle(f *testing.F) {
	h := lambda.NewHandler(newHandler(f).Handle)
	for _, file := range []string{"testdata/cognito-local-signup.json", "testdata/cognito-admincreateuser.json"} {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"triggerSource":"CustomMessage_ForgotPassword","request":{"userAttributes":{"name":7,"locale":["de"]}}}`))
	f.Add([]byte(`{"triggerSource":"CustomMessage_Authentication","request":{"codeParameter":"<b>","userAttributes":null}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := h.Invoke(context.Background(), in)
		if err != nil {
			return
		}
		var ev events.CognitoEventUserPoolsCustomMessage
		if err := json.Unmarshal(out, &ev); err != nil {
			t.Fatalf("reply is not an event: %v", err)
		}
		r := ev.Response
		if r.EmailMessage == "" {
			return
		}
		code := ev.Request.CodeParameter
		if code == "" {
			code = "{####}"
		}
		if !strings.Contains(r.EmailMessage, code) || !strings.Contains(r.SMSMessage, code) {
			t.Fatal("placeholder missing")
		}
		if utf8.RuneCountInString(r.EmailSubject) > 140 || utf8.RuneCountInString(r.SMSMessage) > 140 || utf8.RuneCountInString(r.EmailMessage) > 20000 {
			t.Fatal("limits exceeded")
		}
	})
}

func TestFromEnvTemplatesDir(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(dir+"/en", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/en/SignUp.tmpl", []byte(`{{define "subject"}}Hi{{end}}{{define "body"}}no code{{end}}{{define "sms"}}{{.Code}}{{end}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := FromEnv(config.FromMap(map[string]string{"SHORTFUSE_MESSAGE_TEMPLATES_DIR": dir}), nil)
	if err == nil || !strings.Contains(err.Error(), "SHORTFUSE_MESSAGE_TEMPLATES_DIR") || !strings.Contains(err.Error(), "en/SignUp.tmpl: body: the code placeholder") {
		t.Fatalf("bad override: %v", err)
	}
	if _, err := FromEnv(config.FromMap(map[string]string{"SHORTFUSE_MESSAGE_DEFAULT_LOCALE": "klingon!"}), nil); err == nil {
		t.Fatal("bad locale accepted")
	}
}
