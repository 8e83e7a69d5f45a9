package server

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"atrium/internal/i18n"
	"atrium/internal/server/api"
	"atrium/web/page"
)

// apiMethodOrder is the order an API path's operations are listed in.
var apiMethodOrder = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// handleAPIDocs handles "GET /api/v1/docs": the API reference rendered on
// the server from the OpenAPI document (every operation with its
// parameters, body and responses, and every model), so it works offline
// and under the site's script-src 'self' policy.
func (s *Server) handleAPIDocs(oa *openapi3.T) http.HandlerFunc {
	v := apiDocsView(oa)
	return func(w http.ResponseWriter, r *http.Request) {
		s.render(w, r, http.StatusOK, page.APIDocs(s.publicPage(w, r, i18n.T(r.Context(), "apidocs.title"), "docs"), v))
	}
}

// apiDocsView builds the reference from the document.
func apiDocsView(oa *openapi3.T) page.APIDocsView {
	v := page.APIDocsView{Title: oa.Info.Title, Description: oa.Info.Description, Version: oa.Info.Version,
		SpecURL: "/api/v1/openapi.json"}
	if len(oa.Servers) > 0 {
		v.BaseURL = oa.Servers[0].URL
	}
	for path, item := range oa.Paths.Map() {
		for _, m := range apiMethodOrder {
			if op := item.GetOperation(m); op != nil {
				v.Operations = append(v.Operations, apiDocsOperation(m, path, item, op))
			}
		}
	}
	slices.SortFunc(v.Operations, func(a, b page.APIOperation) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return slices.Index(apiMethodOrder, a.Method) - slices.Index(apiMethodOrder, b.Method)
	})
	for name, ref := range oa.Components.Schemas {
		if ref.Value == nil {
			continue
		}
		m := page.APIModel{Name: name, Description: ref.Value.Description}
		for _, prop := range slices.Sorted(maps.Keys(ref.Value.Properties)) {
			typ, model := schemaType(ref.Value.Properties[prop])
			m.Fields = append(m.Fields, page.APIField{Name: prop, Type: typ, Model: model,
				Required: slices.Contains(ref.Value.Required, prop), Description: schemaDescription(ref.Value.Properties[prop])})
		}
		v.Models = append(v.Models, m)
	}
	slices.SortFunc(v.Models, func(a, b page.APIModel) int { return strings.Compare(a.Name, b.Name) })
	return v
}

// apiDocsOperation describes one operation: its parameters, body and
// responses.
func apiDocsOperation(method, path string, item *openapi3.PathItem, op *openapi3.Operation) page.APIOperation {
	o := page.APIOperation{ID: op.OperationID, Method: method, Path: path, Summary: op.Summary, Scope: api.Scope(op)}
	for _, ref := range append(slices.Clone(item.Parameters), op.Parameters...) {
		p := ref.Value
		if p == nil {
			continue
		}
		typ, model := schemaType(p.Schema)
		desc := p.Description
		if desc == "" {
			desc = schemaDescription(p.Schema)
		}
		o.Params = append(o.Params, page.APIField{Name: p.Name, In: p.In, Type: typ, Model: model, Required: p.Required, Description: desc})
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		if mt := op.RequestBody.Value.Content.Get("application/json"); mt != nil {
			_, o.Body = schemaType(mt.Schema)
		}
	}
	for _, code := range slices.Sorted(maps.Keys(op.Responses.Map())) {
		ref := op.Responses.Value(code)
		if ref == nil || ref.Value == nil {
			continue
		}
		r := page.APIResponse{Status: code, Description: deref(ref.Value.Description)}
		for ct, mt := range ref.Value.Content {
			_, r.Model = schemaType(mt.Schema)
			r.Problem = ct == "application/problem+json"
		}
		o.Responses = append(o.Responses, r)
	}
	return o
}

// schemaType names a schema's type for a reader, with its bounds, enum
// and default, and the model it refers to, if any.
func schemaType(ref *openapi3.SchemaRef) (typ, model string) {
	if ref == nil {
		return "any", ""
	}
	if ref.Ref != "" {
		name := ref.Ref[strings.LastIndex(ref.Ref, "/")+1:]
		return name, name
	}
	sc := ref.Value
	if sc == nil || sc.Type == nil || len(*sc.Type) == 0 {
		return "any", ""
	}
	typ = (*sc.Type)[0]
	switch {
	case sc.Type.Is("array"):
		inner, m := schemaType(sc.Items)
		return "array of " + inner, m
	case sc.Type.Is("object") && sc.AdditionalProperties.Schema != nil || sc.Type.Is("object") && len(sc.Properties) == 0:
		return "object", ""
	}
	var notes []string
	if sc.Format != "" && sc.Format != "int64" {
		notes = append(notes, sc.Format)
	}
	if sc.Min != nil && sc.Max != nil {
		notes = append(notes, fmt.Sprintf("%g–%g", *sc.Min, *sc.Max))
	} else if sc.Min != nil {
		notes = append(notes, fmt.Sprintf("at least %g", *sc.Min))
	}
	if sc.MaxLength != nil {
		notes = append(notes, "at most "+strconv.FormatUint(*sc.MaxLength, 10)+" characters")
	}
	if len(sc.Enum) > 0 {
		var vals []string
		for _, e := range sc.Enum {
			if s := fmt.Sprint(e); s != "" {
				vals = append(vals, s)
			} else {
				vals = append(vals, `"" (none)`)
			}
		}
		notes = append(notes, "one of "+strings.Join(vals, ", "))
	}
	if sc.Default != nil {
		notes = append(notes, fmt.Sprintf("default %v", sc.Default))
	}
	if len(notes) > 0 {
		typ += " (" + strings.Join(notes, "; ") + ")"
	}
	return typ, ""
}

// schemaDescription is a schema's description, "" for a reference.
func schemaDescription(ref *openapi3.SchemaRef) string {
	if ref == nil || ref.Ref != "" || ref.Value == nil {
		return ""
	}
	return ref.Value.Description
}
