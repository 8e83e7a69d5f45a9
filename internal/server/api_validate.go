package server

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/go-chi/chi/v5"

	"atrium/internal/server/api"
)

// apiValidate checks a request against its operation in the document:
// parameters (types, bounds) and the body's schema (required fields, enums,
// no unknown fields). A body that is not JSON is a 400, anything else the
// document refuses a 422 listing each problem where it is.
func (s *Server) apiValidate(r *http.Request, spec *openapi3.T, item *openapi3.PathItem, op *openapi3.Operation, rctx *chi.Context) *apiProblemError {
	params := make(map[string]string, len(rctx.URLParams.Keys))
	for i, k := range rctx.URLParams.Keys {
		params[k] = rctx.URLParams.Values[i]
	}
	in := &openapi3filter.RequestValidationInput{Request: r, PathParams: params,
		Route: &routers.Route{Spec: spec, Path: rctx.RoutePattern(), PathItem: item, Method: r.Method, Operation: op},
		Options: &openapi3filter.Options{MultiError: true, SkipSettingDefaults: true,
			AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}}
	err := openapi3filter.ValidateRequest(context.WithoutCancel(r.Context()), in)
	if err == nil {
		return nil
	}
	return s.apiRequestError(err)
}

// errNotJSON is the 400 of a body that is not JSON.
var errNotJSON = &apiProblemError{Status: http.StatusBadRequest, Detail: "The body is not valid JSON."}

// apiRequestError describes what is wrong with a request: from the
// document's validation, or from the generated code's binding of a
// parameter (which the validation has normally caught first).
func (s *Server) apiRequestError(err error) *apiProblemError {
	var details []apiErrorDetail
	notJSON := false
	var walk func(err error)
	walk = func(err error) {
		// A request error wraps the schema's errors, so it is looked at
		// before any list of errors it may hold.
		if multi, ok := err.(openapi3.MultiError); ok {
			for _, e := range multi {
				walk(e)
			}
			return
		}
		var re *openapi3filter.RequestError
		if errors.As(err, &re) {
			var pe *openapi3filter.ParseError
			if re.RequestBody != nil && errors.As(re.Err, &pe) {
				notJSON = true
				return
			}
			loc := "body"
			if re.Parameter != nil {
				loc = re.Parameter.In + "." + re.Parameter.Name
				if errors.As(re.Err, &pe) {
					msg := "This value is not valid here."
					if sch := re.Parameter.Schema; sch != nil && sch.Value != nil && sch.Value.Type.Is("integer") {
						msg = "Give a whole number."
					}
					details = append(details, apiErrorDetail{Location: loc, Message: msg})
					return
				}
			}
			var inner openapi3.MultiError
			if errors.As(re.Err, &inner) {
				for _, e := range inner {
					details = append(details, schemaDetail(loc, e))
				}
				return
			}
			details = append(details, schemaDetail(loc, re.Err))
			return
		}
		var param *api.InvalidParamFormatError
		if errors.As(err, &param) {
			details = append(details, apiErrorDetail{Location: "query." + param.ParamName, Message: "This value is not valid here."})
			return
		}
		var tooMany *api.TooManyValuesForParamError
		if errors.As(err, &tooMany) {
			details = append(details, apiErrorDetail{Location: "query." + tooMany.ParamName, Message: "Give this parameter once."})
			return
		}
		details = append(details, apiErrorDetail{Message: "The request is not valid."})
	}
	walk(err)
	if notJSON {
		return errNotJSON
	}
	return &apiProblemError{Status: http.StatusUnprocessableEntity, Detail: "The request is not valid.", Errors: details}
}

// schemaDetail places a schema error under loc: body.email, query.limit.
func schemaDetail(loc string, err error) apiErrorDetail {
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		if ptr := se.JSONPointer(); len(ptr) > 0 && strings.HasPrefix(loc, "body") {
			loc += "." + strings.Join(ptr, ".")
		}
		msg := se.Reason
		if msg == "" {
			msg = se.Error()
		}
		return apiErrorDetail{Location: loc, Message: sentence(msg)}
	}
	if err == nil {
		return apiErrorDetail{Location: loc, Message: "This value is not valid here."}
	}
	return apiErrorDetail{Location: loc, Message: sentence(err.Error())}
}

// sentence makes a validator's message read as one: a capital first
// letter and a full stop.
func sentence(msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return msg
	}
	msg = strings.ToUpper(msg[:1]) + msg[1:]
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
