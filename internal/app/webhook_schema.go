package app

// EventSchemas returns the JSON Schema (draft 2020-12) of every event's
// payload, built from the event catalog: the document /docs/webhooks/events.json
// publishes. Each event is a $defs entry named "type.vN" whose "type" is the
// event's code; the top-level schema is one of them.
func EventSchemas() map[string]any {
	actor := map[string]any{
		"type":     "object",
		"required": []string{"type"},
		"properties": map[string]any{
			"type":  map[string]any{"enum": []string{"user", "api_key", "system"}, "description": "Who caused the event."},
			"id":    map[string]any{"type": "integer", "description": "The user's or API key's id."},
			"email": map[string]any{"type": "string", "description": "The user's email address."},
			"name":  map[string]any{"type": "string", "description": "The user's name, or the API key's label."},
		},
	}
	defs := map[string]any{"actor": actor}
	var oneOf []map[string]any
	for _, e := range eventCatalog {
		props := map[string]any{
			"workspace_id": map[string]any{"type": "integer", "description": "The workspace the event happened in."},
			"actor":        map[string]any{"$ref": "#/$defs/actor"},
			"target_id":    map[string]any{"type": "string", "description": "The id of what changed (invite, user, API key, endpoint), when there is one."},
		}
		required := []string{"workspace_id", "actor"}
		for _, f := range e.Fields {
			t := any(f.Type)
			if f.Type != "array" {
				t = []string{f.Type, "null"}
			}
			props[f.Name] = map[string]any{"type": t, "description": f.Description}
			required = append(required, f.Name)
		}
		name := e.Code + ".v" + itoa(e.Version)
		defs[name] = map[string]any{
			"type":        "object",
			"description": e.Description,
			"required":    []string{"type", "version", "timestamp", "data"},
			"properties": map[string]any{
				"type":      map[string]any{"const": e.Code},
				"version":   map[string]any{"const": e.Version},
				"timestamp": map[string]any{"type": "string", "format": "date-time", "description": "When the change happened (UTC)."},
				"data":      map[string]any{"type": "object", "required": required, "properties": props},
			},
		}
		oneOf = append(oneOf, map[string]any{"$ref": "#/$defs/" + name})
	}
	return map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"title":       "Atrium webhook events",
		"description": "The body of every webhook delivery. Deliveries are signed per the Standard Webhooks specification (webhook-id, webhook-timestamp, webhook-signature).",
		"oneOf":       oneOf,
		"$defs":       defs,
	}
}
