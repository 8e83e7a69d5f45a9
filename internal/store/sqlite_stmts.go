package store

import (
	"container/list"
	"context"
	"database/sql/driver"
)

// SQLite compiles every statement it runs. database/sql hands a query
// that is not a prepared statement (every GORM write, every statement of
// River's driver) to the connection as text, and modernc.org/sqlite
// compiles it again on each call: River's job insert alone took a third of
// a millisecond to parse, a quarter of a request that queues a job. The
// connector below keeps, per connection, the compiled statements of the
// texts it ran last, so a text seen before runs at once.
//
// PostgreSQL needs none of this: pgx keeps its own statement cache.

// stmtCacheSize is how many compiled statements each connection keeps.
// The store runs a few dozen distinct texts in a steady state; the least
// recently used one goes first.
const stmtCacheSize = 128

// stmtCacheMaxText is the longest text kept. A longer one is a bulk write
// built for its rows (a seed's thousand-row INSERT), rarely run twice;
// kept, a few of them would hold megabytes.
const stmtCacheMaxText = 8 << 10

// cachingConnector opens connections of base that keep their statements.
type cachingConnector struct{ base driver.Connector }

func (c cachingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	full, ok := conn.(sqliteConn)
	if !ok {
		// Not the connection this was written for: run it as it is.
		return conn, nil
	}
	return &cachingConn{sqliteConn: full, byText: map[string]*list.Element{}, order: list.New()}, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.base.Driver() }

// sqliteConn is every optional interface modernc.org/sqlite's connection
// implements; the wrapper forwards them all, so database/sql keeps its
// context-aware paths.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachedStmt is one compiled statement of a connection. busy is set while
// rows read from it are open: a second query of the same text then (a
// nested read in one transaction) compiles its own.
type cachedStmt struct {
	text string
	stmt interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}
	busy bool
	// evicted: dropped from the cache while busy; closed when its rows are.
	evicted bool
}

// cachingConn is a connection that keeps its compiled statements.
// database/sql uses a connection from one goroutine at a time (rows are
// closed under the same lock), so it needs no lock of its own.
type cachingConn struct {
	sqliteConn
	byText map[string]*list.Element
	order  *list.List // of *cachedStmt, most recently used first
}

// Unwrap returns the driver's own connection.
func (c *cachingConn) Unwrap() driver.Conn { return c.sqliteConn }

// take returns the connection's idle compiled statement of text, compiling
// and keeping one when there is none. It returns nil when text is already
// in use, or too long to keep, and the caller should run it the usual way.
func (c *cachingConn) take(ctx context.Context, text string) (*cachedStmt, error) {
	if len(text) > stmtCacheMaxText {
		return nil, nil
	}
	if el, ok := c.byText[text]; ok {
		s := el.Value.(*cachedStmt)
		if s.busy {
			return nil, nil
		}
		c.order.MoveToFront(el)
		return s, nil
	}
	ds, err := c.PrepareContext(ctx, text)
	if err != nil {
		return nil, err
	}
	st, ok := ds.(interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	})
	if !ok {
		_ = ds.Close()
		return nil, nil
	}
	s := &cachedStmt{text: text, stmt: st}
	c.byText[text] = c.order.PushFront(s)
	for c.order.Len() > stmtCacheSize {
		c.evict(c.order.Back())
	}
	return s, nil
}

// evict drops el's statement from the cache, closing it unless rows read
// from it are still open.
func (c *cachingConn) evict(el *list.Element) {
	s := el.Value.(*cachedStmt)
	c.order.Remove(el)
	delete(c.byText, s.text)
	if s.busy {
		s.evicted = true
		return
	}
	_ = s.stmt.Close()
}

func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	return s.stmt.ExecContext(ctx, args)
}

func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.take(ctx, query)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	full, ok := rows.(sqliteRows)
	if !ok {
		_ = rows.Close()
		return nil, driver.ErrSkip
	}
	s.busy = true
	return &cachedRows{sqliteRows: full, s: s}, nil
}

// Close closes the connection's compiled statements, then the connection.
func (c *cachingConn) Close() error {
	for el := c.order.Front(); el != nil; el = el.Next() {
		_ = el.Value.(*cachedStmt).stmt.Close()
	}
	c.order.Init()
	clear(c.byText)
	return c.sqliteConn.Close()
}

// sqliteRows is every optional interface modernc.org/sqlite's rows
// implement.
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// cachedRows are rows read from a kept statement; closing them makes the
// statement free for the next query of its text.
type cachedRows struct {
	sqliteRows
	s *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.sqliteRows.Close()
	r.s.busy = false
	if r.s.evicted {
		_ = r.s.stmt.Close()
	}
	return err
}
