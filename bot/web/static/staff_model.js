/* The model section of the admin's accounts page: each Rasa server's model and
 * state, and a button that makes them load the newest model one at a time
 * (bot/web/staff/model_routes.py). Server text goes into the DOM through
 * textContent only. */
(function () {
  "use strict";

  var LABELS = {
    zh: {
      heading: "对话模型", help: "训练出新模型（make train）后，点击按钮让每个 Rasa 服务依次加载最新模型；加载期间对话照常进行。",
      server: "服务", state: "状态", model: "模型文件", modelId: "模型 ID", last: "上次加载",
      serving: "服务中", loading: "加载中", unreachable: "无法连接", reload: "加载最新模型",
      running: "正在依次加载新模型……", done: "已完成：{lines}", failed: "失败：{message}",
      ok: "成功（{seconds} 秒）", notOk: "失败", none: "—", caption: "各 Rasa 服务的模型",
      sessionEnded: "登录已过期，请重新登录。"
    },
    en: {
      heading: "Assistant model", help: "After training a new model (make train), press the button: each Rasa server " +
        "loads the newest model in turn while conversations go on.",
      server: "Server", state: "State", model: "Model file", modelId: "Model id", last: "Last reload",
      serving: "serving", loading: "loading", unreachable: "unreachable", reload: "Load the newest model",
      running: "Loading the new model, one server at a time...", done: "Done: {lines}", failed: "Failed: {message}",
      ok: "ok ({seconds} s)", notOk: "failed", none: "—", caption: "The model of each Rasa server",
      sessionEnded: "Your login has ended; please log in again."
    }
  };
  var lang = /^zh/i.test(navigator.language || "zh") ? "zh" : "en";
  function t(key, values) {
    var text = LABELS[lang][key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(String(values[name])); });
    return text;
  }
  var timer = null, button, tbody, statusLine;
  var staffApi = window.HelpdeskStaffApi(function () { return t("sessionEnded"); });
  var api = staffApi.request;

  function element(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined) { node.textContent = text; }
    if (className) { node.className = className; }
    return node;
  }

  function lastReload(last) {
    if (!last) { return t("none"); }
    return last.result === "ok" ? t("ok", {seconds: last.seconds}) : t("notOk") + (last.error ? " (" + last.error + ")" : "");
  }

  function render(data) {
    tbody.textContent = "";
    (data.servers || []).forEach(function (server) {
      var tr = document.createElement("tr");
      var th = element("th", server.name);
      th.scope = "row";
      tr.appendChild(th);
      [t(server.state || "unreachable"), server.model_file || t("none"), server.model_id || t("none"),
       lastReload(server.last_reload)].forEach(function (text) { tr.appendChild(element("td", text)); });
      tbody.appendChild(tr);
    });
    var reload = data.reload;
    var running = !!(reload && reload.running);
    button.setAttribute("aria-disabled", running ? "true" : "false");
    if (running) {
      statusLine.textContent = t("running");
    } else if (reload && reload.finished_at) {
      var lines = (reload.outcomes || []).map(function (o) { return o.name + " " + (o.result === "ok" ? "ok" : o.result); });
      statusLine.textContent = t("done", {lines: lines.join(", ")});
    }
    if (running && !timer) { timer = window.setInterval(refresh, 2000); }
    if (!running && timer) { window.clearInterval(timer); timer = null; }
  }

  function refresh() {
    return api("GET", "/api/staff/model").then(render).catch(function (error) {
      statusLine.textContent = t("failed", {message: error.message});
    });
  }

  function build() {
    var main = document.getElementById("accounts-page");
    if (!main) { return false; }
    var section = element("section", undefined, "st-card");
    section.id = "model-section";
    section.setAttribute("aria-labelledby", "model-heading");
    var heading = element("h2", t("heading"));
    heading.id = "model-heading";
    section.appendChild(heading);
    section.appendChild(element("p", t("help")));
    var wrap = element("div", undefined, "st-table-wrap");
    var table = element("table", undefined, "st-table");
    table.id = "model-table";
    table.appendChild(element("caption", t("caption"), "st-visually-hidden"));
    var head = document.createElement("thead"), row = document.createElement("tr");
    ["server", "state", "model", "modelId", "last"].forEach(function (key) {
      var th = element("th", t(key));
      th.scope = "col";
      row.appendChild(th);
    });
    head.appendChild(row);
    table.appendChild(head);
    tbody = document.createElement("tbody");
    table.appendChild(tbody);
    wrap.appendChild(table);
    section.appendChild(wrap);
    statusLine = element("p", "", "st-status");
    statusLine.id = "model-status";
    statusLine.setAttribute("role", "status");
    section.appendChild(statusLine);
    button = element("button", t("reload"));
    button.type = "button";
    button.id = "model-reload";
    button.addEventListener("click", function () {
      if (button.getAttribute("aria-disabled") === "true") { return; }
      button.setAttribute("aria-disabled", "true");
      api("POST", "/api/staff/model/reload").then(function () { statusLine.textContent = t("running"); return refresh(); })
        .catch(function (error) {
          button.setAttribute("aria-disabled", "false");
          statusLine.textContent = t("failed", {message: error.message});
        });
    });
    section.appendChild(button);
    main.appendChild(section);
    return true;
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!build()) { return; }
    api("GET", "/api/staff/me").then(function (me) { staffApi.setCsrf(me.csrf_token); return refresh(); })
      .catch(function (error) { statusLine.textContent = t("failed", {message: error.message}); });
  });
})();
