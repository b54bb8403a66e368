package obs

import (
	"log/slog"
	"strings"
)

// Redacted replaces a token that reached a log record.
const Redacted = "[redacted]"

// Lengths of the parts of a token service refresh token,
// "<sid>.<secret>" in base64url: 16 and 32 random bytes.
const (
	refreshSIDChars    = 22
	refreshSecretChars = 43
)

// Redact returns s with every substring shaped like a token replaced by
// [Redacted]: a compact JWS or JWE (three or more dot-separated base64url
// segments, the first holding "eyJ", the encoding of `{"`) and a refresh
// token of the token service (22 and 43 base64url characters joined by a
// dot). It is the logger's safety net; callers still log TokenID(token)
// rather than the token.
func Redact(s string) string {
	if !strings.Contains(s, ".") || (!strings.Contains(s, "eyJ") && len(s) < refreshSIDChars+1+refreshSecretChars) {
		return s
	}
	var b strings.Builder
	last := 0 // end of the part of s already copied to b
	for i := 0; i < len(s); {
		if !tokenChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && tokenChar(s[j]) {
			j++
		}
		if looksLikeToken(s[i:j]) {
			if b.Len() == 0 {
				b.Grow(len(s))
			}
			b.WriteString(s[last:i])
			b.WriteString(Redacted)
			last = j
		}
		i = j
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// tokenChar reports whether c is a base64url character or the dot that
// joins the segments of a token.
func tokenChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
}

// looksLikeToken reports whether run, a maximal run of tokenChar bytes,
// holds a JWT or a refresh token. It errs on the side of redacting: a run
// counts when any of its dot-separated parts fits, even with other
// characters glued on.
func looksLikeToken(run string) bool {
	// An unsecured JWS ends with its second dot: keep that trailing empty part.
	parts := strings.Split(strings.TrimLeft(run, "."), ".")
	for k := 0; k+1 < len(parts); k++ {
		if len(parts[k]) >= refreshSIDChars && len(parts[k+1]) >= refreshSecretChars {
			return true
		}
		if k+2 < len(parts) && strings.Contains(parts[k], "eyJ") && parts[k+1] != "" {
			return true
		}
	}
	return false
}

// redactAttr is the loggers' ReplaceAttr: it passes string and error values
// through Redact.
func redactAttr(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); len(s) > 0 {
			if r := Redact(s); r != s {
				a.Value = slog.StringValue(r)
			}
		}
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case error:
			if s, ok := errorString(v); ok {
				if r := Redact(s); r != s {
					a.Value = slog.StringValue(r)
				}
			}
		case []string:
			var out []string
			for i, s := range v {
				if r := Redact(s); r != s {
					if out == nil {
						out = append([]string(nil), v...)
					}
					out[i] = r
				}
			}
			if out != nil {
				a.Value = slog.AnyValue(out)
			}
		}
	}
	return a
}

// errorString returns err.Error(), or false when it panics (a nil pointer
// behind the interface); the handler then formats the value as it would
// without redaction.
func errorString(err error) (s string, ok bool) {
	defer func() {
		if recover() != nil {
			s, ok = "", false
		}
	}()
	return err.Error(), true
}
