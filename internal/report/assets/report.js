// Tooltips for plotted points and highlighting of one trial across every
// plot. Works on content replaced later (the live dashboard), offline.
(function () {
  "use strict";
  var tip = document.createElement("div");
  tip.id = "tip";
  document.addEventListener("DOMContentLoaded", function () { document.body.appendChild(tip); });
  function pct(v) { return (100 * parseFloat(v)).toFixed(2) + "%"; }
  function bytes(n) {
    n = parseInt(n, 10);
    if (n < 1024) return n + " B";
    var u = ["KiB", "MiB", "GiB"], i = -1;
    do { n /= 1024; i++; } while (n >= 1024 && i < 2);
    return n.toFixed(n >= 100 ? 0 : 1) + " " + u[i];
  }
  function text(s) { var d = document.createElement("span"); d.textContent = s; return d.innerHTML; }
  var lit = [];
  function light(id) {
    lit.forEach(function (e) { e.classList.remove("hl"); });
    lit = id ? Array.prototype.slice.call(document.querySelectorAll('.plot [data-trial="' + id + '"]')) : [];
    lit.forEach(function (e) { e.classList.add("hl"); });
  }
  document.addEventListener("mouseover", function (ev) {
    var t = ev.target;
    if (!t.dataset || !t.dataset.trial || !t.closest(".plot")) { tip.style.display = "none"; light(null); return; }
    var d = t.dataset, h = "<b>" + text(d.trial) + "</b>";
    if (d.kind) h += " " + text(d.kind);
    if (d.fold) h += " fold " + text(d.fold);
    h += "<br>CV " + pct(d.acc);
    if (d.lo && d.hi) h += " (95% CI " + pct(d.lo) + "–" + pct(d.hi) + ")";
    if (d.bytes) h += "<br>" + bytes(d.bytes) + (d.latency ? ", " + text(d.latency) + " µs" : "");
    if (d.value !== undefined) h += "<br>value " + text(d.value);
    if (d.epochs) h += "<br>" + text(d.epochs) + " epochs, finished at " + text(d.finished);
    if (d.desc) h += "<br>" + text(d.desc);
    if (d.caveat) h += "<br>† " + text(d.caveat);
    tip.innerHTML = h;
    tip.style.display = "block";
    light(d.trial);
  });
  document.addEventListener("mousemove", function (ev) {
    if (tip.style.display !== "block") return;
    var x = ev.clientX + 14, y = ev.clientY + 14;
    if (x + tip.offsetWidth > window.innerWidth - 8) x = ev.clientX - tip.offsetWidth - 14;
    if (y + tip.offsetHeight > window.innerHeight - 8) y = ev.clientY - tip.offsetHeight - 14;
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  });
})();
