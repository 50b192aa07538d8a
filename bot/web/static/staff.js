/* The staff pages: the login form (/staff/login) and the FAQ lookup with the
 * open handoff tickets (/staff). Labels follow the browser's language; all
 * server text goes into the DOM through textContent. */
(function () {
  "use strict";

  var LABELS = {
    zh: {
      loginTitle: "工作人员登录", username: "用户名", password: "密码", login: "登录",
      wrongCredentials: "用户名或密码不正确。", missing: "请输入用户名和密码。",
      throttled: "登录失败次数过多，请在 {minutes} 分钟后再试。", loginFailed: "暂时无法登录，请稍后再试。",
      appTitle: "社保卡知识库查询", logout: "退出登录", searchHeading: "查找答案", question: "市民的问题",
      showFirst: "先显示", langAuto: "按问题语言", search: "搜索", refresh: "刷新",
      searching: "正在查找…", noResults: "没有找到匹配的答案，请换个说法。",
      found: "找到 {count} 条答案（{method}）。", methodModel: "由问答模型排序", plusKeywords: "，其后为关键词检索的相关答案",
      methodKeywords: "关键词检索", reasonUnavailable: "问答模型暂时不可用", reasonUnsure: "问答模型不确定",
      score: "匹配度", keywordScore: "关键词得分", legalRef: "法律依据", copy: "复制答案", copied: "已复制",
      copyFailed: "复制失败，请手动选择文字", searchFailed: "查询失败，请稍后再试。", tooLong: "问题最多 500 个字。",
      sessionEnded: "登录已过期，请重新登录。",
      ticketsHeading: "待处理的转人工工单", ticketNumber: "工单号", ticketTime: "时间", ticketChannel: "渠道",
      ticketLanguage: "语言", ticketSummary: "摘要", ticketHolder: "持卡人", noTickets: "目前没有待处理的工单。",
      ticketsCount: "共 {count} 个待处理工单。", ticketsUnavailable: "工单系统暂时无法访问，请稍后刷新。",
      noHolder: "未核验", langZh: "中文", langEn: "英文", loading: "正在加载…",
      source: "来源",
      // The knowledge base's `source` values (bot/core/knowledge_base.py SOURCES), in a clerk's words.
      source_text: "原始资料（补办社保卡问答原文）",
      measures_article_16: "《社会保障卡管理办法》第十六条",
      national_service: "全国统一公共服务（12333 热线、电子社保卡）",
      general_practice: "一般做法（非原始资料；细节以当地规定为准）"
    },
    en: {
      loginTitle: "Staff login", username: "Username", password: "Password", login: "Log in",
      wrongCredentials: "Wrong username or password.", missing: "Enter your username and password.",
      throttled: "Too many failed logins. Try again in {minutes} minutes.", loginFailed: "Cannot log in right now; try again later.",
      appTitle: "Social security card FAQ lookup", logout: "Log out", searchHeading: "Find an answer",
      question: "The citizen's question", showFirst: "Show first", langAuto: "Language of the question",
      search: "Search", refresh: "Refresh", searching: "Searching…",
      noResults: "No matching answer; try other words.", found: "{count} answers ({method}).",
      methodModel: "ranked by the NLU model", plusKeywords: ", then related answers by keyword search",
      methodKeywords: "keyword search",
      reasonUnavailable: "the model is unavailable", reasonUnsure: "the model is unsure",
      score: "Match", keywordScore: "Keyword score", legalRef: "Legal basis", copy: "Copy answer", copied: "Copied",
      copyFailed: "Copy failed; select the text instead", searchFailed: "The search failed; try again later.",
      tooLong: "A question has at most 500 characters.", sessionEnded: "Your login has expired; log in again.",
      ticketsHeading: "Open handoff tickets", ticketNumber: "Ticket", ticketTime: "Time", ticketChannel: "Channel",
      ticketLanguage: "Language", ticketSummary: "Summary", ticketHolder: "Holder", noTickets: "No open tickets.",
      ticketsCount: "{count} open tickets.", ticketsUnavailable: "The ticket system is unavailable; refresh later.",
      noHolder: "not verified", langZh: "Chinese", langEn: "English", loading: "Loading…",
      source: "Source",
      source_text: "the source text (the reissue FAQ article)",
      measures_article_16: "Article 16 of the Measures on the Administration of Social Security Cards",
      national_service: "a national public service (the 12333 hotline, the electronic card)",
      general_practice: "general practice (not in the source text; local rules decide the details)"
    }
  };

  var langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "zh"];
  var LANG = String(langs[0]).toLowerCase().indexOf("zh") === 0 ? "zh" : "en";
  var T = LABELS[LANG];
  var SOURCE_KEYS = ["source_text", "measures_article_16", "national_service", "general_practice"];
  var csrfToken = null;

  function t(key, values) {
    return String(T[key]).replace(/\{(\w+)\}/g, function (_, name) { return values && name in values ? values[name] : ""; });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function localize() {
    document.documentElement.lang = LANG === "zh" ? "zh-CN" : "en";
    var nodes = document.querySelectorAll("[data-i18n]");
    for (var i = 0; i < nodes.length; i++) nodes[i].textContent = t(nodes[i].getAttribute("data-i18n"));
    document.title = LANG === "zh" ? document.title.split(" · ")[0] : document.title.split(" · ").pop();
  }

  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (csrfToken) headers["X-CSRF-Token"] = csrfToken;
    return fetch(path, {
      method: method, headers: headers, credentials: "same-origin", cache: "no-store",
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data, headers: response.headers };
      });
    });
  }

  function toLogin() { window.location.assign("/staff/login"); }

  // --- login page ------------------------------------------------------------------------------

  function loginPage() {
    var form = document.getElementById("login-form");
    var error = document.getElementById("login-error");
    var username = document.getElementById("username");
    username.focus();
    function fail(text) { error.textContent = text; error.hidden = false; }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var password = document.getElementById("password");
      if (!username.value.trim() || !password.value) { fail(t("missing")); return; }
      api("POST", "/api/staff/login", { username: username.value, password: password.value }).then(function (r) {
        if (r.status === 200) { window.location.assign("/staff"); return; }
        password.value = "";
        if (r.status === 401) fail(t("wrongCredentials"));
        else if (r.status === 429) {
          var seconds = parseInt(r.headers.get("Retry-After") || "900", 10);
          fail(t("throttled", { minutes: Math.max(1, Math.ceil(seconds / 60)) }));
        } else if (r.status === 422) fail(t("missing"));
        else fail(t("loginFailed"));
        password.focus();
      }, function () { fail(t("loginFailed")); });
    });
  }

  // --- lookup page -----------------------------------------------------------------------------

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text).catch(function () { return fallbackCopy(text); });
    return fallbackCopy(text);
  }

  function fallbackCopy(text) {
    // For browsers without the async clipboard API (or outside a secure context).
    var area = el("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "st-offscreen";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok ? Promise.resolve() : Promise.reject(new Error("copy"));
  }

  function answerBlock(answer) {
    var block = el("section", "st-answer");
    block.lang = answer.language === "zh" ? "zh-CN" : "en";
    var head = el("div", "st-answer-head");
    head.appendChild(el("span", "st-lang", answer.language === "zh" ? t("langZh") : t("langEn")));
    head.appendChild(el("h4", "st-question", answer.question));
    block.appendChild(head);
    block.appendChild(el("p", "st-answer-text", answer.answer));
    if (answer.legal_ref) {
      var ref = el("p", "st-legal");
      ref.appendChild(el("strong", null, t("legalRef") + "："));
      ref.appendChild(document.createTextNode(answer.legal_ref));
      block.appendChild(ref);
    }
    if (answer.source) {
      // Where the answer comes from, so a clerk knows how far to rely on it.
      var source = el("p", "st-source");
      source.appendChild(el("strong", null, t("source") + (LANG === "zh" ? "：" : ": ")));
      source.appendChild(document.createTextNode(SOURCE_KEYS.indexOf(answer.source) >= 0 ? t(answer.source) : answer.source));
      block.appendChild(source);
    }
    var copy = el("button", "st-copy", t("copy"));
    copy.type = "button";
    copy.setAttribute("aria-label", t("copy") + " (" + (answer.language === "zh" ? t("langZh") : t("langEn")) + ")");
    var feedback = el("span", "st-copy-status");
    feedback.setAttribute("role", "status");
    copy.addEventListener("click", function () {
      copyText(answer.answer).then(function () { feedback.textContent = t("copied"); },
                                   function () { feedback.textContent = t("copyFailed"); });
      setTimeout(function () { feedback.textContent = ""; }, 3000);
    });
    var actions = el("div", "st-actions");
    actions.appendChild(copy);
    actions.appendChild(feedback);
    block.appendChild(actions);
    return block;
  }

  function scoreText(result) {
    if (result.method === "model") return t("score") + " " + Math.round(result.score * 100) + "%";
    return t("keywordScore") + " " + result.score.toFixed(2);
  }

  function showResults(data) {
    var list = document.getElementById("results");
    var status = document.getElementById("search-status");
    list.textContent = "";
    if (!data.results.length) { status.textContent = t("noResults"); return; }
    var related = data.results.some(function (r) { return r.method === "keywords"; });
    var method = data.method === "model" ? t("methodModel") + (related ? t("plusKeywords") : "") : t("methodKeywords") +
      (data.fallback_reason === "model_unavailable" ? " · " + t("reasonUnavailable") :
       data.fallback_reason === "model_unsure" ? " · " + t("reasonUnsure") : "");
    status.textContent = t("found", { count: data.results.length, method: method });
    data.results.forEach(function (result, index) {
      var item = el("li", "st-result");
      item.setAttribute("data-key", result.key);
      var head = el("div", "st-result-head");
      head.appendChild(el("h3", "st-title", (index + 1) + ". " + result.answers[0].title));
      var score = el("span", "st-score st-score-" + result.method, scoreText(result));
      head.appendChild(score);
      item.appendChild(head);
      result.answers.forEach(function (answer) { item.appendChild(answerBlock(answer)); });
      list.appendChild(item);
    });
  }

  function search(event) {
    event.preventDefault();
    var q = document.getElementById("q").value.trim();
    var lang = document.getElementById("lang").value;
    var status = document.getElementById("search-status");
    if (!q) return;
    if (q.length > 500) { status.textContent = t("tooLong"); return; }
    status.textContent = t("searching");
    // POST: the citizen's question must not be in a URL (proxies log URLs).
    api("POST", "/api/faq/search", lang ? { q: q, lang: lang } : { q: q }).then(function (r) {
      if (r.status === 200) showResults(r.data);
      else if (r.status === 401) { status.textContent = t("sessionEnded"); setTimeout(toLogin, 1500); }
      else status.textContent = r.status === 422 ? t("tooLong") : t("searchFailed");
    }, function () { status.textContent = t("searchFailed"); });
  }

  function formatTime(iso) {
    var date = new Date(iso);
    if (isNaN(date.getTime())) return iso || "";
    return date.toLocaleString(LANG === "zh" ? "zh-CN" : "en-GB", { hour12: false });
  }

  function loadTickets() {
    var table = document.getElementById("tickets");
    var body = table.querySelector("tbody");
    var status = document.getElementById("tickets-status");
    status.textContent = t("loading");
    api("GET", "/api/staff/tickets").then(function (r) {
      body.textContent = "";
      if (r.status === 401) { toLogin(); return; }
      if (r.status !== 200) { table.hidden = true; status.textContent = t("ticketsUnavailable"); return; }
      var tickets = r.data.tickets || [];
      table.hidden = !tickets.length;
      status.textContent = tickets.length ? t("ticketsCount", { count: tickets.length }) : t("noTickets");
      tickets.forEach(function (ticket) {
        var row = el("tr");
        var holder = ticket.holder ? [ticket.holder.name_masked, ticket.holder.id_number_masked].filter(Boolean).join(" ") : t("noHolder");
        [ticket.ticket_number, formatTime(ticket.created_at), ticket.channel,
         ticket.language === "en" ? t("langEn") : t("langZh"), ticket.summary, holder].forEach(function (value) {
          row.appendChild(el("td", null, value));
        });
        body.appendChild(row);
      });
    }, function () { table.hidden = true; status.textContent = t("ticketsUnavailable"); });
  }

  function staffPage() {
    api("GET", "/api/staff/me").then(function (r) {
      if (r.status !== 200) { toLogin(); return; }
      csrfToken = r.data.csrf_token;
      document.getElementById("staff-user").textContent = r.data.username;
    });
    document.getElementById("search-form").addEventListener("submit", search);
    document.getElementById("tickets-refresh").addEventListener("click", loadTickets);
    document.getElementById("logout").addEventListener("click", function () {
      api("POST", "/api/staff/logout").then(toLogin, toLogin);
    });
    document.getElementById("q").focus();
    loadTickets();
  }

  function init() {
    localize();
    if (document.getElementById("login-page")) loginPage();
    if (document.getElementById("staff-page")) staffPage();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
