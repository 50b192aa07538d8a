/* The staff pages: the login form (/staff/login) and the console (/staff): the
 * FAQ lookup and the open handoff tickets here, the live hand-over queue and
 * conversation in staff_handoffs.js, which uses what this file shares as
 * window.HelpdeskStaff (the labels, the API call, the login's CSRF token).
 * Labels follow the browser's language; all server text goes into the DOM
 * through textContent. */
(function () {
  "use strict";

  var LABELS = {
    zh: {
      loginTitle: "工作人员登录", username: "用户名", password: "密码", login: "登录",
      wrongCredentials: "用户名或密码不正确。", missing: "请输入用户名和密码。",
      throttled: "登录失败次数过多，请在 {minutes} 分钟后再试。", loginFailed: "暂时无法登录，请稍后再试。",
      appTitle: "社保卡工作台", logout: "退出登录", accounts: "账号管理", review: "审核收件箱", analytics: "服务统计", searchHeading: "查找答案", question: "市民的问题",
      showFirst: "先显示", langAuto: "按问题语言", search: "搜索", refresh: "刷新",
      searching: "正在查找…", noResults: "没有找到匹配的答案，请换个说法。",
      found: "找到 {count} 条答案（{method}）。", methodModel: "由问答模型排序", plusKeywords: "，其后为关键词检索的相关答案",
      methodKeywords: "关键词检索", reasonUnavailable: "问答模型暂时不可用", reasonUnsure: "问答模型不确定",
      score: "匹配度", keywordScore: "关键词得分", legalRef: "法律依据", copy: "复制答案", copied: "已复制",
      copyFailed: "复制失败，请手动选择文字", searchFailed: "查询失败，请稍后再试。", tooLong: "问题最多 500 个字。",
      sessionEnded: "登录已过期，请重新登录。",
      ticketsHeading: "待处理的转人工工单", ticketNumber: "工单号", ticketTime: "时间", ticketChannel: "渠道",
      ticketLanguage: "语言", ticketSummary: "摘要", ticketHolder: "持卡人", ticketsTable: "工单表格", noTickets: "目前没有待处理的工单。",
      ticketsCount: "共 {count} 个待处理工单。", ticketsUnavailable: "工单系统暂时无法访问，请稍后刷新。",
      noHolder: "未核验", langZh: "中文", langEn: "英文", loading: "正在加载…",
      source: "来源",
      // The knowledge base's `source` values (bot/core/knowledge_base.py SOURCES), in a clerk's words.
      source_text: "原始资料（补办社保卡问答原文）",
      measures_article_16: "《社会保障卡管理办法》第十六条",
      national_service: "全国统一公共服务（12333 热线、电子社保卡）",
      general_practice: "一般做法（非原始资料；细节以当地规定为准）",
      // The live hand-over (staff_handoffs.js).
      liveHeading: "实时转人工", queueHeading: "排队与接入中的对话", sound: "提示音",
      queueEmpty: "目前没有等待人工服务的市民。", queueCount: "{waiting} 位等待，{claimed} 位接入中。",
      queueUnavailable: "转人工服务暂时无法访问，正在重试…",
      newRequest: "新的转人工请求：{number}（{channel}，{language}）", newRequests: "{count} 位市民正在等待人工服务",
      waiting: "等待中", claimedBadge: "接入中", callbackBadge: "待回电", closedBadge: "已结束",
      waitedFor: "已等待 {time}", talkingFor: "已接入 {time}", position: "第 {n} 位",
      claimedByMe: "由我处理", claimedBy: "由 {name} 处理",
      claim: "接入", open: "打开", claimFailed: "未能接入：{reason}", alreadyClaimed: "该对话已被其他工作人员接入。",
      channel_web: "网页", channel_wechat: "微信",
      verified: "已核验：{holder}", notVerified: "身份未核验",
      callbackPhone: "回电号码：{phone}", callbackNone: "市民未留联系方式", summary: "问题摘要",
      conversationTitle: "对话 {number}", transcriptLabel: "对话记录 {number}",
      fromCitizen: "市民", fromBot: "助手", fromStaff: "工作人员",
      transcriptEmpty: "还没有消息。", transcriptUnavailable: "暂时无法读取对话，正在重试…",
      replyLabel: "回复市民", sendReply: "发送", replySent: "已发送。", replyEmpty: "请先输入回复。",
      replyHint: "回车发送，Shift+回车换行",
      notClaimedByYou: "只有接入这个对话的工作人员才能回复。", handoffClosed: "这个对话已经结束。",
      wechatRefused: "微信未能送达（错误码 {errcode}）：{message}", sendFailed: "发送失败，请重试。",
      suggestHeading: "知识库答案", suggestLabel: "在知识库中查找", suggestSearch: "查找",
      suggestNone: "没有找到匹配的答案。", suggestFailed: "查找失败，请稍后再试。",
      insert: "插入", inserted: "已插入回复框，可修改后发送。",
      handBack: "交回智能助手", outcomeLabel: "结果", closeHandoff: "结束服务",
      outcome_resolved: "已解决", outcome_referred_to_counter: "已引导到窗口办理", outcome_callback_needed: "需要回电",
      outcome_unresolved: "未解决", outcome_no_reply: "市民未回复",
      handedBack: "已交回智能助手。", closedAs: "服务已结束（{outcome}）。", releaseFailed: "操作失败，请重试。",
      readOnly: "只读：{reason}", readOnlyOther: "由其他工作人员处理", readOnlyWaiting: "尚未接入"
    },
    en: {
      loginTitle: "Staff login", username: "Username", password: "Password", login: "Log in",
      wrongCredentials: "Wrong username or password.", missing: "Enter your username and password.",
      throttled: "Too many failed logins. Try again in {minutes} minutes.", loginFailed: "Cannot log in right now; try again later.",
      appTitle: "Social security card staff console", logout: "Log out", accounts: "Accounts", review: "Review inbox", analytics: "Figures", searchHeading: "Find an answer",
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
      ticketLanguage: "Language", ticketSummary: "Summary", ticketHolder: "Holder", ticketsTable: "Tickets table", noTickets: "No open tickets.",
      ticketsCount: "{count} open tickets.", ticketsUnavailable: "The ticket system is unavailable; refresh later.",
      noHolder: "not verified", langZh: "Chinese", langEn: "English", loading: "Loading…",
      source: "Source",
      source_text: "the source text (the reissue FAQ article)",
      measures_article_16: "Article 16 of the Measures on the Administration of Social Security Cards",
      national_service: "a national public service (the 12333 hotline, the electronic card)",
      general_practice: "general practice (not in the source text; local rules decide the details)",
      liveHeading: "Live help", queueHeading: "Waiting and claimed conversations", sound: "Sound alert",
      queueEmpty: "Nobody is waiting for a member of staff.", queueCount: "{waiting} waiting, {claimed} claimed.",
      queueUnavailable: "The hand-over service is unavailable; retrying…",
      newRequest: "New request for a person: {number} ({channel}, {language})", newRequests: "{count} citizens are waiting for a person",
      waiting: "Waiting", claimedBadge: "Claimed", callbackBadge: "Call back", closedBadge: "Closed",
      waitedFor: "waiting {time}", talkingFor: "claimed {time} ago", position: "place {n}",
      claimedByMe: "yours", claimedBy: "claimed by {name}",
      claim: "Claim", open: "Open", claimFailed: "Could not claim: {reason}", alreadyClaimed: "Another member of staff has claimed this conversation.",
      channel_web: "web", channel_wechat: "WeChat",
      verified: "Verified: {holder}", notVerified: "Identity not verified",
      callbackPhone: "Call back on {phone}", callbackNone: "The citizen left no contact", summary: "Summary",
      conversationTitle: "Conversation {number}", transcriptLabel: "Transcript of {number}",
      fromCitizen: "Citizen", fromBot: "Assistant", fromStaff: "Staff",
      transcriptEmpty: "No messages yet.", transcriptUnavailable: "The conversation cannot be read right now; retrying…",
      replyLabel: "Reply to the citizen", sendReply: "Send", replySent: "Sent.", replyEmpty: "Type a reply first.",
      replyHint: "Enter sends, Shift+Enter adds a line",
      notClaimedByYou: "Only the member of staff who claimed this conversation can reply.", handoffClosed: "This conversation has ended.",
      wechatRefused: "WeChat did not deliver it (errcode {errcode}): {message}", sendFailed: "Sending failed; try again.",
      suggestHeading: "Knowledge base answers", suggestLabel: "Look up in the knowledge base", suggestSearch: "Find",
      suggestNone: "No matching answer.", suggestFailed: "The lookup failed; try again later.",
      insert: "Insert", inserted: "Inserted in the reply box: edit it, then send.",
      handBack: "Hand back to the bot", outcomeLabel: "Outcome", closeHandoff: "Close",
      outcome_resolved: "Resolved", outcome_referred_to_counter: "Referred to a service counter", outcome_callback_needed: "Call back needed",
      outcome_unresolved: "Not resolved", outcome_no_reply: "No reply from the citizen",
      handedBack: "Handed back to the bot.", closedAs: "Closed ({outcome}).", releaseFailed: "That did not work; try again.",
      readOnly: "Read only: {reason}", readOnlyOther: "another member of staff has it", readOnlyWaiting: "not claimed yet"
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
    var labelled = document.querySelectorAll("[data-i18n-label]");
    for (var j = 0; j < labelled.length; j++) labelled[j].setAttribute("aria-label", t(labelled[j].getAttribute("data-i18n-label")));
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
    // The table and the scrollable region around it (a tab stop) are shown together.
    var show = function (visible) { table.hidden = !visible; table.parentNode.hidden = !visible; };
    var body = table.querySelector("tbody");
    var status = document.getElementById("tickets-status");
    status.textContent = t("loading");
    api("GET", "/api/staff/tickets").then(function (r) {
      body.textContent = "";
      if (r.status === 401) { toLogin(); return; }
      if (r.status !== 200) { show(false); status.textContent = t("ticketsUnavailable"); return; }
      var tickets = r.data.tickets || [];
      show(tickets.length > 0);
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
    }, function () { show(false); status.textContent = t("ticketsUnavailable"); });
  }

  // The login: {username, csrf_token}, once (the hand-over console waits for it too).
  var mePromise = null;
  function me() {
    if (!mePromise) {
      mePromise = api("GET", "/api/staff/me").then(function (r) {
        if (r.status !== 200) { toLogin(); return new Promise(function () {}); }
        csrfToken = r.data.csrf_token;
        return r.data;
      });
    }
    return mePromise;
  }

  function staffPage() {
    me().then(function (login) {
      document.getElementById("staff-user").textContent = login.username;
      // The ways to the other pages, by capability (bot/web/staff/roles.py). A reviewer has none of
      // this page's own (the lookup, the queue): the review inbox is their start page.
      var capabilities = Array.isArray(login.capabilities) ? login.capabilities : [];
      if (capabilities.indexOf("faq_lookup") < 0 && capabilities.indexOf("review") >= 0) {
        window.location.replace("/staff/review");
        return;
      }
      ["review", "analytics", "accounts"].forEach(function (name) {
        document.getElementById(name + "-link").hidden = capabilities.indexOf(name) < 0;
      });
    });
    document.getElementById("search-form").addEventListener("submit", search);
    document.getElementById("tickets-refresh").addEventListener("click", loadTickets);
    document.getElementById("logout").addEventListener("click", function () {
      api("POST", "/api/staff/logout").then(toLogin, toLogin);
    });
    document.getElementById("q").focus();
    loadTickets();
  }

  window.HelpdeskStaff = { LANG: LANG, t: t, el: el, api: api, me: me, toLogin: toLogin, formatTime: formatTime };

  function init() {
    localize();
    if (document.getElementById("login-page")) loginPage();
    if (document.getElementById("staff-page")) staffPage();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
