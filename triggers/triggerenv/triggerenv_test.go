package triggerenv

import (
	"strings"
	"testing"
	"time"

	"github.com/shortfuse/shortfuse/shared/config"
)

func TestLoad(t *testing.T) {
	env := config.FromMap(map[string]string{
		"SHORTFUSE_TABLE":           "t",
		"SHORTFUSE_AWS_ENDPOINT":    "http://127.0.0.1:1",
		"SHORTFUSE_SES_ENDPOINT":    "http://127.0.0.1:2",
		"SHORTFUSE_TRIGGER_TIMEOUT": "3s",
	})
	c := Load(env)
	if env.Err() != nil || c.Table != "t" || c.DynamoDBEndpoint != "http://127.0.0.1:1" || c.SESEndpoint != "http://127.0.0.1:2" ||
		c.Budget != 3*time.Second || c.StoreTimeout != DefaultStoreTimeout {
		t.Fatalf("%+v %v", c, env.Err())
	}
	for name, vars := range map[string]map[string]string{
		"no table":           {},
		"budget over 4.5s":   {"SHORTFUSE_TABLE": "t", "SHORTFUSE_TRIGGER_TIMEOUT": "5s"},
		"store >= budget":    {"SHORTFUSE_TABLE": "t", "SHORTFUSE_TRIGGER_TIMEOUT": "1s", "SHORTFUSE_DYNAMODB_TIMEOUT": "1s"},
		"endpoint not a URL": {"SHORTFUSE_TABLE": "t", "SHORTFUSE_AWS_ENDPOINT": "localhost:8000"},
		"unknown log level":  {"SHORTFUSE_TABLE": "t", "SHORTFUSE_LOG_LEVEL": "trace"},
	} {
		env := config.FromMap(vars)
		Load(env)
		if err := env.Err(); err == nil || !strings.Contains(err.Error(), "SHORTFUSE_") {
			t.Errorf("%s: %v", name, err)
		}
	}
}
