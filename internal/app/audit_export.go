package app

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// Audit export formats.
const (
	ExportCSV   = "csv"
	ExportJSONL = "jsonl"
)

// exportColumns are the CSV header and the JSONL keys, in order.
var exportColumns = []string{"id", "created_at", "workspace_id", "actor_id", "actor_email", "actor_name", "action",
	"family", "summary", "target_type", "target_id", "metadata", "ip", "user_agent", "request_id", "prev_hash", "hash"}

// exportFlushEvery is how many rows are written between flushes.
const exportFlushEvery = 1000

// ExportAudit writes every entry f selects to w in format (ExportCSV or
// ExportJSONL), newest first, as the service reads them: nothing is held
// but the current row, whatever the log's length. flush, when not nil, is
// called every exportFlushEvery rows and at the end, so a response streams.
// It returns how many entries it wrote. The HTTP handler and the command
// line both export through it.
func ExportAudit(ctx context.Context, svc AuditService, f AuditFilter, format string, w io.Writer, flush func()) (int64, error) {
	if format != ExportCSV && format != ExportJSONL {
		return 0, Errorf(EINVALID, "The export format must be csv or jsonl.")
	}
	var n int64
	cw := csv.NewWriter(w)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if format == ExportCSV {
		if err := cw.Write(exportColumns); err != nil {
			return 0, err
		}
	}
	rec := make([]string, len(exportColumns))
	err := svc.ExportAuditEntries(ctx, f, func(e *AuditEntry) error {
		md := "{}"
		if len(e.Metadata) > 0 {
			b, _ := json.Marshal(e.Metadata)
			md = string(b)
		}
		if format == ExportCSV {
			vals := []string{strconv.FormatInt(e.ID, 10), e.CreatedAt.UTC().Format(time.RFC3339Nano),
				strconv.FormatInt(e.WorkspaceID, 10), strconv.FormatInt(e.ActorID, 10), e.ActorEmail, e.ActorName,
				e.Action, string(e.Family()), e.Summary(), e.TargetType, e.TargetID, md, e.IP, e.UserAgent, e.RequestID,
				e.PrevHash, e.Hash}
			for i, v := range vals {
				rec[i] = SafeCSVCell(v)
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		} else {
			if err := enc.Encode(exportLine{ID: e.ID, CreatedAt: e.CreatedAt.UTC().Format(time.RFC3339Nano),
				WorkspaceID: e.WorkspaceID, ActorID: e.ActorID, ActorEmail: e.ActorEmail, ActorName: e.ActorName,
				Action: e.Action, Family: string(e.Family()), Summary: e.Summary(), TargetType: e.TargetType,
				TargetID: e.TargetID, Metadata: json.RawMessage(md), IP: e.IP, UserAgent: e.UserAgent,
				RequestID: e.RequestID, PrevHash: e.PrevHash, Hash: e.Hash}); err != nil {
				return err
			}
		}
		n++
		if n%exportFlushEvery == 0 {
			cw.Flush()
			if err := cw.Error(); err != nil {
				return err
			}
			if flush != nil {
				flush()
			}
		}
		return nil
	})
	cw.Flush()
	if flush != nil {
		flush()
	}
	if err != nil {
		return n, err
	}
	return n, cw.Error()
}

// exportLine is one JSONL line; its keys are exportColumns.
type exportLine struct {
	ID          int64           `json:"id"`
	CreatedAt   string          `json:"created_at"`
	WorkspaceID int64           `json:"workspace_id"`
	ActorID     int64           `json:"actor_id"`
	ActorEmail  string          `json:"actor_email"`
	ActorName   string          `json:"actor_name"`
	Action      string          `json:"action"`
	Family      string          `json:"family"`
	Summary     string          `json:"summary"`
	TargetType  string          `json:"target_type"`
	TargetID    string          `json:"target_id"`
	Metadata    json.RawMessage `json:"metadata"`
	IP          string          `json:"ip"`
	UserAgent   string          `json:"user_agent"`
	RequestID   string          `json:"request_id"`
	PrevHash    string          `json:"prev_hash"`
	Hash        string          `json:"hash"`
}

// SafeCSVCell returns v so that a spreadsheet never reads it as a formula:
// a cell starting with =, +, -, @, a tab or a carriage return gets a
// leading apostrophe.
func SafeCSVCell(v string) string {
	if v != "" {
		switch v[0] {
		case '=', '+', '-', '@', '\t', '\r':
			return "'" + v
		}
	}
	return v
}

// ExportFilename names an export of a workspace's log on a day:
// "audit-acme-2026-11-29.csv".
func ExportFilename(slug, format string, day time.Time) string {
	if slug == "" {
		slug = "all"
	}
	return "audit-" + slug + "-" + day.UTC().Format(time.DateOnly) + "." + format
}
