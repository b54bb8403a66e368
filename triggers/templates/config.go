package templates

import (
	"fmt"
	"unicode/utf8"

	"github.com/shortfuse/shortfuse/shared/config"
)

// Config selects the template set and the product name messages show.
type Config struct {
	Dir           string // SHORTFUSE_MESSAGE_TEMPLATES_DIR: overrides, laid out like the defaults; "" for none
	DefaultLocale string // SHORTFUSE_MESSAGE_DEFAULT_LOCALE (default "en")
	AppName       string // SHORTFUSE_MESSAGE_APP_NAME (default "shortfuse")
}

// LoadConfig reads the template settings; problems are recorded in env.
func LoadConfig(env *config.Env) Config {
	c := Config{
		Dir:           env.String("SHORTFUSE_MESSAGE_TEMPLATES_DIR", ""),
		DefaultLocale: env.String("SHORTFUSE_MESSAGE_DEFAULT_LOCALE", "en"),
		AppName:       env.String("SHORTFUSE_MESSAGE_APP_NAME", "shortfuse"),
	}
	if NormalizeLocale(c.DefaultLocale) == "" {
		env.Fail("SHORTFUSE_MESSAGE_DEFAULT_LOCALE", "%q is not a locale like en or pt-BR", c.DefaultLocale)
	}
	if n := utf8.RuneCountInString(c.AppName); n > MaxAppName || !utf8.ValidString(c.AppName) {
		env.Fail("SHORTFUSE_MESSAGE_APP_NAME", "want at most %d characters of UTF-8", MaxAppName)
	}
	return c
}

// Load loads the configured set; an error names SHORTFUSE_MESSAGE_TEMPLATES_DIR
// when the overrides are at fault.
func (c Config) Load() (*Set, error) {
	s, err := LoadDir(c.Dir, c.DefaultLocale)
	if err != nil && c.Dir != "" {
		return nil, fmt.Errorf("SHORTFUSE_MESSAGE_TEMPLATES_DIR: %w", err)
	}
	return s, err
}
