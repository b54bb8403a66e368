package store

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// itemFromJSON reads an item in DynamoDB's JSON wire form
// ({"name": {"S": "x"}, ...}), the shape in which items leave the table.
func itemFromJSON(data []byte) (item, error) {
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, err
	}
	it := item{}
	for k, v := range raw {
		av, err := attrFromJSON(v, 0)
		if err != nil {
			return nil, err
		}
		it[k] = av
	}
	return it, nil
}

func attrFromJSON(v any, depth int) (types.AttributeValue, error) {
	if depth > 32 {
		return nil, errors.New("too deep")
	}
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return nil, errors.New("want an object with one type key")
	}
	for typ, val := range m {
		switch typ {
		case "S":
			s, ok := val.(string)
			if !ok {
				return nil, errors.New("S")
			}
			return &types.AttributeValueMemberS{Value: s}, nil
		case "N":
			s, ok := val.(string)
			if !ok {
				return nil, errors.New("N")
			}
			return &types.AttributeValueMemberN{Value: s}, nil
		case "B":
			s, ok := val.(string)
			if !ok {
				return nil, errors.New("B")
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, err
			}
			return &types.AttributeValueMemberB{Value: b}, nil
		case "BOOL":
			b, ok := val.(bool)
			if !ok {
				return nil, errors.New("BOOL")
			}
			return &types.AttributeValueMemberBOOL{Value: b}, nil
		case "NULL":
			return &types.AttributeValueMemberNULL{Value: true}, nil
		case "SS":
			l, ok := val.([]any)
			if !ok {
				return nil, errors.New("SS")
			}
			var ss []string
			for _, e := range l {
				s, _ := e.(string)
				ss = append(ss, s)
			}
			return &types.AttributeValueMemberSS{Value: ss}, nil
		case "L":
			l, ok := val.([]any)
			if !ok {
				return nil, errors.New("L")
			}
			out := make([]types.AttributeValue, 0, len(l))
			for _, e := range l {
				av, err := attrFromJSON(e, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, av)
			}
			return &types.AttributeValueMemberL{Value: out}, nil
		case "M":
			mm, ok := val.(map[string]any)
			if !ok {
				return nil, errors.New("M")
			}
			out := map[string]types.AttributeValue{}
			for k, e := range mm {
				av, err := attrFromJSON(e, depth+1)
				if err != nil {
					return nil, err
				}
				out[k] = av
			}
			return &types.AttributeValueMemberM{Value: out}, nil
		}
	}
	return nil, errors.New("unknown type")
}

// itemToJSON is the inverse of itemFromJSON for the types the store writes.
func itemToJSON(it item) []byte {
	out := map[string]any{}
	for k, v := range it {
		out[k] = attrToJSON(v)
	}
	b, _ := json.Marshal(out)
	return b
}

func attrToJSON(av types.AttributeValue) any {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *types.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *types.AttributeValueMemberB:
		return map[string]any{"B": v.Value} // encoding/json writes []byte as base64
	case *types.AttributeValueMemberNULL:
		return map[string]any{"NULL": true}
	case *types.AttributeValueMemberL:
		l := make([]any, len(v.Value))
		for i, e := range v.Value {
			l[i] = attrToJSON(e)
		}
		return map[string]any{"L": l}
	}
	panic(fmt.Sprintf("unexpected %T", av))
}

// FuzzDecodeItem feeds arbitrary items, as they could come back from the
// table, to every decoder: none may panic, and whatever decodes must survive
// a round trip through the encoder unchanged.
func FuzzDecodeItem(f *testing.F) {
	now := time.Unix(1_700_000_000, 0)
	f.Add(itemToJSON(sessionItem(testSession(now), 1_700_100_000)))
	f.Add(itemToJSON(sessionItem(&Session{ID: "s", Sub: "u", CreatedAt: now, IdleExpiresAt: now, AbsExpiresAt: now, RefreshHash: []byte{1}}, 0)))
	id, _ := newRevocationID(now)
	f.Add(itemToJSON(revocationItem(revlogPK, Revocation{ID: id, Kind: RevokeJTI, Value: "j", At: now, Until: now.Add(time.Minute)}, "8x2")))
	f.Add([]byte(`{"pk":{"S":"USER#u"},"sk":{"S":"STATE"},"revoked_at":{"N":"1700000000"},"ttl":{"N":"1"}}`))
	f.Add([]byte(`{"pk":{"S":"SESSION#s"},"sid":{"S":"s"},"sub":{"S":"u"},"created_at":{"N":"-1"},"abs_exp":{"N":"99999999999999999999"},"idle_exp":{"N":"1.5"},"refresh_hash":{"B":""}}`))
	f.Add([]byte(`{"sid":{"N":"1"},"groups":{"L":[{"S":"a"},{"N":"1"}]},"prev_hashes":{"L":[{"NULL":true},{"B":"AA=="},{"M":{}}]},"ttl":{"S":"x"}}`))
	f.Add([]byte(`{"sk":{"S":"00000000000000000001#zz"},"kind":{"S":"user"},"value":{"S":""},"at":{"N":""},"until":{"BOOL":true}}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		it, err := itemFromJSON(data)
		if err != nil {
			return
		}
		_ = expiredAt(it, now)
		d := decoder{it: it}
		_ = d.time(aRevokedAt)

		if s, err := decodeSession(it); err == nil {
			again, err := decodeSession(sessionItem(s, 0))
			if err != nil {
				t.Fatalf("re-decode of %+v: %v", s, err)
			}
			if fmt.Sprint(*again) != fmt.Sprint(*s) {
				t.Fatalf("session round trip:\n got %+v\nwant %+v", *again, *s)
			}
		}
		if r, l, err := decodeRevocation(it); err == nil {
			again, l2, err := decodeRevocation(revocationItem(revlogPK, r, l))
			if err != nil || again != r || (l != "" && l2 != l) {
				t.Fatalf("revocation round trip: %+v, %v; want %+v", again, err, r)
			}
		}
	})
}
