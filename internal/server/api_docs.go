package server

import (
	"net/http"
	"slices"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"atrium/web/page"
)

// apiMethodOrder is the order an API path's operations are listed in.
var apiMethodOrder = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// handleAPIDocs handles "GET /api/v1/docs": the API reference rendered on
// the server from the OpenAPI document, so it works offline and under the
// site's script-src 'self' policy.
func (s *Server) handleAPIDocs(api huma.API) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		oa := api.OpenAPI()
		v := page.APIDocsView{Title: oa.Info.Title, Description: oa.Info.Description,
			SpecURL: "/api/v1/openapi.json", Spec30URL: "/api/v1/openapi-3.0.json"}
		if len(oa.Servers) > 0 {
			v.BaseURL = oa.Servers[0].URL
		}
		for path, item := range oa.Paths {
			for _, m := range apiMethodOrder {
				op := pathOperation(item, m)
				if op == nil || op.Hidden {
					continue
				}
				v.Operations = append(v.Operations, page.APIOperation{Method: m, Path: path, Summary: op.Summary, Secured: len(op.Security) > 0})
			}
		}
		slices.SortFunc(v.Operations, func(a, b page.APIOperation) int {
			if c := strings.Compare(a.Path, b.Path); c != 0 {
				return c
			}
			return slices.Index(apiMethodOrder, a.Method) - slices.Index(apiMethodOrder, b.Method)
		})
		s.render(w, r, http.StatusOK, page.APIDocs(s.publicPage(w, r, "API reference", "docs"), v))
	}
}

// pathOperation returns a path's operation for a method, or nil.
func pathOperation(item *huma.PathItem, method string) *huma.Operation {
	switch method {
	case "GET":
		return item.Get
	case "POST":
		return item.Post
	case "PUT":
		return item.Put
	case "PATCH":
		return item.Patch
	case "DELETE":
		return item.Delete
	}
	return nil
}
