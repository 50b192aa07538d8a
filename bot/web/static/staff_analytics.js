/* The figures page (/staff/analytics): a period, its figures (GET /api/staff/analytics), each chart
 * drawn by charts.js with its table; the CSV export of the same period. Server text goes into the
 * DOM through textContent only. */
(function () {
  "use strict";

  var LABELS = {
    zh: {
      title: "服务统计", back: "返回工作台", review: "审核收件箱", csv: "导出 CSV", from: "开始日期", to: "结束日期", show: "查看",
      summaryHeading: "概览", figure: "指标", value: "数值", dailyHeading: "每日对话与消息",
      ratesHeading: "每日自助解决率与未理解率", topicsHeading: "热门问题", unansweredHeading: "最常见的未解答问题",
      message: "消息（已脱敏）", times: "次数", outcome: "结果", language: "语言", csatHeading: "满意度评分分布",
      feedbackHeading: "各问题的有帮助 / 没帮助", channelsHeading: "微信与网页",
      loading: "正在统计……", loaded: "{from} 至 {to}（北京时间）：{conversations} 个对话。", failed: "无法加载：{message}",
      sessionEnded: "登录已过期，请重新登录。", table: "数据表", date: "日期", topic: "问题", channel: "渠道", score: "评分",
      conversations: "对话", messages: "消息", contained: "自助解决率（未转人工）", fallback: "未理解率（“您是想问”）",
      handoffs: "转人工", wait: "转人工等待时间中位数", csatAverage: "满意度平均分", csatCount: "评分次数",
      up: "有帮助", down: "没帮助", turns: "市民消息", none: "这段时间没有数据。", seconds: "{value} 秒",
      ofFive: "{value} / 5（{count} 次）", fallbackOutcome: "未理解", outOfScopeOutcome: "超出范围",
      dailyDesc: "每天的对话数和消息数，数据见下方表格。", ratesDesc: "每天未转人工的对话比例和未理解消息比例，数据见下方表格。",
      topicsDesc: "回答次数最多的问题，数据见下方表格。", csatDesc: "1 至 5 分各有多少次评分，数据见下方表格。",
      feedbackDesc: "各问题的回答被评为有帮助和没帮助的次数，数据见下方表格。", channelsDesc: "各渠道的对话数，数据见下方表格。",
      web: "网页", wechat: "微信", stars: "{score} 分"
    },
    en: {
      title: "Figures", back: "Back to the console", review: "Review inbox", csv: "Export CSV", from: "From", to: "To", show: "Show",
      summaryHeading: "Summary", figure: "Figure", value: "Value", dailyHeading: "Conversations and messages per day",
      ratesHeading: "Contained and fallback rates per day", topicsHeading: "Top topics",
      unansweredHeading: "Most-asked unanswered questions", message: "Message (redacted)", times: "Times",
      outcome: "Outcome", language: "Language", csatHeading: "Satisfaction scores",
      feedbackHeading: "Helpful / not helpful per topic", channelsHeading: "WeChat and web",
      loading: "Counting…", loaded: "{from} to {to} (China time): {conversations} conversations.",
      failed: "Could not load: {message}", sessionEnded: "Your login has ended; please log in again.",
      table: "Data table", date: "Date", topic: "Topic", channel: "Channel", score: "Score",
      conversations: "Conversations", messages: "Messages", contained: "Contained rate (no person needed)",
      fallback: "Fallback rate (\"did you mean\")", handoffs: "Hand-overs", wait: "Median wait for a person",
      csatAverage: "Satisfaction average", csatCount: "Ratings", up: "Helpful", down: "Not helpful",
      turns: "Citizen messages", none: "No data in this period.", seconds: "{value} s",
      ofFive: "{value} / 5 ({count} ratings)", fallbackOutcome: "fallback", outOfScopeOutcome: "out of scope",
      dailyDesc: "Conversations and messages each day; the numbers are in the table below.",
      ratesDesc: "Share of conversations without a person, and of messages not understood, each day; the table below has them.",
      topicsDesc: "The topics answered most often; the numbers are in the table below.",
      csatDesc: "How many ratings of each score from 1 to 5; the numbers are in the table below.",
      feedbackDesc: "Answers rated helpful and not helpful per topic; the numbers are in the table below.",
      channelsDesc: "Conversations per channel; the numbers are in the table below.",
      web: "Web", wechat: "WeChat", stars: "{score} stars"
    }
  };
  var lang = /^zh/i.test(navigator.language || "zh") ? "zh" : "en";
  function t(key, values) {
    var text = LABELS[lang][key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(String(values[name])); });
    return text;
  }
  function percent(value) { return value === null || value === undefined ? "–" : (Math.round(value * 1000) / 10) + "%"; }
  function count(value) { return value === null || value === undefined ? "–" : String(value); }
  function channelName(name) { return LABELS[lang][name] || name; }

  var staffApi = window.HelpdeskStaffApi(function () { return t("sessionEnded"); });
  function api(path) { return staffApi.request("GET", path); }

  function status(text) { document.getElementById("analytics-status").textContent = text; }

  function place(id, node) {
    var box = document.getElementById(id);
    box.textContent = "";
    box.appendChild(node);
  }

  function empty(id) {
    var p = document.createElement("p");
    p.textContent = t("none");
    place(id, p);
  }

  function summary(data) {
    var rows = [
      [t("conversations"), count(data.conversations)], [t("messages"), count(data.messages)],
      [t("turns"), count(data.turns)], [t("contained"), percent(data.contained_rate)],
      [t("fallback"), percent(data.fallback_rate)], [t("handoffs"), count(data.handoffs)],
      [t("wait"), data.median_handoff_wait_s === null ? "–" : t("seconds", {value: data.median_handoff_wait_s})],
      [t("csatAverage"), data.csat.average === null ? "–" : t("ofFive", {value: data.csat.average, count: data.csat.count})],
      [t("up"), count(data.feedback.up)], [t("down"), count(data.feedback.down)]
    ];
    var body = document.getElementById("summary");
    body.textContent = "";
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      var th = document.createElement("th");
      th.scope = "row";
      th.textContent = row[0];
      var td = document.createElement("td");
      td.textContent = row[1];
      tr.appendChild(th);
      tr.appendChild(td);
      body.appendChild(tr);
    });
  }

  function unanswered(items) {
    var body = document.getElementById("unanswered");
    body.textContent = "";
    items.forEach(function (item) {
      var tr = document.createElement("tr");
      [item.text, String(item.count), t(item.outcome === "fallback" ? "fallbackOutcome" : "outOfScopeOutcome"),
       item.language].forEach(function (text, i) {
        var cell = document.createElement(i ? "td" : "th");
        if (!i) { cell.scope = "row"; }
        cell.textContent = text;
        tr.appendChild(cell);
      });
      body.appendChild(tr);
    });
    if (!items.length) {
      var tr = document.createElement("tr");
      var td = document.createElement("td");
      td.colSpan = 4;
      td.textContent = t("none");
      tr.appendChild(td);
      body.appendChild(tr);
    }
  }

  function draw(data) {
    var C = window.HelpdeskCharts;
    var dates = data.days.map(function (d) { return d.date; });
    var short = function (date) { return date.slice(5); };
    summary(data);
    place("chart-daily", C.chart({kind: "bars", title: t("dailyHeading"), description: t("dailyDesc"), labels: dates,
      short: short, labelHeading: t("date"), tableLabel: t("table"),
      series: [{name: t("conversations"), values: data.days.map(function (d) { return d.conversations; })},
               {name: t("messages"), values: data.days.map(function (d) { return d.messages; })}]}));
    place("chart-rates", C.chart({kind: "lines", title: t("ratesHeading"), description: t("ratesDesc"), labels: dates,
      short: short, max: 1, format: percent, labelHeading: t("date"), tableLabel: t("table"),
      series: [{name: t("contained"), values: data.days.map(function (d) { return d.contained_rate; })},
               {name: t("fallback"), values: data.days.map(function (d) { return d.fallback_rate; })}]}));
    if (data.top_topics.length) {
      place("chart-topics", C.chart({kind: "hbars", title: t("topicsHeading"), description: t("topicsDesc"),
        labels: data.top_topics.map(function (x) { return x.key; }), labelHeading: t("topic"), tableLabel: t("table"),
        series: [{name: t("times"), values: data.top_topics.map(function (x) { return x.count; })}]}));
    } else { empty("chart-topics"); }
    unanswered(data.unanswered);
    var scores = ["1", "2", "3", "4", "5"];
    place("chart-csat", C.chart({kind: "bars", title: t("csatHeading"), description: t("csatDesc"),
      labels: scores.map(function (s) { return t("stars", {score: s}); }), labelHeading: t("score"), tableLabel: t("table"),
      series: [{name: t("csatCount"), values: scores.map(function (s) { return data.csat.distribution[s]; })}]}));
    if (data.feedback_by_topic.length) {
      place("chart-feedback", C.chart({kind: "hbars", title: t("feedbackHeading"), description: t("feedbackDesc"),
        labels: data.feedback_by_topic.map(function (x) { return x.key; }), labelHeading: t("topic"),
        tableLabel: t("table"),
        series: [{name: t("up"), values: data.feedback_by_topic.map(function (x) { return x.up; })},
                 {name: t("down"), values: data.feedback_by_topic.map(function (x) { return x.down; })}]}));
    } else { empty("chart-feedback"); }
    if (data.channels.length) {
      place("chart-channels", C.chart({kind: "hbars", title: t("channelsHeading"), description: t("channelsDesc"),
        labels: data.channels.map(function (c) { return channelName(c.channel); }), labelHeading: t("channel"),
        tableLabel: t("table"),
        series: [{name: t("conversations"), values: data.channels.map(function (c) { return c.conversations; })},
                 {name: t("handoffs"), values: data.channels.map(function (c) { return c.handoffs; })}]}));
    } else { empty("chart-channels"); }
  }

  function query(from, to) {
    var parts = [];
    if (from) { parts.push("from=" + encodeURIComponent(from)); }
    if (to) { parts.push("to=" + encodeURIComponent(to)); }
    return parts.length ? "?" + parts.join("&") : "";
  }

  function load(from, to) {
    status(t("loading"));
    document.getElementById("analytics-page").setAttribute("aria-busy", "true");
    return api("/api/staff/analytics" + query(from, to)).then(function (data) {
      document.getElementById("period-from").value = data.from;
      document.getElementById("period-to").value = data.to;
      document.getElementById("csv-link").href = "/api/staff/analytics.csv" + query(data.from, data.to);
      draw(data);
      status(t("loaded", {from: data.from, to: data.to, conversations: data.conversations}));
    }).catch(function (error) {
      status(t("failed", {message: error.message}));
    }).then(function () {
      document.getElementById("analytics-page").removeAttribute("aria-busy");
    });
  }

  function start() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (node) {
      node.textContent = t(node.getAttribute("data-i18n"));
    });
    document.title = t("title");
    var params = new URLSearchParams(window.location.search);
    document.getElementById("period-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var from = document.getElementById("period-from").value, to = document.getElementById("period-to").value;
      window.history.replaceState(null, "", "/staff/analytics" + query(from, to));
      load(from, to);
    });
    load(params.get("from"), params.get("to"));
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());
