package deploy

import (
	"maps"
	"strings"
	"testing"

	"github.com/shortfuse/shortfuse/authorizer"
	"github.com/shortfuse/shortfuse/cognitoevents"
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
// sees it, with the parameter values in params or else the defaults.
func deployedEnv(t *testing.T, tpl *Template, fn string, params map[string]string) map[string]string {
	t.Helper()
	env := map[string]string{}
	// Tree, not Effective: Effective has Number parameters typed to their
	// defaults already.
	vars := mapAt(tpl.Tree, "Globals", "Function", "Environment", "Variables")
	vars = maps.Clone(vars)
	maps.Copy(vars, mapAt(tpl.Tree, "Resources", fn, "Properties", "Environment", "Variables"))
	for k, v := range vars {
		env[k] = refPattern.ReplaceAllStringFunc(scalarString(v), func(m string) string {
			name := strings.TrimSuffix(strings.TrimPrefix(m, "${"), "}")
			if s, ok := params[name]; ok {
				return s
			}
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
	for _, f := range Functions {
		t.Run(f.LogicalID, func(t *testing.T) {
			if err := loadDeployed(t, f.LogicalID, deployedEnv(t, tpl, f.LogicalID, nil)); err != nil {
				t.Errorf("%s would not start: %v", f.LogicalID, err)
			}
		})
	}
	// The authorizer must start in either mode without other changes, and
	// in direct mode verify with the user pool's keys, not the token
	// service's.
	t.Run("AuthorizerFunction/direct", func(t *testing.T) {
		env := deployedEnv(t, tpl, AuthorizerFunctionID, nil)
		env["SHORTFUSE_AUTHORIZER_MODE"] = authorizer.ModeDirect
		c, err := authorizer.LoadConfig(config.FromMap(env))
		if err != nil {
			t.Fatalf("direct mode would not start: %v", err)
		}
		if want := "https://" + deployed["UserPool.ProviderURL"] + "/.well-known/jwks.json"; c.JWKSURL != want || c.JWKS != nil {
			t.Errorf("direct mode fetches keys from %q, want the user pool's %q", c.JWKSURL, want)
		}
		// Every token kind the template offers starts.
		uses, _ := mapAt(tpl.Tree, "Parameters", "DirectTokenUse")["AllowedValues"].([]any)
		if len(uses) == 0 {
			t.Fatal("no DirectTokenUse parameter with AllowedValues")
		}
		for _, u := range uses {
			env["SHORTFUSE_DIRECT_TOKEN_USE"] = scalarString(u)
			if _, err := authorizer.LoadConfig(config.FromMap(env)); err != nil {
				t.Errorf("DirectTokenUse=%v: direct mode would not start: %v", u, err)
			}
		}
		// CognitoIssuers, set, replaces the derived issuer: several pools,
		// or the multi-Region form.
		env["SHORTFUSE_COGNITO_ISSUER"] = "https://issuer-cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Abc123XyZ,https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other1"
		if _, err := authorizer.LoadConfig(config.FromMap(env)); err != nil {
			t.Errorf("CognitoIssuers with two pools: direct mode would not start: %v", err)
		}
	})
}

// TestDeployedConfigBounds deploys, in thought, with every Number parameter
// at its MinValue, then at its MaxValue (a billion when it has none): each
// function must start, so that a value the template accepts is never one
// the code refuses at its first cold start. The extremes are consistent
// with each other (grace >= poll, idle <= max session, retention >= token
// lifetime) when the bounds are.
func TestDeployedConfigBounds(t *testing.T) {
	tpl := template(t)
	params := mapAt(tpl.Tree, "Parameters")
	for _, bound := range []string{"MinValue", "MaxValue"} {
		values := map[string]string{}
		for _, name := range sortedKeys(params) {
			p, _ := params[name].(map[string]any)
			if p["Type"] != "Number" || p["AllowedValues"] != nil {
				continue
			}
			v, ok := p[bound]
			switch {
			case ok:
				values[name] = scalarString(v)
			case bound == "MaxValue":
				values[name] = "1000000000"
			}
		}
		t.Run(bound, func(t *testing.T) {
			for _, f := range Functions {
				if err := loadDeployed(t, f.LogicalID, deployedEnv(t, tpl, f.LogicalID, values)); err != nil {
					t.Errorf("%s would not start with every Number parameter at its %s:\n%v\n(give the parameter the bound the code enforces)", f.LogicalID, bound, err)
				}
			}
		})
	}
}

// loadDeployed loads a function's configuration with its own loaders, as
// its constructor does at init (without the I/O that follows).
func loadDeployed(t *testing.T, fn string, env map[string]string) error {
	t.Helper()
	load := map[string]func(env *config.Env) error{
		"PreSignUpFunction": func(env *config.Env) error {
			triggerenv.Load(env)
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
			triggerenv.Load(env)
			customauth.LoadConfig(env)
			mail.LoadConfig(env)
			templates.LoadConfig(env)
			return env.Err()
		},
		"VerifyAuthChallengeFunction": func(env *config.Env) error {
			triggerenv.Load(env)
			customauth.LoadConfig(env)
			return env.Err()
		},
		"CognitoEventsFunction": func(env *config.Env) error {
			_, err := cognitoevents.LoadConfig(env)
			return err
		},
		"TokenServiceFunction": func(env *config.Env) error {
			_, err := tokensvc.LoadConfig(env)
			return err
		},
		"AuthorizerFunction": func(env *config.Env) error {
			want := env.String("SHORTFUSE_AUTHORIZER_SHAPE", "")
			c, err := authorizer.LoadConfig(env)
			if err == nil && string(c.Shape) != want {
				t.Errorf("authorizer shape %q, want the template's %q", c.Shape, want)
			}
			return err
		},
	}
	l, ok := load[fn]
	if !ok {
		t.Fatalf("no loader for %s", fn)
	}
	// Start-up reads the common settings first (function.New).
	e := config.FromMap(env)
	e.Common()
	return l(e)
}
