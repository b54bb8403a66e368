package templates

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"
)

func mustLoad(t testing.TB, override fs.FS) *Set {
	t.Helper()
	s, err := Load(override, "en")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDefaultsAllSourcesAllLocales(t *testing.T) {
	s := mustLoad(t, nil)
	if got := s.Locales(); len(got) < 2 {
		t.Fatalf("locales %v, want at least two", got)
	}
	long := strings.Repeat("Ü", 300)
	for _, loc := range s.Locales() {
		for _, src := range Sources {
			t.Run(loc+"/"+string(src), func(t *testing.T) {
				d := Data{AppName: "Acme", Name: long, Email: "ada@example.com", Username: UsernamePlaceholder, Code: CodePlaceholder}
				if src == SignIn {
					d.Code, d.Link, d.TTL, d.Username = "123456", "https://app.example.com/signin#token=abc.def", 10, "ada"
				}
				m, err := s.Render(loc, src, d)
				if err != nil {
					t.Fatal(err)
				}
				if n := utf8.RuneCountInString(m.Subject); n == 0 || n > MaxSubjectChars {
					t.Errorf("subject %d chars", n)
				}
				if n := utf8.RuneCountInString(m.HTML); n > MaxEmailChars {
					t.Errorf("email %d chars", n)
				}
				if !strings.Contains(m.HTML, d.Code) {
					t.Errorf("email lacks code: %s", m.HTML)
				}
				if !strings.Contains(m.HTML, `lang="`+loc+`"`) {
					t.Errorf("email not marked %s", loc)
				}
				if src == SignIn {
					if m.SMS != "" || !strings.Contains(m.Text, d.Code) || !strings.Contains(m.Text, d.Link) || !strings.Contains(m.HTML, d.Link) {
						t.Errorf("sign-in mail: text %q", m.Text)
					}
					return
				}
				if n := utf8.RuneCountInString(m.SMS); n == 0 || n > MaxSMSChars || !strings.Contains(m.SMS, CodePlaceholder) {
					t.Errorf("sms %q (%d chars)", m.SMS, n)
				}
				if src == AdminCreateUser && (!strings.Contains(m.HTML, UsernamePlaceholder) || !strings.Contains(m.SMS, UsernamePlaceholder)) {
					t.Errorf("admin create user lacks the username placeholder")
				}
			})
		}
	}
}

func TestNameIsEscaped(t *testing.T) {
	s := mustLoad(t, nil)
	for _, src := range Sources {
		m, err := s.Render("en", src, Data{AppName: "A&B <Co>", Name: `<script>alert("x")</script>`, Code: "123456", Username: UsernamePlaceholder, TTL: 5})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(m.HTML, "<script>") || strings.Contains(m.HTML, "<Co>") {
			t.Errorf("%s: unescaped markup in %s", src, m.HTML)
		}
		if !strings.Contains(m.HTML, "&lt;script&gt;") && src != AdminCreateUser {
			// every default greets by name except where the name is optional
			t.Logf("%s: name not shown", src)
		}
		if strings.ContainsAny(m.Subject, "\n\r") {
			t.Errorf("%s: multi-line subject %q", src, m.Subject)
		}
	}
	// Line breaks in a name cannot add lines to a plain-text mail.
	m, err := s.Render("en", SignIn, Data{AppName: "A", Name: "Bob\n\nVisit http://evil.example", Code: "123456", TTL: 5})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Text, "Bob\n") {
		t.Errorf("name broke the text: %q", m.Text)
	}
}

func TestLocaleResolution(t *testing.T) {
	s := mustLoad(t, nil)
	for _, tc := range []struct {
		in   []string
		want string
	}{
		{nil, "en"},
		{[]string{"de"}, "de"},
		{[]string{"de-AT"}, "de"},
		{[]string{"de_CH"}, "de"},
		{[]string{"DE"}, "de"},
		{[]string{"fr", "de"}, "de"},
		{[]string{"", "de"}, "de"},
		{[]string{"zz"}, "en"},
		{[]string{"../../etc"}, "en"},
		{[]string{"<script>"}, "en"},
	} {
		if got := s.Locale(tc.in...); got != tc.want {
			t.Errorf("Locale(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// base returns the embedded files of one locale as a MapFS under dir.
func base(t *testing.T, from, dir string) fstest.MapFS {
	t.Helper()
	m := fstest.MapFS{}
	entries, err := fs.ReadDir(Defaults(), from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := fs.ReadFile(Defaults(), from+"/"+e.Name())
		if err != nil {
			t.Fatal(err)
		}
		m[dir+"/"+e.Name()] = &fstest.MapFile{Data: b}
	}
	return m
}

func TestLoadRejects(t *testing.T) {
	file := func(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }
	for _, tc := range []struct {
		name string
		fs   fstest.MapFS
		want string
	}{
		{"missing code placeholder", fstest.MapFS{"en/SignUp.tmpl": file(`{{define "subject"}}Hi{{end}}{{define "body"}}<p>Welcome</p>{{end}}{{define "sms"}}Code {{.Code}}{{end}}`)},
			"en/SignUp.tmpl: body: the code placeholder (use {{.Code}}) is missing"},
		{"code only in an attribute", fstest.MapFS{"en/ForgotPassword.tmpl": file(`{{define "subject"}}Hi{{end}}{{define "body"}}<a href="https://x.example/?c={{.Code}}">reset</a>{{end}}{{define "sms"}}{{.Code}}{{end}}`)},
			"en/ForgotPassword.tmpl: body: the code placeholder"},
		{"missing sms code", fstest.MapFS{"de/ResendCode.tmpl": file(`{{define "subject"}}Hi{{end}}{{define "body"}}{{.Code}}{{end}}{{define "sms"}}Hallo{{end}}`)},
			"de/ResendCode.tmpl: sms: the code placeholder"},
		{"admin without username", fstest.MapFS{"en/AdminCreateUser.tmpl": file(`{{define "subject"}}Hi{{end}}{{define "body"}}{{.Code}}{{end}}{{define "sms"}}{{.Code}}{{end}}`)},
			"en/AdminCreateUser.tmpl: body: the username placeholder"},
		{"sms too long", fstest.MapFS{"en/SignUp.tmpl": file(`{{define "subject"}}Hi{{end}}{{define "body"}}{{.Code}}{{end}}{{define "sms"}}{{.Code}} ` + strings.Repeat("x", 140) + `{{end}}`)},
			"sms: 147 characters, want 1 to 140"},
		{"sms with name too long", fstest.MapFS{"en/SignUp.tmpl": file(`{{define "subject"}}Hi{{end}}{{define "body"}}{{.Code}}{{end}}{{define "sms"}}{{.AppName}} {{.Name}} {{.Code}} and some more words here{{end}}`)},
			"sms: 161 characters"},
		{"subject too long", fstest.MapFS{"en/Authentication.tmpl": file(`{{define "subject"}}{{.AppName}} {{.Email}}{{end}}{{define "body"}}{{.Code}}{{end}}{{define "sms"}}{{.Code}}{{end}}`)},
			"subject: 319 characters, want 1 to 140"},
		{"email too long", fstest.MapFS{"en/SignUp.tmpl": file(`{{define "subject"}}Hi{{end}}{{define "body"}}{{.Code}}` + strings.Repeat("<p>padding</p>", 1500) + `{{end}}{{define "sms"}}{{.Code}}{{end}}`)},
			"email: "},
		{"name expanded in a URL", fstest.MapFS{"en/SignUp.tmpl": file(`{{define "subject"}}Hi{{end}}{{define "body"}}{{.Code}}` + strings.Repeat(`<a href="https://x.example/?n={{.Name}}">x</a>`, 24) + strings.Repeat("<p>padding</p>", 200) + `{{end}}{{define "sms"}}{{.Code}}{{end}}`)},
			"en/SignUp.tmpl: email: "},
		{"no body", fstest.MapFS{"en/SignUp.tmpl": file(`{{define "subject"}}Hi{{end}}{{define "sms"}}{{.Code}}{{end}}`)},
			`no {{define "body"}}`},
		{"syntax error", fstest.MapFS{"en/SignUp.tmpl": file(`{{define "subject"}}Hi{{end}`)},
			"en/SignUp.tmpl"},
		{"unknown field", fstest.MapFS{"en/SignUp.tmpl": file(`{{define "subject"}}{{.Nope}}{{end}}{{define "body"}}{{.Code}}{{end}}{{define "sms"}}{{.Code}}{{end}}`)},
			"Nope"},
		{"sign-in without link", fstest.MapFS{"en/SignIn.tmpl": file(`{{define "subject"}}Hi{{end}}{{define "body"}}{{.Code}}{{end}}{{define "text"}}{{.Code}}{{end}}`)},
			"sign-in link"},
		{"unknown file", fstest.MapFS{"en/Signup.tmpl": file(`x`)}, "unknown template file"},
		{"bad locale dir", fstest.MapFS{"english/SignUp.tmpl": file(`x`)}, "not a locale name"},
		{"incomplete new locale", fstest.MapFS{"fr/layout.tmpl": file(`{{define "layout"}}{{template "body" .}}{{end}}`)}, "fr/SignUp.tmpl: missing"},
		{"not utf-8", fstest.MapFS{"en/SignUp.tmpl": file("\xff\xfe")}, "not UTF-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(tc.fs, "en")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load: %v\nwant an error containing %q", err, tc.want)
			}
		})
	}
}

func TestOverride(t *testing.T) {
	o := base(t, "en", "fr")
	o["fr/SignUp.tmpl"] = &fstest.MapFile{Data: []byte(`{{define "subject"}}Confirmez votre compte {{.AppName}}{{end}}
{{define "body"}}<p>Bonjour {{.Name}}, votre code : {{.Code}}</p>{{end}}
{{define "sms"}}{{.AppName}} : votre code est {{.Code}}{{end}}`)}
	o["en/SignUp.tmpl"] = &fstest.MapFile{Data: []byte(`{{define "subject"}}Custom{{end}}{{define "body"}}{{.Code}}{{end}}{{define "sms"}}{{.Code}}{{end}}`)}
	s, err := Load(o, "fr")
	if err != nil {
		t.Fatal(err)
	}
	if s.Default() != "fr" || s.Locale("xx") != "fr" {
		t.Fatalf("default %q", s.Default())
	}
	m, err := s.Render("fr-CA", SignUp, Data{AppName: "Acme", Name: "Zoé", Code: CodePlaceholder})
	if err != nil || m.Subject != "Confirmez votre compte Acme" || !strings.Contains(m.HTML, "Bonjour Zoé, votre code : {####}") {
		t.Fatalf("fr: %+v %v", m, err)
	}
	if m, _ := s.Render("en", SignUp, Data{Code: CodePlaceholder}); m.Subject != "Custom" {
		t.Fatalf("en override: %q", m.Subject)
	}
	if m, _ := s.Render("de", SignUp, Data{Code: CodePlaceholder}); !strings.HasPrefix(m.Subject, "Bestätigen") {
		t.Fatalf("de default kept: %q", m.Subject)
	}
	if _, err := Load(nil, "fr"); err == nil {
		t.Fatal("default locale without templates accepted")
	}
}

func TestLoadDir(t *testing.T) {
	if _, err := LoadDir(t.TempDir()+"/missing", "en"); err == nil {
		t.Fatal("missing dir accepted")
	}
	if _, err := LoadDir(t.TempDir(), "en"); err != nil {
		t.Fatalf("empty override dir: %v", err)
	}
}

func TestRenderBounds(t *testing.T) {
	s := mustLoad(t, nil)
	if _, err := s.Render("en", Source("Nope"), Data{}); !errors.Is(err, ErrUnknownSource) {
		t.Fatalf("unknown source: %v", err)
	}
	if _, err := s.Render("en", SignIn, Data{Code: strings.Repeat("1", MaxCode+1)}); err == nil {
		t.Fatal("long code accepted")
	}
	if _, err := s.Render("en", SignIn, Data{Code: "1", Link: "https://x/" + strings.Repeat("a", MaxLink)}); err == nil {
		t.Fatal("long link accepted")
	}
	m, err := s.Render("en", SignUp, Data{Code: CodePlaceholder, Name: strings.Repeat("é", 1000), Email: strings.Repeat("a", 300)})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, strings.Repeat("é", MaxName+1)) {
		t.Fatal("name not cut")
	}
	if got := cut("a\xffbc", 2); got != "a\uFFFD" {
		t.Fatalf("cut = %q", got)
	}
}

func FuzzRender(f *testing.F) {
	s := mustLoad(f, nil)
	f.Add("en", "SignUp", "Ada", "ada@example.com", "{####}", "{username}", "")
	f.Add("de-AT", "SignIn", "<b>x</b>", "x@y.z", "123456", "bob", "https://a.example/#token=x.y")
	f.Add("xx", "AdminCreateUser", "\n\r\x00", "", "{####}", "{username}", "")
	f.Add("fr", "Authentication", strings.Repeat("\"", 200), strings.Repeat("+", 300), "{####}", "", "javascript:alert(1)")
	f.Fuzz(func(t *testing.T, loc, src, name, email, code, user, link string) {
		m, err := s.Render(loc, Source(src), Data{AppName: "Acme", Name: name, Email: email, Code: code, Username: user, Link: link, TTL: 10})
		if err != nil {
			return
		}
		if utf8.RuneCountInString(m.Subject) > MaxSubjectChars || utf8.RuneCountInString(m.SMS) > MaxSMSChars ||
			utf8.RuneCountInString(m.HTML) > MaxEmailChars {
			t.Fatalf("limits exceeded: %d/%d/%d", utf8.RuneCountInString(m.Subject), utf8.RuneCountInString(m.SMS), utf8.RuneCountInString(m.HTML))
		}
		if strings.Contains(m.HTML, "<script") && !strings.Contains(fmt.Sprint(name, email, code, user, link), "<script") {
			t.Fatal("script appeared from nowhere")
		}
		if strings.Contains(strings.ToLower(m.HTML), "<script") {
			t.Fatalf("unescaped script in HTML")
		}
	})
}
