package deploy

import (
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/authorizer"
	"github.com/shortfuse/shortfuse/shared/config"
	"github.com/shortfuse/shortfuse/shared/mail"
	"github.com/shortfuse/shortfuse/tokensvc"
	"github.com/shortfuse/shortfuse/triggers/customauth"
	"github.com/shortfuse/shortfuse/triggers/presignup"
	"github.com/shortfuse/shortfuse/triggers/templates"
	"github.com/shortfuse/shortfuse/triggers/triggerenv"
)

// What CloudFormation would put in place of the references, for a stack
// deployed with the parameter defaults.
var deployed = map[string]string{
	"Table":                "shortfuse-Table-1A2B3C",
	"HttpApi.ApiEndpoint":  "https://a1b2c3d4e5.execute-api.eu-west-1.amazonaws.com",
	"UserPool":             "eu-west-1_Abc123XyZ",
	"UserPool.ProviderURL": "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123XyZ",
	"UserPoolClient":       "4example5client6id7",
	"AWS::Region":          "eu-west-1",
	"AWS::URLSuffix":       "amazonaws.com",
	"AWS::Partition":       "aws",
	"AWS::AccountId":       "123456789012",
	// parameters without a default
	"MailFrom":    "no-reply@example.com",
	"SesIdentity": "example.com",
}

// deployedEnv returns a function's environment as the deployed function
// sees it.
func deployedEnv(t *testing.T, tpl *Template, fn string) map[string]string {
	t.Helper()
	env := map[string]string{}
	for k, v := range mapAt(tpl.Effective, "Resources", fn, "Properties", "Environment", "Variables") {
		env[k] = refPattern.ReplaceAllStringFunc(v.(string), func(m string) string {
			name := strings.TrimSuffix(strings.TrimPrefix(m, "${"), "}")
			if s, ok := deployed[name]; ok {
				return s
			}
			if p := mapAt(tpl.Tree, "Parameters", name); p != nil {
				if d, ok := p["Default"]; ok {
					return scalarString(d)
				}
			}
			t.Fatalf("%s: no deployed value for %s", fn, m)
			return ""
		})
	}
	return env
}

// TestDeployedConfig loads each function's configuration, with the code's
// own loaders, from the environment the template gives it with the
// parameter defaults: a deployed stack must start.
func TestDeployedConfig(t *testing.T) {
	tpl := template(t)
	load := map[string]func(env *config.Env) error{
		"PreSignUpFunction": func(env *config.Env) error {
			triggerenv.LoadCommon(env)
			presignup.LoadConfig(env)
			return env.Err()
		},
		"CustomMessageFunction": func(env *config.Env) error {
			templates.LoadConfig(env)
			return env.Err()
		},
		"DefineAuthChallengeFunction": func(env *config.Env) error {
			customauth.LoadConfig(env)
			return env.Err()
		},
		"CreateAuthChallengeFunction": func(env *config.Env) error {
			triggerenv.LoadCommon(env)
			customauth.LoadConfig(env)
			mail.LoadConfig(env)
			templates.LoadConfig(env)
			return env.Err()
		},
		"VerifyAuthChallengeFunction": func(env *config.Env) error {
			triggerenv.LoadCommon(env)
			customauth.LoadConfig(env)
			return env.Err()
		},
		"TokenServiceFunction": func(env *config.Env) error {
			_, err := tokensvc.LoadConfig(env)
			return err
		},
		"AuthorizerFunction": func(env *config.Env) error {
			c, err := authorizer.LoadConfig(env)
			if err == nil && c.Shape != authorizer.ShapeHTTPSimple {
				t.Errorf("authorizer shape %q, want %q for the HTTP API", c.Shape, authorizer.ShapeHTTPSimple)
			}
			return err
		},
	}
	for _, f := range Functions {
		t.Run(f.LogicalID, func(t *testing.T) {
			fn, ok := load[f.LogicalID]
			if !ok {
				t.Fatalf("no loader for %s", f.LogicalID)
			}
			env := deployedEnv(t, tpl, f.LogicalID)
			if err := fn(config.FromMap(env)); err != nil {
				t.Errorf("%s would not start: %v", f.LogicalID, err)
			}
		})
	}
	// The authorizer must start in either mode without other changes.
	t.Run("AuthorizerFunction/direct", func(t *testing.T) {
		env := deployedEnv(t, tpl, AuthorizerFunctionID)
		env["SHORTFUSE_AUTHORIZER_MODE"] = authorizer.ModeDirect
		if _, err := authorizer.LoadConfig(config.FromMap(env)); err != nil {
			t.Errorf("direct mode would not start: %v", err)
		}
	})
}
