package serve

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is what the handler answers instead of an image: an HTTP status, a
// stable code for programs and a message for people. Every refusal of the
// handler is an *Error; its body is the JSON object
//
//	{"status": 413, "code": "too_many_pixels", "message": "30000x30000 image ..."}
type Error struct {
	// Status is the HTTP status code.
	Status int `json:"status"`
	// Code is one of the Code constants.
	Code string `json:"code"`
	// Message says what was wrong and, where it helps, what to send instead.
	Message string `json:"message"`
	// Err is the underlying error, if any (not sent).
	Err error `json:"-"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("serve: %d %s: %s", e.Status, e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// The codes of Error. Client errors (4xx) are the caller's to fix; 429, 503
// and 504 ask to come back later or with a longer timeout; 500 is a fault of
// the server.
const (
	CodeBadParameter  = "bad_parameter"      // 400: task, tile, timeout or format not understood
	CodeBadRequest    = "bad_request"        // 400: empty body, a multipart form without an image
	CodeCorruptImage  = "corrupt_image"      // 400: a truncated or corrupt image file
	CodeNeedsTask     = "needs_task"         // 400: task auto with an explicit-prompt model that has no classifier
	CodeNotFound      = "not_found"          // 404: no such path
	CodeMethod        = "method_not_allowed" // 405: e.g. GET /v1/restore
	CodeBodyTooLarge  = "body_too_large"     // 413: more than Options.MaxBodyBytes
	CodeTooManyPixels = "too_many_pixels"    // 413: the header declares more than Options.MaxPixels
	CodeUnknownFormat = "unknown_format"     // 415: not PNG, JPEG, TIFF, GIF, BMP or WebP
	CodeQueueFull     = "queue_full"         // 429: every worker busy and the queue full (Retry-After)
	CodeClientGone    = "client_closed"      // 499 (metrics only): the client went away before the answer
	CodeInternal      = "internal"           // 500: a fault of the server or the model
	CodeDraining      = "shutting_down"      // 503: Shutdown was called (Retry-After)
	CodeDeadline      = "deadline_exceeded"  // 504: the request's timeout passed (queued or between tiles)
)

// StatusClientClosed is the status recorded in the metrics for a request
// whose client went away before the answer (nginx's 499); nothing is sent.
const StatusClientClosed = 499

// ErrQueueFull and ErrShuttingDown are the causes (Error.Err) of the 429
// and 503 refusals, for errors.Is.
var (
	ErrQueueFull    = errors.New("every worker is busy and the queue is full")
	ErrShuttingDown = errors.New("the server is shutting down")
)

func errorf(status int, code string, cause error, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

func badParameter(format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, CodeBadParameter, nil, format, args...)
}
