// Package templates renders the email and SMS messages shortfuse's triggers
// send or hand to Cognito, per message source and locale.
//
// A template set is one directory per locale (a BCP 47 tag such as "en" or
// "pt-br") holding a layout.tmpl and one <Source>.tmpl per Source. Each
// source file defines named templates:
//
//	{{define "subject"}}...{{end}}  email subject, text/template
//	{{define "body"}}...{{end}}     HTML content, html/template, rendered inside the locale's "layout"
//	{{define "sms"}}...{{end}}      SMS text, text/template (not for SignIn)
//	{{define "text"}}...{{end}}     plain-text email alternative, text/template (SignIn only)
//
// HTML goes through html/template, so user attributes are escaped; subject,
// SMS and plain text are text. Defaults in English and German are embedded;
// a directory given to Load overrides them file by file and may add locales.
//
// Every template is rendered once when the set is loaded, with the longest
// data the renderer ever passes, and must contain its placeholders and stay
// within Cognito's limits (subject and SMS 140 characters, email 20,000).
// A template that cannot meet them is an error at load time, not at send time.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	texttemplate "text/template"
	"unicode/utf8"
)

// Source names one kind of message. The first seven are Cognito's
// CustomMessage trigger sources without the "CustomMessage_" prefix; SignIn
// is the passwordless sign-in mail.
type Source string

// Message sources.
const (
	SignUp              Source = "SignUp"
	AdminCreateUser     Source = "AdminCreateUser"
	ResendCode          Source = "ResendCode"
	ForgotPassword      Source = "ForgotPassword"
	UpdateUserAttribute Source = "UpdateUserAttribute"
	VerifyUserAttribute Source = "VerifyUserAttribute"
	Authentication      Source = "Authentication"
	SignIn              Source = "SignIn"
)

// CognitoSources are the sources of Cognito's CustomMessage trigger.
var CognitoSources = []Source{
	SignUp, AdminCreateUser, ResendCode, ForgotPassword,
	UpdateUserAttribute, VerifyUserAttribute, Authentication,
}

// Sources are all sources a template set must provide.
var Sources = append(slices.Clone(CognitoSources), SignIn)

// Cognito's limits on a custom message, in characters.
const (
	MaxSubjectChars = 140
	MaxSMSChars     = 140
	MaxEmailChars   = 20000
)

// Bounds on the data a template receives. Render cuts or refuses longer
// values, and Load checks every template against values of exactly these
// lengths, so a template that loads renders within the limits.
const (
	MaxAppName = 64   // runes
	MaxName    = 64   // runes; longer names are cut
	MaxAddress = 254  // bytes; longer addresses are left out
	MaxCode    = 16   // bytes
	MaxLink    = 1024 // bytes
	MaxUser    = 128  // bytes; longer usernames are left out
)

// Placeholders Cognito substitutes in a custom message.
const (
	CodePlaceholder     = "{####}"
	UsernamePlaceholder = "{username}"
)

// Data is what a template sees.
type Data struct {
	AppName  string // the product name shown to users
	Name     string // the user's given name or name; may be empty
	Email    string // the user's email address; may be empty
	Username string // Cognito's username placeholder, or the username itself
	Code     string // Cognito's code placeholder, or the code itself
	Link     string // SignIn: the magic link; may be empty
	TTL      int    // SignIn: minutes the code and link stay valid
	Locale   string // the locale being rendered
}

// Message is a rendered message. SMS is empty for SignIn, Text for the
// Cognito sources.
type Message struct {
	Subject string
	HTML    string
	SMS     string
	Text    string
}

//go:embed defaults
var defaults embed.FS

// Defaults returns the embedded default templates, laid out as Load expects.
func Defaults() fs.FS {
	sub, err := fs.Sub(defaults, "defaults")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	return sub
}

const layoutFile = "layout.tmpl"

// maxFileBytes bounds one template file.
const maxFileBytes = 64 << 10

var localeRE = regexp.MustCompile(`^[a-z]{2,3}(-[a-z0-9]{2,8})*$`)

// Set is a loaded, validated template set. It is safe for concurrent use.
type Set struct {
	def     string
	locales map[string]map[Source]*compiled
}

type compiled struct {
	html *htmltemplate.Template
	text *texttemplate.Template
}

// Load parses the embedded defaults overlaid with override (nil for none),
// checks every locale and source, and returns the set. defaultLocale must be
// one of the set's locales.
func Load(override fs.FS, defaultLocale string) (*Set, error) {
	files, err := collect(Defaults(), nil)
	if err != nil {
		return nil, err
	}
	if override != nil {
		if files, err = collect(override, files); err != nil {
			return nil, err
		}
	}
	s := &Set{def: NormalizeLocale(defaultLocale), locales: map[string]map[Source]*compiled{}}
	var errs []error
	for loc, byName := range files {
		m, err := compileLocale(loc, byName)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s.locales[loc] = m
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if _, ok := s.locales[s.def]; !ok {
		return nil, fmt.Errorf("templates: default locale %q has no templates (have %s)", defaultLocale, strings.Join(s.Locales(), ", "))
	}
	return s, nil
}

// LoadDir is Load with the override read from dir ("" for none).
func LoadDir(dir, defaultLocale string) (*Set, error) {
	if dir == "" {
		return Load(nil, defaultLocale)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("templates: override directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("templates: override %s is not a directory", dir)
	}
	return Load(os.DirFS(dir), defaultLocale)
}

// collect reads <locale>/<file> from fsys into files, replacing what is there.
func collect(fsys fs.FS, files map[string]map[string]string) (map[string]map[string]string, error) {
	if files == nil {
		files = map[string]map[string]string{}
	}
	dirs, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	for _, d := range dirs {
		name := d.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if !d.IsDir() {
			return nil, fmt.Errorf("templates: %s: want one directory per locale, found a file", name)
		}
		loc := NormalizeLocale(name)
		if loc == "" || loc != strings.ToLower(name) {
			return nil, fmt.Errorf("templates: %s: not a locale name like en or pt-br", name)
		}
		entries, err := fs.ReadDir(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		if files[loc] == nil {
			files[loc] = map[string]string{}
		}
		for _, e := range entries {
			fn := e.Name()
			if strings.HasPrefix(fn, ".") {
				continue
			}
			if e.IsDir() || !knownFile(fn) {
				return nil, fmt.Errorf("templates: %s/%s: unknown template file (want %s or <Source>.tmpl for one of %v)", name, fn, layoutFile, Sources)
			}
			b, err := fs.ReadFile(fsys, path.Join(name, fn))
			if err != nil {
				return nil, fmt.Errorf("templates: %w", err)
			}
			if len(b) > maxFileBytes {
				return nil, fmt.Errorf("templates: %s/%s: larger than %d bytes", name, fn, maxFileBytes)
			}
			if !utf8.Valid(b) {
				return nil, fmt.Errorf("templates: %s/%s: not UTF-8", name, fn)
			}
			files[loc][fn] = string(b)
		}
	}
	return files, nil
}

func knownFile(fn string) bool {
	if fn == layoutFile {
		return true
	}
	src, ok := strings.CutSuffix(fn, ".tmpl")
	return ok && slices.Contains(Sources, Source(src))
}

func compileLocale(loc string, files map[string]string) (map[Source]*compiled, error) {
	layout, ok := files[layoutFile]
	if !ok {
		return nil, fmt.Errorf("templates: %s/%s: missing", loc, layoutFile)
	}
	out := map[Source]*compiled{}
	var errs []error
	for _, src := range Sources {
		fn := string(src) + ".tmpl"
		body, ok := files[fn]
		if !ok {
			errs = append(errs, fmt.Errorf("templates: %s/%s: missing", loc, fn))
			continue
		}
		c, err := compile(body, layout)
		if err == nil {
			err = c.check(loc, src)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("templates: %s/%s: %w", loc, fn, err))
			continue
		}
		out[src] = c
	}
	return out, errors.Join(errs...)
}

func compile(body, layout string) (*compiled, error) {
	h, err := htmltemplate.New("layout").Option("missingkey=error").Parse(layout)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", layoutFile, err)
	}
	if _, err := h.New("source").Parse(body); err != nil {
		return nil, err
	}
	if h.Lookup("body") == nil {
		return nil, errors.New(`no {{define "body"}}`)
	}
	t, err := texttemplate.New("source").Option("missingkey=error").Parse(body)
	if err != nil {
		return nil, err
	}
	return &compiled{html: h, text: t}, nil
}

// worstFills are the characters html/template expands most, per byte and
// per character: a double quote (&#34; in HTML, \u0022 in a script, %22 in a
// URL) and a four-byte character (12 characters when percent-encoded in a
// URL). Values bounded in characters are filled with each in turn.
var worstFills = []string{`"`, "\U0001F600"}

// Worst-case data: the longest values Render passes, made of fill.
func worstCase(src Source, loc string, link bool, fill string) Data {
	q := func(n int) string { return strings.Repeat(fill, n) }
	d := Data{
		AppName:  q(MaxAppName),
		Name:     q(MaxName),
		Email:    strings.Repeat(`"`, MaxAddress), // bounded in bytes: a quote expands most per byte
		Username: UsernamePlaceholder,
		Code:     CodePlaceholder,
		Locale:   loc,
	}
	if src == SignIn {
		d.Username = strings.Repeat(`"`, MaxUser)
		d.Code = strings.Repeat("9", MaxCode)
		d.TTL = 1440
		if link {
			d.Link = "https://" + strings.Repeat("x", MaxLink-len("https://"))
		}
	}
	return d
}

// check renders the templates with worst-case data and enforces the
// placeholders and Cognito's limits.
func (c *compiled) check(loc string, src Source) error {
	variants := []bool{false}
	if src == SignIn {
		variants = []bool{true, false}
	}
	for _, link := range variants {
		for _, fill := range worstFills {
			if err := c.checkWith(src, worstCase(src, loc, link, fill)); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkWith renders d and enforces the placeholders and the limits.
func (c *compiled) checkWith(src Source, d Data) error {
	m, err := c.render(src, d)
	if err != nil {
		return err
	}
	if err := m.withinLimits(src); err != nil {
		return err
	}
	must := []string{d.Code}
	if src == AdminCreateUser {
		must = append(must, UsernamePlaceholder)
	}
	for _, p := range must {
		if !strings.Contains(m.HTML, p) {
			return fmt.Errorf("body: the %s is missing", placeholderName(p))
		}
		if src == SignIn {
			if !strings.Contains(m.Text, p) {
				return fmt.Errorf("text: the %s is missing", placeholderName(p))
			}
		} else if !strings.Contains(m.SMS, p) {
			return fmt.Errorf("sms: the %s is missing", placeholderName(p))
		}
	}
	if d.Link != "" && !strings.Contains(m.HTML, d.Link) {
		return errors.New("body does not show the sign-in link {{.Link}} (wrap it in {{if .Link}} to make it optional)")
	}
	return nil
}

func placeholderName(p string) string {
	if p == UsernamePlaceholder {
		return "username placeholder (use {{.Username}})"
	}
	return "code placeholder (use {{.Code}})"
}

func (m Message) withinLimits(src Source) error {
	if n := utf8.RuneCountInString(m.Subject); n == 0 || n > MaxSubjectChars {
		return fmt.Errorf("subject: %d characters, want 1 to %d", n, MaxSubjectChars)
	}
	if n := utf8.RuneCountInString(m.HTML); n > MaxEmailChars {
		return fmt.Errorf("email: %d characters, Cognito allows %d", n, MaxEmailChars)
	}
	if src != SignIn {
		if n := utf8.RuneCountInString(m.SMS); n == 0 || n > MaxSMSChars {
			return fmt.Errorf("sms: %d characters, want 1 to %d", n, MaxSMSChars)
		}
	}
	return nil
}

func (c *compiled) render(src Source, d Data) (Message, error) {
	var m Message
	var b bytes.Buffer
	if err := c.text.ExecuteTemplate(&b, "subject", d); err != nil {
		return m, err
	}
	// A subject is one line: template line breaks are layout, not content.
	m.Subject = strings.Join(strings.Fields(b.String()), " ")
	b.Reset()
	if err := c.html.ExecuteTemplate(&b, "layout", d); err != nil {
		return m, err
	}
	m.HTML = b.String()
	b.Reset()
	if src == SignIn {
		if err := c.text.ExecuteTemplate(&b, "text", d); err != nil {
			return m, err
		}
		m.Text = strings.TrimSpace(b.String()) + "\n"
	} else {
		if err := c.text.ExecuteTemplate(&b, "sms", d); err != nil {
			return m, err
		}
		m.SMS = strings.Join(strings.Fields(b.String()), " ")
	}
	return m, nil
}

// Errors returned by Render.
var (
	ErrUnknownSource = errors.New("templates: unknown source")
	ErrTooLong       = errors.New("templates: message exceeds Cognito's limits")
)

// Render renders src in locale (resolved with Locale, so any tag works) with d.
// Values longer than the bounds above are cut (Name) or left out (Email,
// Username); a Code or Link beyond its bound is an error.
func (s *Set) Render(locale string, src Source, d Data) (Message, error) {
	loc := s.Locale(locale)
	c := s.locales[loc][src]
	if c == nil {
		return Message{}, fmt.Errorf("%w %q", ErrUnknownSource, src)
	}
	d.Locale = loc
	d.AppName = cut(d.AppName, MaxAppName)
	d.Name = cut(oneLine(d.Name), MaxName)
	d.Email = oneLine(d.Email)
	if len(d.Email) > MaxAddress {
		d.Email = ""
	}
	if len(d.Username) > MaxUser {
		d.Username = ""
	}
	if len(d.Code) > MaxCode || len(d.Link) > MaxLink {
		return Message{}, fmt.Errorf("templates: code or link longer than allowed")
	}
	m, err := c.render(src, d)
	if err != nil {
		return Message{}, fmt.Errorf("templates: %s/%s: %w", loc, src, err)
	}
	if err := m.withinLimits(src); err != nil {
		return Message{}, fmt.Errorf("%w: %s/%s: %w", ErrTooLong, loc, src, err)
	}
	return m, nil
}

// oneLine replaces control characters (line breaks included) with spaces, so
// a user attribute cannot add lines to a plain-text message.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
}

// cut shortens s to at most n runes, at a rune boundary.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		if utf8.ValidString(s) {
			return s
		}
		return strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// Locales returns the set's locales, sorted.
func (s *Set) Locales() []string {
	out := make([]string, 0, len(s.locales))
	for l := range s.locales {
		out = append(out, l)
	}
	slices.Sort(out)
	return out
}

// Default returns the default locale.
func (s *Set) Default() string { return s.def }

// Locale returns the first candidate the set has, trying each tag and then
// its primary language ("de-AT" then "de"), or the default locale.
func (s *Set) Locale(candidates ...string) string {
	for _, c := range candidates {
		l := NormalizeLocale(c)
		if l == "" {
			continue
		}
		if _, ok := s.locales[l]; ok {
			return l
		}
		if i := strings.IndexByte(l, '-'); i > 0 {
			if _, ok := s.locales[l[:i]]; ok {
				return l[:i]
			}
		}
	}
	return s.def
}

// NormalizeLocale returns tag in lower case with hyphens ("pt_BR" → "pt-br"),
// or "" when it is not a plausible BCP 47 tag.
func NormalizeLocale(tag string) string {
	if len(tag) > 35 {
		return ""
	}
	l := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"))
	if !localeRE.MatchString(l) {
		return ""
	}
	return l
}
