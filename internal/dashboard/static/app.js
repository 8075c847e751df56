// consort dashboard: polls the read-only JSON API and swaps in the
// server-rendered fragments. No dependencies, nothing from other origins.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var body = document.body.dataset;
  body.scriptMs = String(Math.round(performance.now()));
  var refresh = parseInt(body.refresh, 10) || 2000;
  var q = new URLSearchParams(location.search);
  var st = {
    sweep: q.get("sweep"), sort: q.get("sort") || "cv", top: q.get("top") || "50",
    shown: null,  // what is on screen: sweep|sort|top|revision|plots
    quick: true,  // the next fetch skips the plots, to show the board sooner
    timer: null, seq: 0, first: true
  };
  var sortNames = { cv: "CV accuracy", size: "size", latency: "latency" };

  function clock() { return new Date().toLocaleTimeString(); }
  function show(id, on) { $(id).hidden = !on; }
  function setLive(cls, text) {
    $("live").className = "live " + cls;
    $("live-text").textContent = text;
  }
  function problem(err) {
    setLive("err", "cannot reach the coordinator · " + clock());
    $("problem").textContent = String(err.message || err);
    show("problem", true);
  }
  function option(sel, value, label) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    sel.appendChild(o);
  }
  function choose(sel, value) {
    for (var i = 0; i < sel.options.length; i++) {
      if (sel.options[i].value === value) { sel.selectedIndex = i; return; }
    }
    option(sel, value, value);
    sel.value = value;
  }
  // After the next two frames: layout and paint are done.
  function painted(fn) { requestAnimationFrame(function () { requestAnimationFrame(fn); }); }

  function getJSON(url) {
    return fetch(url, { cache: "no-cache", headers: { "Accept": "application/json" } }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) {
        if (!r.ok) throw new Error(b.error || (r.status + " " + r.statusText));
        return b;
      });
    });
  }

  function loadSweeps() {
    return getJSON("api/sweeps").then(function (list) {
      var sel = $("sweep"), cur = st.sweep;
      sel.textContent = "";
      list.forEach(function (s) {
        var label = s.name + " · " + s.state;
        if (s.best_cv) label += " · " + (100 * s.best_cv).toFixed(2) + "%";
        option(sel, s.name, label);
      });
      if (!cur && list.length) {
        var running = list.filter(function (s) { return ["running", "ensembling", "pending"].indexOf(s.state) >= 0; });
        cur = (running[0] || list[0]).name;
      }
      st.sweep = cur;
      if (cur) choose(sel, cur);
      show("empty", !cur);
      return cur;
    });
  }

  function render(d) {
    if (st.first) body.apiMs = String(Math.round(performance.now()));
    $("header").innerHTML = d.header_html;
    $("verdict").innerHTML = d.verdict_html;
    $("table").innerHTML = d.table_html;
    $("count").textContent = (d.total_rows > d.rows.length ? "top " + d.rows.length + " of " : "") +
      d.total_rows + " entries, by " + sortNames[d.sort];
    if (d.plots.length) {
      var params = [];
      d.plots.forEach(function (p) {
        if (p.id.indexOf("param-") === 0) { params.push("<figure>" + p.svg + "</figure>"); return; }
        var box = $("plot-" + p.id);
        if (box) { box.innerHTML = p.svg; $("cap-" + p.id).textContent = p.caption; }
      });
      $("params").innerHTML = params.join("");
      if (!body.plotsMs) painted(function () { body.plotsMs = String(Math.round(performance.now())); });
    }
    document.title = d.sweep + " · " + d.state + " · consort";
    body.sweep = d.sweep;
    body.state = d.state;
    body.rows = String(d.rows.length);
    body.totalRows = String(d.total_rows);
    body.revision = String(d.revision);
    show("content", true);
    if (st.first) {
      st.first = false;
      painted(function () { body.firstRenderMs = String(Math.round(performance.now())); });
    }
  }

  // poll fetches the shown sweep and schedules the next poll. Each call
  // supersedes the previous one: a late answer to an older call is dropped.
  function poll() {
    clearTimeout(st.timer);
    var seq = ++st.seq, name = st.sweep, quick = st.quick;
    if (!name) {
      setLive("", "no sweeps · " + clock());
      st.timer = setTimeout(start, 5000);
      return;
    }
    var url = "api/sweeps/" + encodeURIComponent(name) + "?top=" + encodeURIComponent(st.top) +
      "&sort=" + encodeURIComponent(st.sort) + (quick ? "&plots=0" : "");
    getJSON(url).then(function (d) {
      if (seq !== st.seq) return;
      show("problem", false);
      var key = [name, st.sort, st.top, d.revision, d.plots.length > 0].join("|");
      if (st.shown !== key) {
        render(d);
        st.shown = key;
      }
      if (quick) {
        st.quick = false;
        st.timer = setTimeout(poll, 0);
        return;
      }
      if (d.final) {
        setLive("", d.state + " · " + clock());
        st.timer = setTimeout(poll, 5 * refresh);
      } else {
        setLive("on", "live · " + clock());
        st.timer = setTimeout(poll, refresh);
      }
    }).catch(function (err) {
      if (seq !== st.seq) return;
      problem(err);
      st.timer = setTimeout(poll, 2 * refresh);
    });
  }

  function remember() {
    var u = new URLSearchParams();
    if (st.sweep) u.set("sweep", st.sweep);
    if (st.sort !== "cv") u.set("sort", st.sort);
    if (st.top !== "50") u.set("top", st.top);
    history.replaceState(null, "", "?" + u.toString());
  }

  function start() {
    // A sweep named in the address is fetched at once, alongside the list.
    var early = !!st.sweep;
    if (early) poll();
    loadSweeps().then(function () { if (!early) poll(); }).catch(function (err) {
      if (early) return; // the poll reports and retries
      problem(err);
      st.timer = setTimeout(start, 2 * refresh);
    });
  }

  $("sweep").addEventListener("change", function (e) { st.sweep = e.target.value; st.quick = true; remember(); poll(); });
  $("sort").addEventListener("change", function (e) { st.sort = e.target.value; remember(); poll(); });
  $("top").addEventListener("change", function (e) { st.top = e.target.value; remember(); poll(); });
  choose($("sort"), st.sort);
  choose($("top"), st.top);
  setInterval(function () { loadSweeps().catch(function () {}); }, 15000);
  start();
})();
