package pooltriggers

import (
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider/types"
)

// fill sets every field of the struct v points to a non-zero value.
func fill(t *testing.T, v reflect.Value) {
	t.Helper()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !f.CanSet() {
			continue
		}
		switch f.Kind() {
		case reflect.Pointer:
			f.Set(reflect.New(f.Type().Elem()))
			if e := f.Elem(); e.Kind() == reflect.String {
				e.SetString("x")
			}
		case reflect.String:
			f.SetString("x")
		case reflect.Slice:
			f.Set(reflect.MakeSlice(f.Type(), 1, 1))
		case reflect.Map:
			f.Set(reflect.MakeMap(f.Type()))
			f.SetMapIndex(reflect.New(f.Type().Key()).Elem(), reflect.New(f.Type().Elem()).Elem())
		case reflect.Int32, reflect.Int64, reflect.Int:
			f.SetInt(1)
		case reflect.Bool:
			f.SetBool(true)
		}
	}
}

// TestUpdateInputCopiesEverySetting: every field of UpdateUserPoolInput is
// filled from a DescribeUserPool answer, so an SDK that learns a new
// setting fails here instead of resetting it in users' pools.
func TestUpdateInputCopiesEverySetting(t *testing.T) {
	var pool types.UserPoolType
	fill(t, reflect.ValueOf(&pool).Elem())
	in := UpdateInput(&pool, &types.LambdaConfigType{PreSignUp: aws.String("arn:x")})
	v := reflect.ValueOf(in).Elem()
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		if !v.Field(i).CanInterface() || name == "noSmithyDocumentSerde" {
			continue
		}
		if v.Field(i).IsZero() {
			t.Errorf("UpdateUserPoolInput.%s is not copied from DescribeUserPool: UpdateUserPool would reset it", name)
		}
	}
}

func TestUpdateInputDropsDeprecatedValidity(t *testing.T) {
	pool := types.UserPoolType{
		Id:                    aws.String("p"),
		AdminCreateUserConfig: &types.AdminCreateUserConfigType{AllowAdminCreateUserOnly: true, UnusedAccountValidityDays: 7},
		Policies:              &types.UserPoolPolicyType{PasswordPolicy: &types.PasswordPolicyType{TemporaryPasswordValidityDays: 7}},
	}
	in := UpdateInput(&pool, nil)
	if in.AdminCreateUserConfig.UnusedAccountValidityDays != 0 || !in.AdminCreateUserConfig.AllowAdminCreateUserOnly ||
		pool.AdminCreateUserConfig.UnusedAccountValidityDays != 7 {
		t.Fatalf("%+v / %+v", in.AdminCreateUserConfig, pool.AdminCreateUserConfig)
	}
}
