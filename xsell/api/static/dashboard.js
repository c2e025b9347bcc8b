/* xsell dashboard: reads /dashboard/data.json every 5 s and redraws (uPlot, vendored).
 * The worker's minutes come from Redis (every worker adds to them); acceptance and attributed
 * revenue are the report's running totals, sampled here while the page is open. */
(function () {
  "use strict";
  var REFRESH_MS = 5000;
  var COLORS = ["#2f6fed", "#f0b429", "#12b76a", "#d92d20", "#7a5af8", "#0e9384", "#667085"];
  var plots = {};
  var live = { t: [], series: {} };  // placement|variant -> {acceptance: [], revenue: []}

  function width(id) { return Math.max(280, document.getElementById(id).clientWidth - 10); }

  // axis labels for people: 384.5k, 1.2M, 0.25 -- short enough to fit, never "0,000"
  function compact(v) {
    if (v == null) { return ""; }
    var a = Math.abs(v);
    var units = [[1e9, "G"], [1e6, "M"], [1e3, "k"]];
    for (var n = 0; n < units.length; n++) {
      if (a >= units[n][0]) { return +(v / units[n][0]).toFixed(1) + units[n][1]; }
    }
    return String(+v.toFixed(a < 1 ? 3 : 2));
  }

  // a y axis as wide as its widest label (uPlot's default 50 px clipped "380,000"). Every
  // cycle measures the labels it is given: a later cycle may bring longer ones ("0.025" after
  // "0.1"), and it never shrinks below an earlier cycle's size, so the layout still settles.
  function axisSize(u, values, axisIdx, cycleNum) {
    var axis = u.axes[axisIdx];
    u.ctx.font = axis.font[0];
    var ratio = window.devicePixelRatio || 1;
    var text = (values || []).reduce(function (acc, v) {
      return Math.max(acc, u.ctx.measureText(String(v)).width / ratio);
    }, 0);
    var size = Math.ceil(axis.ticks.size + axis.gap + text + 4);
    return cycleNum > 1 && axis._size ? Math.max(axis._size, size) : size;
  }

  // a time axis over the data's times, at least 10 minutes wide: uPlot gives one sample a
  // span of 86,400,000 s (2027..2029); a zoom inside the data is kept
  function timeRange(times) {
    var known = times.filter(function (t) { return t != null; });
    var lo = Math.min.apply(null, known), hi = Math.max.apply(null, known);
    return function (u, min, max) {
      if (!known.length) { return [min, max]; }
      var inside = min != null && max != null && min >= lo && max <= hi;
      var a = inside ? min : lo, b = inside ? max : hi;
      if (b - a < 600) { var mid = (a + b) / 2; return [mid - 300, mid + 300]; }
      return [a, b];
    };
  }

  function draw(id, labels, data) {
    var series = [{}].concat(labels.map(function (label, n) {
      return { label: label, stroke: COLORS[n % COLORS.length], width: 2, spanGaps: true,
               points: { show: true, size: 4 },
               value: function (u, v) { return v == null ? "-" : compact(v); } };
    }));
    var config = {
      width: width(id), height: 220, series: series,
      scales: { x: { time: true, range: timeRange(data[0]) } },
      axes: [{}, { size: axisSize, values: function (u, ticks) { return ticks.map(compact); } }],
    };
    if (plots[id]) { plots[id].destroy(); }
    var root = document.getElementById(id);
    root.textContent = "";
    plots[id] = new uPlot(config, data, root);
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function minutesPlots(minutes) {
    var t = minutes.map(function (m) { return m.t; });
    draw("throughput", ["events/s", "suggestions/s"],
         [t, minutes.map(function (m) { return m.events_per_s; }),
          minutes.map(function (m) { return m.suggestions_per_s; })]);
    draw("latency", ["p50", "p95", "p99"],
         [t, minutes.map(function (m) { return m.p50; }), minutes.map(function (m) { return m.p95; }),
          minutes.map(function (m) { return m.p99; })]);
    draw("dead", ["dead letters"], [t, minutes.map(function (m) { return m.dead_letters; })]);
  }

  function livePlots(data) {
    live.t.push(data.at);
    data.report.rows.forEach(function (row) {
      var key = row.placement + " / " + row.variant;
      if (!live.series[key]) {
        live.series[key] = { acceptance: live.t.slice(0, -1).map(function () { return null; }),
                             revenue: live.t.slice(0, -1).map(function () { return null; }) };
      }
    });
    Object.keys(live.series).forEach(function (key) {
      var row = data.report.rows.filter(function (r) { return r.placement + " / " + r.variant === key; })[0];
      live.series[key].acceptance.push(row ? row.acceptance_rate : null);
      live.series[key].revenue.push(row ? row.attributed_revenue : null);
    });
    var keys = Object.keys(live.series).sort();
    draw("acceptance", keys, [live.t].concat(keys.map(function (k) { return live.series[k].acceptance; })));
    draw("revenue", keys, [live.t].concat(keys.map(function (k) { return live.series[k].revenue; })));
  }

  function fixed(v) { return v == null ? "-" : Number(v).toFixed(2); }

  // AOV per variant as a forest plot: the 95% interval a band, the AOV a mark on it
  function aovPlot(report) {
    var names = Object.keys(report.variants).sort();
    var root = document.getElementById("aov");
    root.textContent = "";
    var values = [];
    names.forEach(function (v) {
      var s = report.variants[v];
      [s.aov, s.aov_low, s.aov_high].forEach(function (x) { if (x != null) { values.push(x); } });
    });
    if (!values.length) { root.appendChild(el("p", "note", "no orders yet")); values = [0, 1]; }
    var rows = root.appendChild(el("div", "rows"));
    var lo = Math.min.apply(null, values), hi = Math.max.apply(null, values);
    var pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.1 || 1;
    lo -= pad; hi += pad;
    function at(x) { return ((x - lo) / (hi - lo) * 100) + "%"; }
    names.forEach(function (v) {
      var s = report.variants[v];
      if (s.aov == null) { return; }
      var row = el("div", "forest-row");
      row.dataset.variant = v;
      row.appendChild(el("span", "forest-name", v));
      var track = el("div", "forest-track");
      if (s.aov_low != null && s.aov_high != null) {
        var band = el("div", "band");
        band.style.left = at(s.aov_low);
        band.style.width = ((s.aov_high - s.aov_low) / (hi - lo) * 100) + "%";
        track.appendChild(band);
      }
      var mark = el("div", "mark");
      mark.style.left = at(s.aov);
      track.appendChild(mark);
      row.appendChild(track);
      row.appendChild(el("span", "forest-value",
        fixed(s.aov) + " (" + fixed(s.aov_low) + " .. " + fixed(s.aov_high) + "), " +
        s.orders + " orders"));
      rows.appendChild(row);
    });
    var text = report.comparisons.map(function (c) {
      var a = c.aov, r = c.revenue_per_user;
      var f = function (v) { return v == null ? "-" : Number(v).toFixed(3); };
      return c.variant + " vs " + c.against + ": AOV x" + f(a.ratio) + " (" + f(a.low) + ".." + f(a.high) +
        ", p " + f(a.p_value) + "); revenue per user x" + f(r.ratio) + " (" + f(r.low) + ".." + f(r.high) +
        ", p " + f(r.p_value) + ")";
    });
    document.getElementById("uplift").textContent = text.join(" | ") || "no control group";
  }

  // notifications as labelled horizontal bars: one row per label, so labels never overlap
  function notificationsPlot(counts) {
    var names = Object.keys(counts).filter(function (k) {
      return k.indexOf("sent:") === 0 || k.indexOf("suppressed:") === 0;
    }).sort();
    var root = document.getElementById("notifications");
    root.textContent = "";
    if (!names.length) { root.appendChild(el("p", "note", "none yet")); return; }
    var top = Math.max.apply(null, names.map(function (k) { return counts[k] || 0; })) || 1;
    var rows = root.appendChild(el("div", "rows"));
    names.forEach(function (k) {
      var row = el("div", "bar-row");
      row.appendChild(el("span", "bar-label", k.split(":").join(" · ").replace(/_/g, " ")));
      var track = el("div", "bar-track");
      var bar = el("div", "bar " + (k.indexOf("sent:") === 0 ? "sent" : "suppressed"));
      bar.style.width = ((counts[k] || 0) / top * 100) + "%";
      track.appendChild(bar);
      row.appendChild(track);
      row.appendChild(el("span", "bar-value", String(counts[k] || 0)));
      rows.appendChild(row);
    });
  }

  function tables(data) {
    var body = document.querySelector("#pairs tbody");
    body.textContent = "";
    data.top_pairs.forEach(function (p) {
      var tr = document.createElement("tr");
      [p.a, p.b, p.weight].forEach(function (v) {
        var td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    fill("#report", ["placement", "variant", "suggestions", "impressions", "clicks", "ctr",
                     "accepted", "acceptance_rate", "attributed_revenue", "cannibalized",
                     "cannibalization_rate"], data.report.rows);
    fill("#by-rule", ["rule", "name", "variant", "offered", "accepted", "acceptance_rate",
                      "attributed_revenue"], (data.report.rules || []).map(function (r) {
      return Object.assign({}, r, { rule: r.rule_id || "(no rule)", name: r.name || "" });
    }));
    fill("#by-segment", ["dimension", "segment", "variant", "offered", "accepted",
                         "acceptance_rate", "attributed_revenue", "orders", "aov", "aov_ratio"],
         (data.report.segments || []).map(function (r) {
           return Object.assign({}, r, { aov_ratio: (r.aov_vs_control || {}).ratio });
         }));
    var variants = Object.keys(data.report.variants).sort().map(function (v) {
      return Object.assign({ variant: v }, data.report.variants[v]);
    });
    fill("#variants", ["variant", "orders", "revenue", "aov", "aov_low", "aov_high", "users",
                       "revenue_per_user"], variants);
    var bundles = data.report.bundles || {};
    fill("#bundles", ["variant", "impressions", "orders", "full", "partial", "full_attach_rate",
                      "attach_rate", "revenue", "discount", "revenue_share"],
         Object.keys(bundles).sort().map(function (v) {
           return Object.assign({ variant: v }, bundles[v]);
         }));
  }

  // a figure in a table: 12,000; 34,867.87; 0.1406 (never an exponent)
  function figure(v) {
    if (v == null) { return "-"; }
    if (typeof v !== "number") { return String(v); }
    if (Number.isInteger(v)) { return v.toLocaleString("en-US"); }
    var places = Math.abs(v) >= 100 ? 2 : 4;
    return v.toLocaleString("en-US", { maximumFractionDigits: places });
  }

  // a table's head and rows (the report's totals of a variant once, in #variants)
  function fill(selector, heads, rows) {
    var head = document.querySelector(selector + " thead");
    head.textContent = "";
    var tr = head.appendChild(document.createElement("tr"));
    heads.forEach(function (h) { tr.appendChild(el("th", null, h)); });
    var body = document.querySelector(selector + " tbody");
    body.textContent = "";
    rows.forEach(function (row) {
      var line = body.appendChild(document.createElement("tr"));
      heads.forEach(function (h) { line.appendChild(el("td", null, figure(row[h]))); });
    });
  }

  function refresh() {
    fetch("/dashboard/data.json", { credentials: "same-origin" })
      .then(function (answer) {
        if (answer.status === 401) { window.location = "/dashboard/login"; return null; }
        return answer.json();
      })
      .then(function (data) {
        if (!data) { return; }
        minutesPlots(data.minutes);
        livePlots(data);
        aovPlot(data.report);
        notificationsPlot(data.notifications || {});
        tables(data);
        document.getElementById("status").textContent =
          "updated " + new Date(data.at * 1000).toLocaleTimeString() + " (every 5 s)";
        document.body.setAttribute("data-ready", "1");
      })
      .catch(function (err) { document.getElementById("status").textContent = "error: " + err; });
  }

  window.xsellDashboard = { plots: plots, compact: compact };  // for the browser test
  refresh();
  setInterval(refresh, REFRESH_MS);
})();
