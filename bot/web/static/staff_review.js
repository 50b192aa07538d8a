/* The review inbox (/staff/review): what the assistant did not handle well, grouped by kind, newest
 * first; a label picker and a dismiss button per item (bot/web/staff/review_routes.py). Keyboard: every
 * control is a native one; after an item is decided focus goes to the next item's picker and the page's
 * status line says what was done. Server text goes into the DOM through textContent only. */
(function () {
  "use strict";

  var LABELS = {
    zh: {
      title: "审核收件箱", back: "返回工作台", analytics: "服务统计",
      intro: "智能助手没有处理好的消息，按类型分组、相似的问法合并，最新的在前。为每条选择正确的标注（下次训练时成为训练数据），或忽略。",
      statusFilter: "显示", open: "待处理", labelled: "已标注", dismissed: "已忽略", all: "全部", refresh: "刷新",
      loading: "正在加载…", count: "共 {count} 条。", none: "没有需要处理的消息。", failed: "操作失败：{message}",
      kind_fallback: "没有答上（兜底或超出范围）", kind_low_confidence: "把握不大的回答",
      kind_down: "市民评为“没帮助”的回答", kind_handoff: "转人工的对话",
      asked: "出现 {count} 次", language: "语言", lang_zh: "中文", lang_en: "英文", predicted: "模型预测",
      confidence: "置信度 {value}%", nothing: "无", last: "最近", model: "模型",
      stateLabelled: "已标注为 {label}（{who}）", stateDismissed: "已忽略（{who}）", stateNote: "备注：{note}",
      labelPicker: "正确的标注", choose: "请选择…", faqGroup: "常见问题", intentGroup: "意图", note: "备注（可选；新主题必填）",
      save: "保存标注", dismiss: "忽略", chooseFirst: "请先选择一个标注。", noteNeeded: "新主题需要在备注里说明是什么。",
      didLabel: "已标注“{text}”为 {label}。", didDismiss: "已忽略“{text}”。",
      field: "{name}：{value}", comma: "，", titled: "{title}（{key}）",
      sessionEnded: "登录已过期，请重新登录。"
    },
    en: {
      title: "Review inbox", back: "Back to the console", analytics: "Figures",
      intro: "Messages the assistant did not handle well, by kind, similar wordings together, newest first. " +
        "Give each the right label (training data at the next training) or dismiss it.",
      statusFilter: "Show", open: "Open", labelled: "Labelled", dismissed: "Dismissed", all: "All", refresh: "Refresh",
      loading: "Loading…", count: "{count} items.", none: "Nothing to review.", failed: "Failed: {message}",
      kind_fallback: "Not answered (fallback or out of scope)", kind_low_confidence: "Answered with low confidence",
      kind_down: "Answers citizens rated not helpful", kind_handoff: "Handed to a person",
      asked: "{count} times", language: "Language", lang_zh: "Chinese", lang_en: "English",
      predicted: "Model predicted",
      confidence: "confidence {value}%", nothing: "nothing", last: "Last", model: "Model",
      stateLabelled: "Labelled {label} ({who})", stateDismissed: "Dismissed ({who})", stateNote: "Note: {note}",
      labelPicker: "Right label", choose: "Choose…", faqGroup: "FAQ topics", intentGroup: "Intents",
      note: "Note (optional; required for a new topic)",
      save: "Save label", dismiss: "Dismiss", chooseFirst: "Choose a label first.",
      noteNeeded: "Say in the note what the new topic is.",
      didLabel: "Labelled “{text}” as {label}.", didDismiss: "Dismissed “{text}”.",
      field: "{name}: {value}", comma: ", ", titled: "{title} ({key})",
      sessionEnded: "Your login has ended; please log in again."
    }
  };
  var KINDS = ["fallback", "low_confidence", "down", "handoff"];
  var lang = /^zh/i.test(navigator.language || "zh") ? "zh" : "en";
  function t(key, values) {
    var text = LABELS[lang][key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(String(values[name]));
    });
    return text;
  }
  var staffApi = window.HelpdeskStaffApi(function () { return t("sessionEnded"); });
  var api = staffApi.request;
  var labels = [];

  function status(text) { document.getElementById("review-status").textContent = text; }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function labelName(value) {
    var found = labels.filter(function (label) { return label.value === value; })[0];
    if (!found || found.kind === "intent") { return value; }
    return t("titled", {title: found[lang], key: value});
  }

  function predictedText(item) {
    if (!item.predicted) { return t("nothing"); }
    var name = item.predicted.indexOf("faq/") === 0 ? labelName(item.predicted.slice(4)) : item.predicted;
    return item.confidence === null || item.confidence === undefined ? name
      : name + t("comma") + t("confidence", {value: Math.round(item.confidence * 100)});
  }

  function stateText(item) {
    if (item.status === "labelled") {
      return t("stateLabelled", {label: labelName(item.label), who: item.reviewed_by || ""});
    }
    if (item.status === "dismissed") { return t("stateDismissed", {who: item.reviewed_by || ""}); }
    return "";
  }

  function picker(item, id) {
    var select = element("select");
    select.id = id;
    var first = element("option", null, t("choose"));
    first.value = "";
    select.appendChild(first);
    var groups = {faq: element("optgroup"), intent: element("optgroup")};
    groups.faq.label = t("faqGroup");
    groups.intent.label = t("intentGroup");
    labels.forEach(function (label) {
      var option = element("option", null, label.kind === "intent" ? label.value : label.kind === "faq"
        ? t("titled", {title: label[lang], key: label.value}) : label[lang]);
      option.value = label.value;
      option.selected = label.value === item.label;
      (groups[label.kind] || select).appendChild(option);
    });
    select.insertBefore(groups.intent, select.children[1] || null);
    select.insertBefore(groups.faq, groups.intent);
    return select;
  }

  function itemNode(item) {
    var li = element("li", "st-result");
    li.id = "item-" + item.id;
    var head = element("div", "st-result-head");
    var text = element("h3", "st-title", item.text);
    text.id = "item-" + item.id + "-text";
    text.lang = item.language === "en" ? "en" : "zh-CN";
    head.appendChild(text);
    head.appendChild(element("span", "st-score st-score-keywords", t("asked", {count: item.count})));
    li.appendChild(head);
    var when = item.last_at ? new Date(item.last_at).toLocaleString(lang === "zh" ? "zh-CN" : "en-GB") : "";
    li.appendChild(element("p", "st-meta", [
      t("field", {name: t("language"), value: t("lang_" + (item.language === "en" ? "en" : "zh"))}),
      t("field", {name: t("predicted"), value: predictedText(item)}),
      t("field", {name: t("last"), value: when}),
      t("field", {name: t("model"), value: item.model_id || t("nothing")})
    ].join(" · ")));
    var state = element("p", "st-meta", stateText(item));
    state.hidden = !state.textContent;
    li.appendChild(state);
    if (item.note) { li.appendChild(element("p", "st-meta", t("stateNote", {note: item.note}))); }

    var form = element("form", "st-actions st-review-form");
    form.noValidate = true;
    var pickId = "item-" + item.id + "-label", noteId = "item-" + item.id + "-note";
    var pickLabel = element("label", null, t("labelPicker"));
    pickLabel.htmlFor = pickId;
    var select = picker(item, pickId);
    var noteLabel = element("label", null, t("note"));
    noteLabel.htmlFor = noteId;
    var note = element("input");
    note.id = noteId;
    note.maxLength = 500;
    note.autocomplete = "off";
    note.value = item.note || "";
    var save = element("button", null, t("save"));
    save.type = "submit";
    var dismiss = element("button", "st-secondary", t("dismiss"));
    dismiss.type = "button";
    var error = element("p", "st-error");
    error.id = "item-" + item.id + "-error";
    error.setAttribute("role", "alert");
    error.hidden = true;
    [pickLabel, select, noteLabel, note, save, dismiss].forEach(function (node) { form.appendChild(node); });
    li.appendChild(form);
    li.appendChild(error);

    function fail(message, focus) {
      error.textContent = message;
      error.hidden = false;
      select.setAttribute("aria-describedby", error.id);
      if (focus) { focus.focus(); }
    }

    function send(body, done) {
      error.hidden = true;
      save.setAttribute("aria-disabled", "true");
      dismiss.setAttribute("aria-disabled", "true");
      api("POST", "/api/staff/review/" + item.id, body).then(function (data) {
        decided(li, data.item, done(data.item));
      }).catch(function (failure) { fail(t("failed", {message: failure.message})); })
        .then(function () { save.removeAttribute("aria-disabled"); dismiss.removeAttribute("aria-disabled"); });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (save.getAttribute("aria-disabled") === "true") { return; }
      if (!select.value) { fail(t("chooseFirst"), select); return; }
      if (select.value === "new_topic" && !note.value.trim()) { fail(t("noteNeeded"), note); return; }
      var body = {label: select.value};
      if (note.value.trim()) { body.note = note.value.trim(); }
      send(body, function (decidedItem) {
        return t("didLabel", {text: decidedItem.text, label: labelName(decidedItem.label)});
      });
    });
    dismiss.addEventListener("click", function () {
      if (dismiss.getAttribute("aria-disabled") === "true") { return; }
      send({dismiss: true}, function (decidedItem) { return t("didDismiss", {text: decidedItem.text}); });
    });
    return li;
  }

  function shown() { return document.getElementById("status-filter").value; }

  /* An item decided: it stays (redrawn) where the view still shows it, else it leaves the list and focus
   * goes to the next item's picker. */
  function decided(li, item, message) {
    status(message);
    if (shown() === "all" || shown() === item.status) {
      li.replaceWith(itemNode(item));
      document.getElementById("item-" + item.id + "-label").focus();
      return;
    }
    var list = li.parentNode, section = list.parentNode;
    var next = li.nextElementSibling || li.previousElementSibling;
    li.remove();
    section.querySelector("h2").textContent = t("kind_" + section.getAttribute("data-kind")) +
      " (" + list.children.length + ")";
    if (!list.children.length) { section.remove(); }
    var target = next ? next.querySelector("select") : document.querySelector("#groups select");
    (target || document.getElementById("status-filter")).focus();
  }

  function render(items) {
    var box = document.getElementById("groups");
    box.textContent = "";
    KINDS.forEach(function (kind) {
      var mine = items.filter(function (item) { return item.kind === kind; });
      if (!mine.length) { return; }
      var section = element("section", "st-lookup");
      section.setAttribute("data-kind", kind);
      section.setAttribute("aria-labelledby", "kind-" + kind);
      var heading = element("h2", null, t("kind_" + kind) + " (" + mine.length + ")");
      heading.id = "kind-" + kind;
      section.appendChild(heading);
      var list = element("ul", "st-results");
      list.setAttribute("aria-labelledby", "kind-" + kind);
      mine.forEach(function (item) { list.appendChild(itemNode(item)); });
      section.appendChild(list);
      box.appendChild(section);
    });
    status(items.length ? t("count", {count: items.length}) : t("none"));
  }

  function load() {
    status(t("loading"));
    return api("GET", "/api/staff/review?status=" + encodeURIComponent(shown())).then(function (data) {
      labels = data.labels;
      render(data.items);
    }).catch(function (error) { status(t("failed", {message: error.message})); });
  }

  function start() {
    document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
    Array.prototype.forEach.call(document.querySelectorAll("[data-i18n]"), function (node) {
      node.textContent = t(node.getAttribute("data-i18n"));
    });
    document.title = t("title") + " · " + (lang === "zh" ? "Review inbox" : "审核收件箱");
    document.getElementById("filter").addEventListener("submit", function (event) { event.preventDefault(); load(); });
    document.getElementById("status-filter").addEventListener("change", load);
    api("GET", "/api/staff/me").then(function (me) { staffApi.setCsrf(me.csrf_token); return load(); })
      .catch(function (error) { status(t("failed", {message: error.message})); });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
