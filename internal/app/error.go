// Package app holds Atrium's domain: users, sessions, audit entries, the
// rules that govern them and the service interfaces the store implements.
// It imports no other internal package.
package app

import (
	"errors"
	"fmt"
)

// Error codes. Anything that is not an *Error is treated as internal.
const (
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ERATELIMITED  = "rate_limited"
	EUNAVAILABLE  = "unavailable"
)

// Error is an error a user may see: its Message is safe to show. Field
// names the form field it is about, when there is one, so that a form can
// show the message beside it.
type Error struct {
	Code    string
	Message string
	Field   string
	// Format and Args are what Message was made from: pages translate
	// Format (its English text is its key in the errors catalog) and fill
	// it with Args. The API shows Message, which stays English.
	Format string
	Args   []any
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("atrium error: code=%s message=%s", e.Code, e.Message)
}

// Label is a word an English message names something by: a field ("the
// passkey name") or a role ("Admin"). Passed as an argument of Errorf or
// FieldErrorf, it is translated on pages like the message itself (its
// English text is its key in the errors catalog); any other argument is
// data and shown as it is.
type Label string

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Format: format, Args: args}
}

// FieldErrorf returns an EINVALID *Error about the named form field.
func FieldErrorf(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Message: fmt.Sprintf(format, args...), Field: field, Format: format, Args: args}
}

// ErrorField returns the form field err is about, or "".
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// ErrorCode returns the code of err when it is (or wraps) an *Error,
// EINTERNAL for any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-facing message of err. Internal errors get a
// generic message so that no detail leaks to a page.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong."
}
