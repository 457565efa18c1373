package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/atollhq/atoll/internal/appconfig"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// customFunctionLogin passes the login body (without the SDK's options)
// to the provider's authentication function, which returns the external
// id as a string or as {id, name}. A throw is a 401 with the thrown
// message, as in App Services.
func (s *Service) customFunctionLogin(ctx context.Context, prov *appconfig.AuthProvider, clientIP string, body bson.D) (Identity, error) {
	if err := s.limit(ctx, clientIP, ""); err != nil {
		return Identity{}, err
	}
	name := ""
	if prov.Config != nil {
		name = prov.Config.AuthFunctionName
	}
	fn := s.functions()
	if fn == nil || name == "" {
		return Identity{}, s.internalError(ctx, "custom-function login",
			fmt.Errorf("authentication function %q cannot run: functions are not available", name))
	}
	res, err := fn.CallFunction(ctx, name, body)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return Identity{}, err
		}
		return Identity{}, &Error{Code: CodeAuthError, Message: err.Error(), Err: err}
	}
	var id, display string
	switch r := res.(type) {
	case string:
		id = r
	case bson.ObjectID:
		id = r.Hex()
	case bson.D:
		switch v := mustLookup(r, "id").(type) {
		case string:
			id = v
		case bson.ObjectID:
			id = v.Hex()
		}
		display, _ = lookupString(r, "name")
	case map[string]any:
		id, _ = r["id"].(string)
		display, _ = r["name"].(string)
	}
	if id == "" {
		return Identity{}, &Error{Code: CodeAuthError, Message: "authentication function did not return an id"}
	}
	ident := Identity{ID: id, ProviderType: ProviderCustomFunction}
	if display != "" {
		ident.ProviderData = bson.D{{Key: "name", Value: display}}
	}
	return ident, nil
}
