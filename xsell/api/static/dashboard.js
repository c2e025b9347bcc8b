/* xsell dashboard: reads /dashboard/data.json every 5 s and redraws (uPlot, vendored).
 * The worker's minutes come from Redis (every worker adds to them); acceptance and attributed
 * revenue are the report's running totals, sampled here while the page is open. */
(function () {
  "use strict";
  var REFRESH_MS = 5000;
  var COLORS = ["#2f6fed", "#f0b429", "#12b76a", "#d92d20", "#7a5af8", "#0e9384", "#667085"];
  var plots = {};
  var live = { t: [], series: {} };  // placement|variant -> {acceptance: [], revenue: []}

  function width(id) { return Math.max(300, document.getElementById(id).clientWidth - 10); }

  function draw(id, labels, data, opts) {
    opts = opts || {};
    var series = [{}].concat(labels.map(function (label, n) {
      var s = { label: label, stroke: COLORS[n % COLORS.length], width: 2, spanGaps: true };
      if (opts.pointsOnly && opts.pointsOnly.indexOf(n) >= 0) {
        s.paths = function () { return null; };
        s.points = { show: true, size: 9, fill: COLORS[n % COLORS.length] };
      } else if (opts.bars) {
        s.fill = COLORS[n % COLORS.length] + "99";
        s.paths = uPlot.paths.bars({ size: [0.6, 80] });
        s.points = { show: false };
      }
      return s;
    }));
    var config = {
      width: width(id), height: 220, series: series,
      scales: opts.categories ? { x: { time: false, range: [-0.5, opts.categories.length - 0.5] } }
                              : { x: { time: true } },
      axes: opts.categories ? [{ rotate: opts.rotate || 0, size: opts.rotate ? 90 : 40,
        splits: function () { return opts.categories.map(function (_, n) { return n; }); },
        values: function (u, ticks) {
          return ticks.map(function (t) { return opts.categories[t] || ""; });
        } }, {}] : [{}, {}],
    };
    if (plots[id]) { plots[id].destroy(); }
    var root = document.getElementById(id);
    root.textContent = "";
    plots[id] = new uPlot(config, data, root);
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

  function aovPlot(report) {
    var names = Object.keys(report.variants).sort();
    var x = names.map(function (_, n) { return n; });
    var pick = function (field) { return names.map(function (v) { return report.variants[v][field]; }); };
    draw("aov", ["AOV", "95% low", "95% high"], [x, pick("aov"), pick("aov_low"), pick("aov_high")],
         { categories: names, bars: true, pointsOnly: [1, 2] });
    var text = report.comparisons.map(function (c) {
      var a = c.aov, r = c.revenue_per_user;
      var f = function (v) { return v == null ? "-" : Number(v).toFixed(3); };
      return c.variant + " vs " + c.against + ": AOV x" + f(a.ratio) + " (" + f(a.low) + ".." + f(a.high) +
        ", p " + f(a.p_value) + "); revenue per user x" + f(r.ratio) + " (" + f(r.low) + ".." + f(r.high) +
        ", p " + f(r.p_value) + ")";
    });
    document.getElementById("uplift").textContent = text.join(" | ") || "no control group";
  }

  function notificationsPlot(counts) {
    var names = Object.keys(counts).filter(function (k) {
      return k.indexOf("sent:") === 0 || k.indexOf("suppressed:") === 0;
    }).sort();
    if (!names.length) { names = ["none yet"]; }
    draw("notifications", ["count"], [names.map(function (_, n) { return n; }),
                                      names.map(function (k) { return counts[k] || 0; })],
         { bars: true, categories: names, rotate: -15 });
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
    var heads = ["placement", "variant", "suggestions", "impressions", "clicks", "ctr", "accepted",
                 "acceptance_rate", "attributed_revenue", "orders", "revenue", "aov"];
    var head = document.querySelector("#report thead");
    head.innerHTML = "<tr>" + heads.map(function (h) { return "<th>" + h + "</th>"; }).join("") + "</tr>";
    var rows = document.querySelector("#report tbody");
    rows.textContent = "";
    data.report.rows.forEach(function (row) {
      var tr = document.createElement("tr");
      heads.forEach(function (h) {
        var td = document.createElement("td");
        var v = row[h];
        td.textContent = v == null ? "-" : (typeof v === "number" ? +v.toFixed(4) : v);
        tr.appendChild(td);
      });
      rows.appendChild(tr);
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

  refresh();
  setInterval(refresh, REFRESH_MS);
})();
