package store

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// qSecret names the statement reading a key kept in the database.
const qSecret = "app_secret"

// secretQueries are the catalog's statements about kept keys.
var secretQueries = map[string]hotQuery{
	qSecret: {SQL: `SELECT value FROM app_secrets WHERE name = ?`},
}

// Secret returns the named key kept in the database, making it (32 random
// bytes) the first time it is asked for. Instances that start at the same
// time agree on one key: the first insert wins and everyone reads it back.
func (db *DB) Secret(ctx context.Context, name string) ([]byte, error) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	g := db.gorm.WithContext(ctx)
	if err := g.Exec("INSERT INTO app_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING",
		name, base64.StdEncoding.EncodeToString(b), db.now()).Error; err != nil {
		return nil, fmt.Errorf("create secret %q: %w", name, err)
	}
	var value string
	if err := db.queryRow(ctx, nil, qSecret, name).Scan(&value); err != nil {
		return nil, fmt.Errorf("read secret %q: %w", name, err)
	}
	key, err := base64.StdEncoding.DecodeString(value)
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("secret %q in app_secrets is not 32 base64-encoded bytes", name)
	}
	return key, nil
}
