package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"atrium/internal/app"
)

// errUnavailable is what a user sees when the database connection failed:
// the request may succeed if tried again.
var errUnavailable = app.Errorf(app.EUNAVAILABLE, "The database is not answering right now. Please try again in a moment.")

// markUnavailable registers GORM callbacks that turn a lost or refused
// database connection into an EUNAVAILABLE app error (a 503 page) that
// still wraps the driver's error for the log.
func (db *DB) markUnavailable() error {
	mark := func(tx *gorm.DB) { tx.Error = asUnavailable(tx.Error) }
	cb := db.gorm.Callback()
	for _, err := range []error{
		cb.Query().After("gorm:query").Register("atrium:unavailable_query", mark),
		cb.Row().After("gorm:row").Register("atrium:unavailable_row", mark),
		cb.Raw().After("gorm:raw").Register("atrium:unavailable_raw", mark),
		cb.Create().After("gorm:create").Register("atrium:unavailable_create", mark),
		cb.Update().After("gorm:update").Register("atrium:unavailable_update", mark),
		cb.Delete().After("gorm:delete").Register("atrium:unavailable_delete", mark),
	} {
		if err != nil {
			return fmt.Errorf("register connection-error mapping: %w", err)
		}
	}
	return nil
}

// asUnavailable wraps err in errUnavailable when it is a connection
// failure not already given an app code; otherwise it returns err as is.
// Transactions pass through it too: their BEGIN and COMMIT run outside
// the statement callbacks.
func asUnavailable(err error) error {
	if err != nil && app.ErrorCode(err) == app.EINTERNAL && isConnectionError(err) {
		return fmt.Errorf("%w: %w", errUnavailable, err)
	}
	return err
}

// isConnectionError reports whether err means the connection to the
// database was lost or could not be made, rather than that the statement
// was wrong.
func isConnectionError(err error) bool {
	if errors.Is(err, context.Canceled) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// 08: connection exception; 57P01-57P03: the server is shutting
		// down, was told to end the backend, or cannot take connections.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) || errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || pgconn.Timeout(err) ||
		strings.Contains(err.Error(), "conn closed")
}
