// computekyc web UI: charts and graphs (ECharts, vendored) from JSON the server embedded in the
// page; "select all" for the queue. Everything works without it (tables carry the same facts).
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var FONT = 'system-ui, "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Naskh Arabic", sans-serif';

  function graph(id, payload, opts) {
    var el = document.getElementById(id);
    if (!el || !payload || typeof echarts === "undefined") return;
    var chart = echarts.init(el, null, { renderer: "canvas" });
    var nodes = payload.nodes.map(function (n) {
      var listed = n.listed && n.listed.length > 0;
      var subject = n.role === "subject";
      return {
        name: n.name,
        symbolSize: subject ? 46 : 34,
        itemStyle: { color: listed ? "#a4001d" : subject ? "#0b5cad" : "#57606a" },
        label: { show: true, position: "bottom", color: "#1b1f24", fontFamily: FONT, width: 200, overflow: "break",
                 formatter: listed ? "{b}\n(listed)" : "{b}" },
        tooltip: { formatter: n.name + (listed ? "<br>" + n.listed.join("<br>") : "") }
      };
    });
    var links = payload.edges.map(function (e) {
      return { source: e.source, target: e.target,
               label: { show: true, formatter: e.label, fontFamily: FONT, color: "#1b1f24" } };
    });
    chart.setOption({
      animation: false,
      tooltip: {},
      series: [{
        type: "graph", layout: "force", roam: true, draggable: true,
        // Labels sit under the nodes: keep a margin so the lowest node's name stays in view.
        top: 30, bottom: 70, left: 60, right: 60,
        zoom: nodes.length <= 3 ? 1.2 : nodes.length <= 5 ? 1.0 : 0.9,
        force: { repulsion: opts.repulsion || 420, edgeLength: opts.edgeLength || 170 },
        edgeSymbol: opts.directed ? ["none", "arrow"] : ["none", "none"], edgeSymbolSize: 10,
        lineStyle: { width: 2, color: "#6e7781" },
        data: nodes, links: links
      }]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function usage(payload) {
    if (!payload || typeof echarts === "undefined") return;
    var days = payload.days.map(function (d) { return d.date; });
    var bar = function (name, key, color) {
      return { name: name, type: "bar", stack: "h", itemStyle: { color: color },
               data: payload.days.map(function (d) { return d[key]; }) };
    };
    var el = document.getElementById("usage-chart");
    if (el) {
      var chart = echarts.init(el);
      chart.setOption({
        animation: false,
        textStyle: { fontFamily: FONT },
        tooltip: { trigger: "axis" },
        legend: { top: 4 },
        grid: { left: 60, right: 20, top: 40, bottom: 40 },
        xAxis: { type: "category", data: days },
        yAxis: { type: "value", name: "GPU-hours / day" },
        series: [
          bar("controlled (3A090/4A090)", "controlled", "#a4001d"),
          bar("review", "review", "#a84300"),
          bar("unclassified", "unclassified", "#6b5600"),
          bar("not controlled", "other", "#0b5cad")
        ]
      });
      window.addEventListener("resize", function () { chart.resize(); });
    }
    var opsEl = document.getElementById("ops-chart");
    if (opsEl) {
      var ops = echarts.init(opsEl);
      var top = Math.max.apply(null, payload.days.map(function (d) { return d.cumulative_operations; }).concat([1]));
      // Every threshold reached, and the next one above the data: how far the account is from it.
      var above = payload.thresholds.map(function (t) { return t.threshold; })
        .filter(function (v) { return v > top; });
      var ceiling = above.length ? Math.min.apply(null, above) : top;
      var lines = payload.thresholds.filter(function (t) { return t.threshold <= ceiling; })
        .map(function (t) {
          return { yAxis: t.threshold, name: t.label,
                   label: { formatter: t.threshold.toExponential(0) + " ops", color: "#a4001d" } };
        });
      ops.setOption({
        animation: false,
        textStyle: { fontFamily: FONT },
        tooltip: { trigger: "axis", valueFormatter: function (v) { return Number(v).toExponential(2); } },
        grid: { left: 60, right: 90, top: 20, bottom: 40 },
        xAxis: { type: "category", data: days },
        yAxis: { type: "log", name: "operations (cumulative)", max: ceiling * 10, axisLabel: { formatter: function (v) { return Number(v).toExponential(0); } } },
        series: [{
          name: "cumulative estimated operations", type: "line", step: "end",
          data: payload.days.map(function (d) { return Math.max(d.cumulative_operations, 1); }),
          lineStyle: { color: "#0b5cad" }, itemStyle: { color: "#0b5cad" },
          markLine: { symbol: "none", lineStyle: { color: "#a4001d", type: "dashed" }, data: lines }
        }]
      });
      window.addEventListener("resize", function () { ops.resize(); });
    }
  }

  function selectAll() {
    document.addEventListener("change", function (event) {
      var box = event.target;
      if (!box.matches || !box.matches("[data-select-all]")) return;
      var form = box.closest("form");
      form.querySelectorAll('input[name="' + box.dataset.selectAll + '"]').forEach(function (b) {
        b.checked = box.checked;
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    graph("ownership-chart", data("ownership-data"), { directed: true });
    graph("links-chart", data("links-data"), { directed: false, edgeLength: 200 });
    usage(data("usage-data"));
    selectAll();
  });
  // The usage section arrives after the page (htmx): draw its charts when it is in place.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target && event.target.querySelector && event.target.querySelector("#usage-data")) {
      usage(data("usage-data"));
    } else if (document.getElementById("usage-data") && !document.querySelector("#usage-chart canvas")) {
      usage(data("usage-data"));
    }
  });
})();
