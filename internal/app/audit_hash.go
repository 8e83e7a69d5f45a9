package app

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
)

// AuditHashVersion names the canonical encoding AuditHash uses. A new
// encoding gets a new version; entries keep the version they were hashed
// with in their first field.
const AuditHashVersion = "v1"

// AuditCanonical returns the canonical encoding (version v1) of an entry's
// fields, the bytes its hash covers. Each field is written as its length
// in bytes in decimal, a colon, the bytes and a newline, in this order:
// the version "v1", workspace id, actor id (0 for none), actor email,
// actor name, action, target type, target id, metadata, IP, user agent,
// request id, and the creation time in Unix microseconds. Metadata is
// JSON with keys sorted and no spaces ("{}" when empty), so a database
// that reformats JSON (PostgreSQL's jsonb) does not change the hash. The
// row's id is not covered: its place is fixed by prev_hash.
func AuditCanonical(e *AuditEntry) []byte {
	md := []byte("{}")
	if len(e.Metadata) > 0 {
		if b, err := json.Marshal(e.Metadata); err == nil {
			md = b
		}
	}
	var b []byte
	field := func(s []byte) {
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		b = append(b, s...)
		b = append(b, '\n')
	}
	str := func(s string) { field([]byte(s)) }
	num := func(n int64) { field(strconv.AppendInt(nil, n, 10)) }
	str(AuditHashVersion)
	num(e.WorkspaceID)
	num(e.ActorID)
	str(e.ActorEmail)
	str(e.ActorName)
	str(e.Action)
	str(e.TargetType)
	str(e.TargetID)
	field(md)
	str(e.IP)
	str(e.UserAgent)
	str(e.RequestID)
	num(e.CreatedAt.UnixMicro())
	return b
}

// AuditHash returns the hex SHA-256 of prevHash (hex, "" for a chain's
// first entry) followed by the entry's canonical encoding.
func AuditHash(prevHash string, e *AuditEntry) string {
	h := sha256.New()
	h.Write([]byte(prevHash))
	h.Write(AuditCanonical(e))
	return hex.EncodeToString(h.Sum(nil))
}

// AuditChainHead is the newest entry of one hash chain: the entries of one
// workspace, or (WorkspaceID 0) those without a workspace.
type AuditChainHead struct {
	WorkspaceID int64
	HeadID      int64
	HeadHash    string
	// PrunedID and PrunedHash are the last entry removed by a prune: the
	// chain's first remaining entry links to PrunedHash.
	PrunedID   int64
	PrunedHash string
}
