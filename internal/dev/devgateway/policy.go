package devgateway

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/aws/aws-lambda-go/events"
)

// PolicyAllows evaluates an authorizer's IAM policy for one execute-api ARN
// the way API Gateway does: the request proceeds only when an Allow
// statement matches it and no Deny statement does. Actions and resources
// use IAM wildcards: * matches any run of characters (slashes included) and
// ? any one character.
func PolicyAllows(doc events.APIGatewayCustomAuthorizerPolicy, arn string) bool {
	allowed := false
	for _, st := range doc.Statement {
		if !anyMatch(st.Action, "execute-api:Invoke") || !anyMatch(st.Resource, arn) {
			continue
		}
		switch st.Effect {
		case "Deny":
			return false
		case "Allow":
			allowed = true
		}
	}
	return allowed
}

func anyMatch(patterns []string, s string) bool {
	for _, p := range patterns {
		if wildcardMatch(p, s) {
			return true
		}
	}
	return false
}

// wildcardMatch reports whether s matches the IAM pattern p.
func wildcardMatch(p, s string) bool {
	pi, si := 0, 0
	star, mark := -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			pi++
			si++
		case star >= 0:
			pi = star + 1
			mark++
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}

// stringOrList decodes an IAM field that may be a string or a list.
type stringOrList []string

func (s *stringOrList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = []string{v}
		return nil
	}
	var v []string
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*s = v
	return nil
}

// policyResponse is the IAM-policy authorizer response as API Gateway reads
// it: lenient about string-or-list fields, strict about everything else.
type policyResponse struct {
	PrincipalID    string `json:"principalId"`
	PolicyDocument struct {
		Version   string
		Statement []struct {
			Action   stringOrList
			Effect   string
			Resource stringOrList
		}
	} `json:"policyDocument"`
	Context map[string]any `json:"context"`
}

func parsePolicyResponse(b []byte) (events.APIGatewayCustomAuthorizerPolicy, string, map[string]any, error) {
	var r policyResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return events.APIGatewayCustomAuthorizerPolicy{}, "", nil, err
	}
	if len(r.PolicyDocument.Statement) == 0 {
		return events.APIGatewayCustomAuthorizerPolicy{}, "", nil, errors.New("policy document without statements")
	}
	doc := events.APIGatewayCustomAuthorizerPolicy{Version: r.PolicyDocument.Version}
	for _, st := range r.PolicyDocument.Statement {
		doc.Statement = append(doc.Statement, events.IAMPolicyStatement{Action: st.Action, Effect: st.Effect, Resource: st.Resource})
	}
	return doc, r.PrincipalID, r.Context, nil
}
