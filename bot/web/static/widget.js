/* The helpdesk chat widget: mounts into every element with data-helpdesk-chat.
 *
 * Talks only to the page's own origin (data-api-base may prefix the paths):
 * POST /api/chat/sessions, GET /api/chat/history, POST /api/chat/messages,
 * DELETE /api/chat/sessions ("new chat"), with the signed session id in
 * X-Chat-Session. Every piece of text from the
 * server goes into the DOM through textContent, never as HTML.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "helpdesk.chat.session";
  var MAX_CHARS = 1000;
  var mounted = 0; // numbers the element ids of each widget on the page

  var LABELS = {
    zh: {
      title: "社保卡智能助手",
      subtitle: "补办 · 激活 · 使用 · 挂失",
      placeholder: "请输入您的问题，按回车发送",
      input: "您的问题",
      send: "发送",
      log: "对话记录",
      you: "您",
      assistant: "助手",
      typing: "助手正在输入…",
      restart: "新对话",
      restartLabel: "开始新的对话",
      welcome: "您好！我是社保卡智能助手。您可以问我补办、激活、使用社保卡的问题，比如“补办的社保卡需要重新激活吗？”",
      unavailable: "助手暂时无法使用，请稍后再试。",
      retry: "重试",
      tooLong: "消息太长了，请控制在" + MAX_CHARS + "个字以内。",
      empty: "请先输入您的问题。",
      tooFast: "消息发送得太快了，请稍等片刻再发。",
      quickReplies: "可选回复"
    },
    en: {
      title: "Social security card assistant",
      subtitle: "Reissue · Activate · Use · Report lost",
      placeholder: "Type your question and press Enter",
      input: "Your question",
      send: "Send",
      log: "Conversation",
      you: "You",
      assistant: "Assistant",
      typing: "The assistant is typing…",
      restart: "New chat",
      restartLabel: "Start a new conversation",
      welcome: "Hello! I'm the social security card assistant. Ask me about reissuing, activating or using your card, for example “Does a reissued card need to be activated?”",
      unavailable: "The assistant is unavailable at the moment. Please try again.",
      retry: "Try again",
      tooLong: "That message is too long: please keep it under " + MAX_CHARS + " characters.",
      empty: "Please type your question first.",
      tooFast: "You are sending messages very quickly; please wait a moment.",
      quickReplies: "Suggested replies"
    }
  };

  function browserLanguage() {
    var langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || "zh"];
    return String(langs[0]).toLowerCase().indexOf("zh") === 0 ? "zh" : "en";
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  // The session id with when it was last used and how long the server lets it
  // sit idle: on a kiosk or a shared phone an idle session is forgotten, so the
  // next person cannot continue the previous person's (verified) conversation.
  var storage = {
    memory: null,
    read: function () {
      try { return window.localStorage.getItem(STORAGE_KEY); } catch (e) { return this.memory; }
    },
    get: function () {
      var saved = null;
      try { saved = JSON.parse(this.read()); } catch (e) { saved = null; }
      if (!saved || typeof saved.id !== "string" || typeof saved.at !== "number" || typeof saved.idle !== "number" ||
          Date.now() - saved.at > saved.idle * 1000) {
        this.clear();
        return null;
      }
      return saved;
    },
    set: function (id, idle) {
      var value = JSON.stringify({ id: id, at: Date.now(), idle: idle });
      try { window.localStorage.setItem(STORAGE_KEY, value); } catch (e) { this.memory = value; }
    },
    clear: function () {
      try { window.localStorage.removeItem(STORAGE_KEY); } catch (e) { this.memory = null; }
    }
  };

  function Widget(root) {
    this.root = root;
    this.api = (root.getAttribute("data-api-base") || "").replace(/\/$/, "");
    this.lang = browserLanguage();
    this.t = LABELS[this.lang];
    this.session = null;
    this.idle = 1800; // seconds; the server says how long when it issues a session
    this.pending = false;
    this.lastFailed = null;
    this.build();
    this.start();
  }

  Widget.prototype.build = function () {
    var t = this.t, self = this;
    var suffix = mounted++ ? "-" + mounted : "";
    var box = el("section", "hd-chat");
    box.setAttribute("aria-labelledby", "hd-title" + suffix);
    box.lang = this.lang === "zh" ? "zh-CN" : "en";

    var header = el("header", "hd-header");
    var titles = el("div", "hd-titles");
    var title = el("h2", "hd-title", t.title);
    title.id = "hd-title" + suffix;
    titles.appendChild(title);
    titles.appendChild(el("p", "hd-subtitle", t.subtitle));
    header.appendChild(titles);
    var restart = el("button", "hd-restart", t.restart);
    restart.type = "button";
    restart.setAttribute("aria-label", t.restartLabel);
    restart.addEventListener("click", function () { self.restart(); });
    header.appendChild(restart);

    this.log = el("div", "hd-log");
    this.log.setAttribute("role", "log");
    this.log.setAttribute("aria-live", "polite");
    this.log.setAttribute("aria-label", t.log);
    this.log.tabIndex = 0; // scrollable with the keyboard

    this.typing = el("div", "hd-typing");
    this.typing.setAttribute("role", "status");
    this.typing.hidden = true;
    var dots = el("span", "hd-dots");
    dots.setAttribute("aria-hidden", "true");
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    dots.appendChild(el("span"));
    this.typing.appendChild(dots);
    this.typing.appendChild(el("span", "hd-visually-hidden", t.typing));

    this.error = el("div", "hd-error");
    this.error.setAttribute("role", "alert");
    this.error.hidden = true;

    var form = el("form", "hd-form");
    form.noValidate = true;
    var label = el("label", "hd-visually-hidden", t.input);
    label.htmlFor = "hd-input" + suffix;
    this.input = el("textarea", "hd-input");
    this.input.id = "hd-input" + suffix;
    this.input.rows = 1;
    this.input.placeholder = t.placeholder;
    this.input.setAttribute("enterkeyhint", "send");
    this.input.setAttribute("maxlength", String(MAX_CHARS * 2)); // the server refuses over MAX_CHARS, politely
    this.sendButton = el("button", "hd-send", t.send);
    this.sendButton.type = "submit";
    form.appendChild(label);
    form.appendChild(this.input);
    form.appendChild(this.sendButton);

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      self.submit();
    });
    this.input.addEventListener("keydown", function (event) {
      // Enter that confirms a candidate of a Chinese input method must not send.
      if (event.isComposing || event.keyCode === 229) return;
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        self.submit();
      }
    });

    box.appendChild(header);
    box.appendChild(this.log);
    box.appendChild(this.typing);
    box.appendChild(this.error);
    box.appendChild(form);
    this.root.textContent = "";
    this.root.appendChild(box);
  };

  Widget.prototype.request = function (method, path, body) {
    var self = this;
    var headers = { "Accept": "application/json" };
    if (this.session) headers["X-Chat-Session"] = this.session;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(this.api + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store"
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    }).then(function (r) {
      // Every answer carries the id re-signed as used now: keep the latest.
      if (r.status === 200 && typeof r.data.session === "string" && self.session) {
        self.session = r.data.session;
        storage.set(self.session, self.idle);
      }
      return r;
    });
  };

  Widget.prototype.newSession = function () {
    var self = this;
    this.session = null;
    return this.request("POST", "/api/chat/sessions").then(function (r) {
      if (r.status === 429) throw new Error("tooFast");
      if (r.status !== 201 || !r.data.session) throw new Error("session");
      self.session = r.data.session;
      if (typeof r.data.idle_seconds === "number") self.idle = r.data.idle_seconds;
      storage.set(self.session, self.idle);
    });
  };

  Widget.prototype.start = function () {
    var self = this;
    var saved = storage.get();
    if (saved) { this.session = saved.id; this.idle = saved.idle; }
    var ready = this.session ? this.loadHistory() : this.newSession().then(function () { self.welcome(); });
    ready.catch(function (e) { self.sessionFailed(e); });
  };

  Widget.prototype.loadHistory = function () {
    var self = this;
    return this.request("GET", "/api/chat/history").then(function (r) {
      if (r.status === 403) { // not ours (any more): start afresh
        storage.clear();
        return self.newSession().then(function () { self.welcome(); });
      }
      if (r.status !== 200) throw new Error("history");
      var messages = r.data.messages || [];
      if (!messages.length) self.welcome();
      messages.forEach(function (m) {
        if (m.from === "user") self.addUser(m.text);
        else self.addBot(m);
      });
    });
  };

  Widget.prototype.sessionFailed = function (error) {
    this.showError(error && error.message === "tooFast" ? this.t.tooFast : this.t.unavailable, null);
  };

  // "New chat" ends the session on the server too (its id is refused from now on), then starts another.
  Widget.prototype.restart = function () {
    var self = this;
    var ending = this.session
      ? this.request("DELETE", "/api/chat/sessions").catch(function () { return null; })
      : Promise.resolve(null);
    this.session = null;
    storage.clear();
    this.log.textContent = "";
    this.hideError();
    ending.then(function () { return self.newSession(); })
      .then(function () { self.welcome(); }, function (e) { self.sessionFailed(e); });
    this.input.focus();
  };

  Widget.prototype.welcome = function () {
    this.addBot({ text: this.t.welcome, buttons: [] });
  };

  Widget.prototype.scroll = function () {
    this.log.scrollTop = this.log.scrollHeight;
  };

  Widget.prototype.addUser = function (text) {
    var row = el("div", "hd-msg hd-user");
    row.appendChild(el("span", "hd-visually-hidden", this.t.you + ": "));
    row.appendChild(el("p", "hd-bubble", text));
    this.log.appendChild(row);
    this.scroll();
  };

  Widget.prototype.addBot = function (message) {
    var self = this;
    var row = el("div", "hd-msg hd-bot");
    row.appendChild(el("span", "hd-visually-hidden", this.t.assistant + ": "));
    if (message.text) row.appendChild(el("p", "hd-bubble", message.text));
    if (message.buttons && message.buttons.length) {
      var group = el("div", "hd-quick");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", this.t.quickReplies);
      message.buttons.forEach(function (button) {
        var b = el("button", "hd-quick-reply", button.title);
        b.type = "button";
        b.addEventListener("click", function () { self.send(button.payload, button.title); });
        group.appendChild(b);
      });
      row.appendChild(group);
    }
    this.log.appendChild(row);
    this.scroll();
  };

  Widget.prototype.showError = function (text, retry) {
    var self = this;
    this.error.textContent = "";
    this.error.appendChild(el("span", null, text));
    if (retry) {
      var b = el("button", "hd-retry", this.t.retry);
      b.type = "button";
      b.addEventListener("click", function () {
        self.hideError();
        self.send(retry.payload, retry.shown, true);
      });
      this.error.appendChild(b);
    }
    this.error.hidden = false;
  };

  Widget.prototype.hideError = function () {
    this.error.hidden = true;
    this.error.textContent = "";
  };

  Widget.prototype.submit = function () {
    var text = this.input.value.trim();
    if (!text) { this.showError(this.t.empty, null); return; }
    if (text.length > MAX_CHARS) { this.showError(this.t.tooLong, null); return; }
    if (this.send(text, text)) this.input.value = "";
  };

  // Sends `payload`, showing `shown` as the user's message; false if a turn is still running.
  Widget.prototype.send = function (payload, shown, isRetry) {
    var self = this;
    if (this.pending) return false;
    this.pending = true;
    this.hideError();
    if (!isRetry) this.addUser(shown);
    this.typing.hidden = false;
    this.log.setAttribute("aria-busy", "true");
    this.sendButton.setAttribute("aria-disabled", "true");
    var ensureSession = this.session ? Promise.resolve() : this.newSession();
    var attempt = function (again) {
      return self.request("POST", "/api/chat/messages", { message: payload }).then(function (r) {
        if (r.status === 403 && again) {
          storage.clear();
          return self.newSession().then(function () { return attempt(false); });
        }
        return r;
      });
    };
    ensureSession.then(function () { return attempt(true); }).then(function (r) {
      if (r.status === 200) {
        (r.data.messages || []).forEach(function (m) { self.addBot(m); });
      } else if (r.status === 413) {
        self.showError(self.t.tooLong, null);
      } else if (r.status === 422) {
        self.showError(self.t.empty, null);
      } else if (r.status === 429) {
        self.showError(self.t.tooFast, { payload: payload, shown: shown });
      } else {
        self.showError(self.t.unavailable, { payload: payload, shown: shown });
      }
    }).catch(function () {
      self.showError(self.t.unavailable, { payload: payload, shown: shown });
    }).then(function () {
      self.pending = false;
      self.typing.hidden = true;
      self.log.removeAttribute("aria-busy");
      self.sendButton.removeAttribute("aria-disabled");
      self.scroll();
    });
    return true;
  };

  function mountAll() {
    var roots = document.querySelectorAll("[data-helpdesk-chat]");
    for (var i = 0; i < roots.length; i++) {
      if (!roots[i].helpdeskWidget) roots[i].helpdeskWidget = new Widget(roots[i]);
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mountAll);
  else mountAll();
})();
