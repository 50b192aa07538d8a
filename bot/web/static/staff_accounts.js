/* The admin's staff accounts page (/staff/accounts): list, change a role or a
 * display name, add, delete (bot/web/staff/account_routes.py). Server text
 * goes into the DOM through textContent only. */
(function () {
  "use strict";

  var LABELS = {
    zh: {
      title: "工作人员账号", back: "返回工作台", listHeading: "账号与角色", addHeading: "新建账号",
      rolesHelp: "坐席（agent）：知识库查询、转人工；审核员（reviewer）：审核、统计；管理员（admin）：全部，以及账号管理。",
      username: "用户名", displayName: "显示名", role: "角色", actions: "操作", password: "初始密码（至少 10 个字符）",
      add: "新建", save: "保存", remove: "删除", saved: "已保存 {name}。", added: "已新建 {name}。", removed: "已删除 {name}。",
      count: "共 {count} 个账号。", failed: "操作失败：{message}", confirmRemove: "确定删除账号 {name}？",
      saveLabel: "保存 {name}", removeLabel: "删除 {name}", roleOf: "{name} 的角色", nameOf: "{name} 的显示名",
      sessionEnded: "登录已过期，请重新登录。"
    },
    en: {
      title: "Staff accounts", back: "Back to the console", listHeading: "Accounts and roles", addHeading: "Add an account",
      rolesHelp: "agent: FAQ lookup and live hand-overs; reviewer: review and figures; admin: everything, and accounts.",
      username: "Username", displayName: "Display name", role: "Role", actions: "Actions",
      password: "First password (at least 10 characters)",
      add: "Add", save: "Save", remove: "Delete", saved: "Saved {name}.", added: "Added {name}.", removed: "Deleted {name}.",
      count: "{count} accounts.", failed: "Failed: {message}", confirmRemove: "Delete the account {name}?",
      saveLabel: "Save {name}", removeLabel: "Delete {name}", roleOf: "Role of {name}", nameOf: "Display name of {name}",
      sessionEnded: "Your login has ended; please log in again."
    }
  };
  var lang = /^zh/i.test(navigator.language || "zh") ? "zh" : "en";
  function t(key, values) {
    var text = LABELS[lang][key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(String(values[name])); });
    return text;
  }
  var staffApi = window.HelpdeskStaffApi(function () { return t("sessionEnded"); });
  var api = staffApi.request;

  function status(text) { document.getElementById("accounts-status").textContent = text; }

  function cell(row, child) { var td = document.createElement("td"); td.appendChild(child); row.appendChild(td); return td; }

  function row(account) {
    var tr = document.createElement("tr");
    var name = document.createElement("span");
    name.textContent = account.username;
    var th = document.createElement("th");
    th.scope = "row";
    th.appendChild(name);
    tr.appendChild(th);
    var display = document.createElement("input");
    display.value = account.display_name || "";
    display.maxLength = 64;
    display.setAttribute("aria-label", t("nameOf", {name: account.username}));
    cell(tr, display);
    var role = document.createElement("select");
    role.setAttribute("aria-label", t("roleOf", {name: account.username}));
    ["agent", "reviewer", "admin"].forEach(function (value) {
      var option = document.createElement("option");
      option.value = option.textContent = value;
      option.selected = value === account.role;
      role.appendChild(option);
    });
    cell(tr, role);
    var buttons = document.createElement("div");
    var save = document.createElement("button");
    save.type = "button";
    save.textContent = t("save");
    save.setAttribute("aria-label", t("saveLabel", {name: account.username}));
    save.addEventListener("click", function () {
      api("PATCH", "/api/staff/accounts/" + encodeURIComponent(account.username),
          {role: role.value, display_name: display.value})
        .then(function () { status(t("saved", {name: account.username})); load(); })
        .catch(function (error) { status(t("failed", {message: error.message})); });
    });
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "st-secondary";
    remove.textContent = t("remove");
    remove.setAttribute("aria-label", t("removeLabel", {name: account.username}));
    remove.addEventListener("click", function () {
      if (!window.confirm(t("confirmRemove", {name: account.username}))) { return; }
      api("DELETE", "/api/staff/accounts/" + encodeURIComponent(account.username))
        .then(function () { status(t("removed", {name: account.username})); load(); })
        .catch(function (error) { status(t("failed", {message: error.message})); });
    });
    buttons.appendChild(save);
    buttons.appendChild(remove);
    cell(tr, buttons);
    return tr;
  }

  function load() {
    return api("GET", "/api/staff/accounts").then(function (data) {
      var body = document.getElementById("accounts");
      body.textContent = "";
      data.accounts.forEach(function (account) { body.appendChild(row(account)); });
      if (!document.getElementById("accounts-status").textContent) { status(t("count", {count: data.accounts.length})); }
    }).catch(function (error) { status(t("failed", {message: error.message})); });
  }

  function start() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (node) {
      node.textContent = t(node.getAttribute("data-i18n"));
    });
    document.getElementById("add-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var error = document.getElementById("add-error");
      error.hidden = true;
      var username = document.getElementById("new-username").value.trim();
      api("POST", "/api/staff/accounts", {
        username: username, password: document.getElementById("new-password").value,
        role: document.getElementById("new-role").value,
        display_name: document.getElementById("new-display-name").value
      }).then(function () {
        event.target.reset();
        status(t("added", {name: username}));
        load();
      }).catch(function (failure) { error.textContent = t("failed", {message: failure.message}); error.hidden = false; });
    });
    api("GET", "/api/staff/me").then(function (me) { staffApi.setCsrf(me.csrf_token); return load(); })
      .catch(function (error) { status(t("failed", {message: error.message})); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
