/* Small SVG charts of our own for the staff pages (no library, nothing from a CDN; the pages' CSP
 * allows no inline style, so everything is drawn with SVG attributes).
 *
 *   HelpdeskCharts.chart({kind: "bars" | "lines" | "hbars", title, labels: [...],
 *                         series: [{name, values: [number|null...]}], format: value -> text,
 *                         max: number (optional: e.g. 1 for rates), labelHeading, tableLabel})
 *     -> a <figure>: the SVG (role img, named by its title, with a short description) and, as its
 *        text alternative, a <details> holding a <table> of the same numbers.
 *
 * Text goes into the DOM through textContent only. */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var COLOURS = ["#1f5fa8", "#b5451b", "#2e7d32", "#6a3d9a", "#8a6d00"];
  var INK = "#333333", GRID = "#d9dde3", AXIS = "#8a9099";
  var counter = 0;

  function el(name, attributes, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes || {}).forEach(function (key) { node.setAttribute(key, String(attributes[key])); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function html(name, text) {
    var node = document.createElement(name);
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function niceMax(value) {
    if (!(value > 0)) { return 1; }
    var power = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) { if (steps[i] * power >= value) { return steps[i] * power; } }
    return 10 * power;
  }

  /* A scale for counts: whole numbers at each of the 4 steps. */
  function counts(value) { return Math.max(4, Math.ceil(niceMax(value) / 4) * 4); }

  function plain(value) { return value === null || value === undefined ? "–" : String(value); }

  function highest(series) {
    var top = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v !== null && v > top) { top = v; } }); });
    return top;
  }

  function legend(svg, series, x) {
    if (series.length < 2) { return; }
    series.forEach(function (s, i) {
      var y = 6 + i * 16;
      svg.appendChild(el("rect", {x: x, y: y, width: 10, height: 10, fill: COLOURS[i % COLOURS.length]}));
      svg.appendChild(el("text", {x: x + 14, y: y + 9, "font-size": 11, fill: INK}, s.name));
    });
  }

  /* Columns (bars) or lines over the labels, with a y axis of 4 steps. */
  function vertical(svg, o, width, height) {
    var left = 52, right = 12, top = 12 + (o.series.length > 1 ? o.series.length * 16 : 0), bottom = 34;
    var plotW = width - left - right, plotH = height - top - bottom;
    var max = o.max || counts(highest(o.series));
    var n = o.labels.length || 1;
    var step = plotW / n;
    for (var t = 0; t <= 4; t++) {
      var value = max * t / 4, y = top + plotH - plotH * t / 4;
      svg.appendChild(el("line", {x1: left, x2: width - right, y1: y, y2: y, stroke: t ? GRID : AXIS}));
      svg.appendChild(el("text", {x: left - 6, y: y + 4, "font-size": 11, fill: INK, "text-anchor": "end"},
                         o.format(value)));
    }
    var every = Math.max(1, Math.ceil(n / 12));
    o.labels.forEach(function (label, i) {
      if (i % every === 0) {
        svg.appendChild(el("text", {x: left + step * (i + 0.5), y: height - bottom + 16, "font-size": 11, fill: INK,
                                    "text-anchor": "middle"}, o.short ? o.short(label) : label));
      }
    });
    var y0 = top + plotH;
    o.series.forEach(function (s, k) {
      var colour = COLOURS[k % COLOURS.length];
      if (o.kind === "lines") {
        var points = [];
        s.values.forEach(function (v, i) {
          var x = left + step * (i + 0.5);
          if (v === null || v === undefined) {
            if (points.length) { svg.appendChild(el("polyline", {points: points.join(" "), fill: "none", stroke: colour,
                                                                  "stroke-width": 2})); }
            points = [];
            return;
          }
          var y = y0 - plotH * Math.min(v, max) / max;
          points.push(x.toFixed(1) + "," + y.toFixed(1));
          svg.appendChild(el("circle", {cx: x.toFixed(1), cy: y.toFixed(1), r: 3, fill: colour}));
        });
        if (points.length) { svg.appendChild(el("polyline", {points: points.join(" "), fill: "none", stroke: colour,
                                                              "stroke-width": 2})); }
        return;
      }
      var barW = Math.max(1, step * 0.8 / o.series.length);
      s.values.forEach(function (v, i) {
        if (!v) { return; }
        var h = plotH * Math.min(v, max) / max;
        svg.appendChild(el("rect", {x: (left + step * 0.1 + step * i + barW * k).toFixed(1), y: (y0 - h).toFixed(1),
                                    width: barW.toFixed(1), height: h.toFixed(1), fill: colour}));
      });
    });
    legend(svg, o.series, width - right - 150);
  }

  /* One row per label: its name, a bar per series, the values written after the bars. */
  function horizontal(svg, o, width) {
    var left = 170, right = 70, top = 8 + (o.series.length > 1 ? o.series.length * 16 : 0), row = 14 * o.series.length + 12;
    var max = o.max || counts(highest(o.series));
    var plotW = width - left - right;
    o.labels.forEach(function (label, i) {
      var y = top + row * i;
      var name = String(label);
      svg.appendChild(el("text", {x: left - 8, y: y + row / 2 + 2, "font-size": 12, fill: INK, "text-anchor": "end"},
                         name.length > 24 ? name.slice(0, 23) + "…" : name));
      o.series.forEach(function (s, k) {
        var v = s.values[i] || 0, w = plotW * Math.min(v, max) / max;
        var by = y + 6 + k * 14;
        svg.appendChild(el("rect", {x: left, y: by, width: Math.max(w, v ? 1 : 0).toFixed(1), height: 11,
                                    fill: COLOURS[k % COLOURS.length]}));
        svg.appendChild(el("text", {x: left + w + 4, y: by + 10, "font-size": 11, fill: INK}, o.format(s.values[i])));
      });
    });
    legend(svg, o.series, width - right - 100);
    return top + row * o.labels.length + 8;
  }

  function table(o) {
    var details = html("details");
    details.appendChild(html("summary", o.tableLabel || "Table"));
    var wrap = html("div");
    wrap.className = "st-table-wrap";
    var t = html("table");
    t.appendChild(html("caption", o.title));
    var head = html("tr");
    var th = html("th", o.labelHeading || "");
    th.scope = "col";
    head.appendChild(th);
    o.series.forEach(function (s) { var h = html("th", s.name); h.scope = "col"; head.appendChild(h); });
    var thead = html("thead");
    thead.appendChild(head);
    t.appendChild(thead);
    var body = html("tbody");
    o.labels.forEach(function (label, i) {
      var tr = html("tr");
      var rowHead = html("th", String(label));
      rowHead.scope = "row";
      tr.appendChild(rowHead);
      o.series.forEach(function (s) { tr.appendChild(html("td", o.format(s.values[i]))); });
      body.appendChild(tr);
    });
    t.appendChild(body);
    wrap.appendChild(t);
    details.appendChild(wrap);
    return details;
  }

  function chart(options) {
    var o = {kind: "bars", format: plain, series: [], labels: []};
    Object.keys(options).forEach(function (key) { o[key] = options[key]; });
    var id = "hd-chart-" + (++counter);
    var width = 720, height = 240;
    var svg = el("svg", {viewBox: "0 0 " + width + " " + height, width: "100%", role: "img",
                         "aria-labelledby": id + "-title " + id + "-desc", focusable: "false"});
    svg.appendChild(el("title", {id: id + "-title"}, o.title));
    svg.appendChild(el("desc", {id: id + "-desc"}, o.description || ""));
    if (o.kind === "hbars") {
      height = Math.max(40, horizontal(svg, o, width));
      svg.setAttribute("viewBox", "0 0 " + width + " " + height);
    } else {
      vertical(svg, o, width, height);
    }
    var figure = html("figure");
    figure.className = "hd-chart";
    figure.appendChild(svg);
    figure.appendChild(table(o));
    return figure;
  }

  window.HelpdeskCharts = {chart: chart, niceMax: niceMax};
}());
