package app

import (
	"context"
	"time"
)

// Email is a message to one recipient, rendered and ready to send.
type Email struct {
	To      string
	Subject string
	Text    string
	HTML    string
	// Ref ties the message to what it is about ("login", "invite:42") so a
	// page can say whether it was delivered.
	Ref string
	// LinkExpiresAt is when the link the message carries stops working
	// (zero when it carries none). Once it has passed, a message that could
	// not be delivered keeps no body.
	LinkExpiresAt time.Time
	// MessageID is the local part of a stable Message-ID, optional: the
	// mail job gives each queued email one, so that the copy sent
	// again after a crash (before its delivery was recorded) carries the
	// same id and mail clients show it once.
	MessageID string
}

// Sentence is a sentence an email shows, to be written in its
// recipient's language: the key of a message in the mail catalog and its
// placeholders as name, value pairs ("Name", "Laptop"). The store says
// what happened this way; the mail package writes it out.
type Sentence struct {
	Key  string
	Args []any
}

// Say returns the Sentence of key with args.
func Say(key string, args ...any) Sentence { return Sentence{Key: key, Args: args} }

// Outbox states.
const (
	OutboxPending = "pending"
	OutboxSent    = "sent"
	OutboxFailed  = "failed"
)

// OutboxMessage is an email stored for delivery.
type OutboxMessage struct {
	ID            int64
	Email         Email
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        time.Time
}

// OutboxService stores emails until they are delivered. Services that send
// mail store it and queue its delivery job in their own transaction; the
// job sends it.
type OutboxService interface {
	// EnqueueEmail stores a message and queues its delivery.
	EnqueueEmail(ctx context.Context, msg Email) error
	// FindEmail returns the message id, or nil when there is none.
	FindEmail(ctx context.Context, id int64) (*OutboxMessage, error)
	// MarkEmailSent records a delivery.
	MarkEmailSent(ctx context.Context, id int64, at time.Time) error
	// MarkEmailFailed records a failed attempt and when the queue tries
	// again; a zero retryAt gives the message up as failed.
	MarkEmailFailed(ctx context.Context, id int64, errMsg string, retryAt time.Time) error
}
