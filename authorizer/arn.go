package authorizer

import (
	"errors"
	"strings"
)

// MethodARN is an execute-api ARN as API Gateway passes it (methodArn,
// routeArn): arn:PARTITION:execute-api:REGION:ACCOUNT:API/STAGE/VERB/PATH.
type MethodARN struct {
	// Prefix is everything up to and including the stage; policy resources
	// are built on it so that they name the same API and stage.
	Prefix string
	// Resource is "VERB/PATH", e.g. "GET/hello" ("GET/" for the root).
	Resource string
}

var errARN = errors.New("authorizer: malformed method ARN")

// ParseMethodARN splits an execute-api ARN.
func ParseMethodARN(s string) (MethodARN, error) {
	if len(s) > 2048 || !strings.HasPrefix(s, "arn:") {
		return MethodARN{}, errARN
	}
	// arn : partition : service : region : account : rest
	rest := s
	var fields [5]string
	for i := range fields {
		var ok bool
		fields[i], rest, ok = strings.Cut(rest, ":")
		if !ok {
			return MethodARN{}, errARN
		}
	}
	if fields[1] == "" || fields[2] != "execute-api" || fields[3] == "" || fields[4] == "" ||
		strings.Contains(fields[1]+fields[3]+fields[4], "/") {
		return MethodARN{}, errARN
	}
	api, after, ok := strings.Cut(rest, "/")
	if !ok || api == "" {
		return MethodARN{}, errARN
	}
	stage, resource, ok := strings.Cut(after, "/")
	if !ok || stage == "" || resource == "" || strings.HasPrefix(resource, "/") {
		return MethodARN{}, errARN
	}
	verb, _, _ := strings.Cut(resource, "/")
	if verb == "" {
		return MethodARN{}, errARN
	}
	prefix := s[:len(s)-len(resource)-1]
	// The prefix is copied into every policy resource; an IAM wildcard in
	// it would extend the policy to other APIs, stages or accounts.
	if strings.ContainsAny(prefix, "*?") {
		return MethodARN{}, errARN
	}
	if !strings.Contains(resource, "/") {
		resource += "/"
	}
	return MethodARN{Prefix: prefix, Resource: resource}, nil
}
