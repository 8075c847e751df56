// Package report renders a sweep as a self-contained HTML report — the
// verdict (what to ship, how accurate, how big, how sure), hand-made SVG
// plots and the leaderboard — and provides the same pieces to the live
// dashboard.
//
//	rows := coordinator.Leaderboard(sweep, "cv")
//	err := report.WriteHTML(f, sweep, rows, report.Options{Version: "v1.0.0"})
//
// The plots are the Pareto front of accuracy against packed size (every
// leaderboard row), the best CV accuracy so far over time, the per-fold
// spread of the best entries and one scatter per searched parameter.
// Each plotted entry is an SVG <circle> carrying data-trial, data-acc
// and, on the Pareto plot, data-bytes, so tools and tests can read the
// numbers back. The document fetches nothing: styles, script and plots
// are inline, and it opens offline.
//
// Errors come only from writing to the destination.
package report
