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
	out, err := h.Handle(context.Background(), event("CustomMessage_ForgotPassword",
		map[string]any{"given_name": `<script>alert(1)</script>`, "email": "a@b.example"}, nil))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.Response.EmailMessage, "<script>") || !strings.Contains(out.Response.EmailMessage, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatalf("not escaped: %s", out.Response.EmailMessage)
	}
}

// Anyone can sign up with someone else's address: what they put in the name
// must not reach that address while it is unverified.
func TestUnverifiedName(t *testing.T) {
	spoof := "Your account is locked, call +1 415 555 0100 or visit evil.example"
	for _, tc := range []struct {
		mode, want string
	}{
		{"", ""},
		{"none", ""},
		{"short", "Your account"},
	} {
		h, err := FromEnv(config.FromMap(map[string]string{"SHORTFUSE_MESSAGE_UNVERIFIED_NAME": tc.mode}), nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, src := range templates.CognitoSources {
			for _, attr := range []string{"given_name", "name"} {
				out, err := h.Handle(context.Background(), event("CustomMessage_"+string(src), map[string]any{attr: spoof, "email": "victim@example.com"}, nil))
				if err != nil {
					t.Fatal(err)
				}
				r := out.Response
				all := r.EmailSubject + r.EmailMessage + r.SMSMessage
				if !templates.IsUnverified(src) {
					if !strings.Contains(all, "is locked, call") {
						t.Errorf("%s: verified address lost the name", src)
					}
					continue
				}
				for _, bad := range []string{"evil", "415", "555", "0100", "call", "locked"} {
					if strings.Contains(all, bad) {
						t.Errorf("mode %q, %s, %s: %q reached the message", tc.mode, src, attr, bad)
					}
				}
				if tc.want != "" && !strings.Contains(r.EmailMessage, tc.want) {
					t.Errorf("mode %q, %s: %q missing", tc.mode, src, tc.want)
				}
			}
		}
	}
	h, err := FromEnv(config.FromMap(map[string]string{"SHORTFUSE_MESSAGE_UNVERIFIED_NAME": "full"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := h.Handle(context.Background(), event("CustomMessage_SignUp", map[string]any{"given_name": spoof}, nil))
	if !strings.Contains(out.Response.EmailMessage, "is locked, call") {
		t.Error("mode full dropped the name")
	}
	if _, err := FromEnv(config.FromMap(map[string]string{"SHORTFUSE_MESSAGE_UNVERIFIED_NAME": "some"}), nil); err == nil ||
		!strings.Contains(err.Error(), "SHORTFUSE_MESSAGE_UNVERIFIED_NAME") {
		t.Errorf("bad mode: %v", err)
	}
}

// A changed address in a domain the sign-up policy refuses gets no code, so
// it can never become verified.
func TestAttributeChangeDomain(t *testing.T) {
	h, err := FromEnv(config.FromMap(map[string]string{
		"SHORTFUSE_SIGNUP_DENIED_DOMAINS":  "evil.example,=apex.example",
		"SHORTFUSE_SIGNUP_ALLOWED_DOMAINS": "",
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	allowOnly, err := FromEnv(config.FromMap(map[string]string{"SHORTFUSE_SIGNUP_ALLOWED_DOMAINS": "corp.example"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		h     *Handler
		src   string
		email any
		want  error
	}{
		{h, "UpdateUserAttribute", "new@evil.example", ErrDomainNotAllowed},
		{h, "VerifyUserAttribute", "new@evil.example", ErrDomainNotAllowed},
		{h, "UpdateUserAttribute", "new@x.evil.example", ErrDomainNotAllowed},
		{h, "VerifyUserAttribute", "New@X.Y.EVIL.example", ErrDomainNotAllowed},
		{h, "UpdateUserAttribute", "new@apex.example", ErrDomainNotAllowed},
		{h, "UpdateUserAttribute", "new@x.apex.example", nil},
		{h, "UpdateUserAttribute", "new@evil.example.", ErrEmailInvalid},
		{h, "UpdateUserAttribute", "new@\uff45vil.example", ErrEmailInvalid},
		{h, "UpdateUserAttribute", 42, ErrEmailInvalid},
		{h, "UpdateUserAttribute", "new@ok.example", nil},
		{h, "UpdateUserAttribute", nil, nil},           // SMS verification of a phone number
		{h, "SignUp", "new@evil.example", nil},         // pre sign-up's job
		{h, "ForgotPassword", "old@evil.example", nil}, // an address verified before the rule
		{allowOnly, "VerifyUserAttribute", "new@other.example", ErrDomainNotAllowed},
		{allowOnly, "VerifyUserAttribute", "new@x.corp.example", ErrDomainNotAllowed},
		{allowOnly, "VerifyUserAttribute", "new@corp.example", nil},
	} {
		attrs := map[string]any{"phone_number": "+14155550100"}
		if tc.email != nil {
			attrs["email"] = tc.email
		}
		out, err := tc.h.Handle(context.Background(), event("CustomMessage_"+tc.src, attrs, nil))
		if !errors.Is(err, tc.want) {
			t.Errorf("%s %v: err %v, want %v", tc.src, tc.email, err, tc.want)
		}
		if err != nil && (out.Response.EmailMessage != "" || out.Response.SMSMessage != "") {
			t.Errorf("%s %v: refused but a message was built", tc.src, tc.email)
		}
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
		{"testdata/cognito-local-signup.json", "Willkommen!"}, // no name to an unverified address
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
