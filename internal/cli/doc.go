// Package cli builds the consort command tree (cobra) and maps its errors
// to exit statuses: 2 for usage, configuration and input errors, 1 for
// failures at run time, 0 for success.
package cli
