// Package dashboard serves consort's live web dashboard: the leaderboard,
// the verdict and the report's plots of every sweep in etcd, updating as
// trials finish. It is read-only; its page, script and styles are
// embedded in the binary and nothing is fetched from another origin.
//
//	d := dashboard.New(etcdClient, dashboard.Config{Version: "v1.0.0"})
//	mux := http.NewServeMux()
//	d.Register(mux) // GET /, /static/…, /api/sweeps, /api/sweeps/{name}
//
// The page polls GET /api/sweeps/{name}?top=N&sort=cv|size|latency, which
// returns the verdict, the first N rows and the rendered fragments and
// plots as JSON (see SweepView). A sweep is read from etcd at most once
// per Config.MinRead however many pages poll, not again while etcd's
// revision stands still, and never again once it is final; each rendered
// response is encoded (and gzipped) once. Errors are reported to the page
// as JSON {"error": "..."} with status 400 (bad query), 404 (no such
// sweep) or 503 (etcd unreachable).
package dashboard
