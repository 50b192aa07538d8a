/* The helpdesk chat widget: mounts into every element with data-helpdesk-chat.
 *
 * Talks only to the page's own origin (data-api-base may prefix the paths):
 * POST /api/chat/sessions, GET /api/chat/history, POST /api/chat/messages,
 * GET /api/chat/updates (long poll), DELETE /api/chat/sessions ("new chat"),
 * with the signed session id in X-Chat-Session. Every piece of text from the
 * server goes into the DOM through textContent, never as HTML.
 *
 * A hand-over to a person: every answer carries `handoff` (null, or
 * {"id", "status": "waiting"|"claimed", "position", "staff"}). While it is
 * not null a banner says where the citizen is (in the queue, or who joined),
 * with a button that sends a leave phrase, and the widget long-polls
 * /api/chat/updates?after=<messages it has> for what staff and the bot add.
 * Messages written by a member of staff (`from: "staff"`) are marked as from
 * a person, in sight and for screen readers.
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
      welcome: "您好！我是社保卡智能助手。您可以问我补办、激活、使用社保卡的问题，比如“补办的社保卡需要重新激活吗？”",
      unavailable: "助手暂时无法使用，请稍后再试。",
      retry: "重试",
      tooLong: "消息太长了，请控制在" + MAX_CHARS + "个字以内。",
      empty: "请先输入您的问题。",
      tooFast: "消息发送得太快了，请稍等片刻再发。",
      quickReplies: "可选回复",
      restartHint: "结束这次对话，开始新的对话",
      staff: "工作人员",
      queueNext: "正在为您转接人工，您是下一位",
      queueAhead: "正在为您转接人工，前面还有 {n} 位",
      queueWaiting: "正在为您转接人工，请稍候",
      joined: "工作人员 {name} 已接入",
      joinedNoName: "工作人员已接入",
      backToBot: "回到智能助手",
      leavePhrase: "回到智能助手",
      staffPlaceholder: "请输入要发给工作人员的消息"
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
      welcome: "Hello! I'm the social security card assistant. Ask me about reissuing, activating or using your card, for example “Does a reissued card need to be activated?”",
      unavailable: "The assistant is unavailable at the moment. Please try again.",
      retry: "Try again",
      tooLong: "That message is too long: please keep it under " + MAX_CHARS + " characters.",
      empty: "Please type your question first.",
      tooFast: "You are sending messages very quickly; please wait a moment.",
      quickReplies: "Suggested replies",
      restartHint: "End this conversation and start a new one",
      staff: "Staff member",
      queueNext: "Connecting you to a member of staff: you are next",
      queueAhead: "Connecting you to a member of staff: {n} ahead of you",
      queueWaiting: "Connecting you to a member of staff; please wait",
      joined: "A member of staff has joined ({name})",
      joinedNoName: "A member of staff has joined",
      backToBot: "Back to the bot",
      leavePhrase: "back to the bot",
      staffPlaceholder: "Type your message to the member of staff"
    }
  };

  var POLL_RETRY_MS = 3000; // after a failed long poll
  var MAX_UNCONFIRMED = 500;
  var STOP = -1;

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

  function format(text, values) {
    return String(text).replace(/\{(\w+)\}/g, function (_, name) { return name in values ? values[name] : ""; });
  }

  // A text as the tracker store keeps it may have its numbers masked (110105********002X):
  // compare without digits, masks and spaces.
  function loose(text) {
    return String(text || "").replace(/[\s\dxX*＊]/g, "");
  }

  function shown(message) {
    return message && (message.text || (message.buttons && message.buttons.length));
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
    this.resetConversation();
    this.build();
    this.start();
  }

  // What the widget knows of the conversation on the server.
  Widget.prototype.resetConversation = function () {
    this.handoff = null;     // null, or {"id", "status", "position", "staff"}
    this.count = 0;          // how many messages the server's conversation had when it last said
    this.seen = {};          // ids of the server's messages shown
    this.unconfirmed = [];   // messages shown from a turn's answer, not yet seen in an update: {from, text}
    this.linger = 0;         // long polls still to make after the hand-over ended (its last words)
    this.pollRun = (this.pollRun || 0) + 1; // a long-poll loop runs while its number is the current one
    this.polling = false;
    if (this.pollAbort) this.pollAbort.abort();
    this.pollAbort = null;
  };

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
    // The visible text is the button's name (WCAG 2.5.3); the longer hint is its description.
    var restart = el("button", "hd-restart", t.restart);
    restart.type = "button";
    restart.title = t.restartHint;
    restart.addEventListener("click", function () { self.restart(); });
    header.appendChild(restart);

    // The hand-over banner: always in the page (a live region must exist before it
    // speaks), empty and flat while no person is involved.
    this.banner = el("div", "hd-handoff");
    this.bannerText = el("p", "hd-handoff-text");
    this.bannerText.setAttribute("role", "status");
    this.leaveButton = el("button", "hd-leave", t.backToBot);
    this.leaveButton.type = "button";
    this.leaveButton.hidden = true;
    this.leaveButton.addEventListener("click", function () { self.send(t.leavePhrase, t.leavePhrase); });
    this.banner.appendChild(this.bannerText);
    this.banner.appendChild(this.leaveButton);

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
    box.appendChild(this.banner);
    box.appendChild(this.log);
    box.appendChild(this.typing);
    box.appendChild(this.error);
    box.appendChild(form);
    this.root.textContent = "";
    this.root.appendChild(box);
  };

  // options: signal (to abort a long poll); poll (a long poll is not a use of the
  // session: the stored last use is left as it is); session (an ending one, not the current).
  Widget.prototype.request = function (method, path, body, options) {
    var self = this;
    options = options || {};
    var session = options.session || this.session;
    var headers = { "Accept": "application/json" };
    if (session) headers["X-Chat-Session"] = session;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(this.api + path, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      signal: options.signal
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data, headers: response.headers };
      });
    }).then(function (r) {
      // Every answer carries the id re-signed as used now: keep the latest.
      if (r.status === 200 && typeof r.data.session === "string" && self.session && !options.poll && !options.session) {
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
      if (!messages.some(shown)) self.welcome();
      self.receive(messages);
      self.count = messages.length;
      self.setHandoff(r.data.handoff);
    });
  };

  // The conversation has fewer messages than this widget counted (messages taken back, or
  // the conversation started afresh): show it again as the server has it.
  Widget.prototype.rebuild = function () {
    var self = this, run = this.pollRun;
    return this.request("GET", "/api/chat/history", undefined, { poll: true }).then(function (r) {
      if (run !== self.pollRun) return;
      if (r.status !== 200) throw new Error("history");
      self.log.textContent = "";
      self.seen = {};
      self.unconfirmed = [];
      var messages = r.data.messages || [];
      if (!messages.some(shown)) self.welcome();
      self.receive(messages);
      self.count = messages.length;
      self.setHandoff(r.data.handoff);
    });
  };

  Widget.prototype.sessionFailed = function (error) {
    this.showError(error && error.message === "tooFast" ? this.t.tooFast : this.t.unavailable, null);
  };

  // "New chat" ends the session on the server too (its id is refused from now on), then starts
  // another. A citizen waiting for or talking to a person leaves first, so staff are not left
  // talking to nobody.
  Widget.prototype.restart = function () {
    var self = this, old = this.session, held = !!this.handoff;
    var nothing = function () { return null; };
    this.session = null;
    storage.clear();
    var ending = Promise.resolve(null);
    if (old && held) {
      ending = this.request("POST", "/api/chat/messages", { message: this.t.leavePhrase }, { session: old }).catch(nothing);
    }
    if (old) {
      ending = ending.then(function () {
        return self.request("DELETE", "/api/chat/sessions", undefined, { session: old }).catch(nothing);
      });
    }
    this.resetConversation();
    this.renderBanner();
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

  // A message a member of staff wrote: a person, said in words (read first by a
  // screen reader, and seen above the bubble) and shown apart from the assistant's.
  Widget.prototype.addStaff = function (message) {
    var row = el("div", "hd-msg hd-staff");
    var who = el("p", "hd-from");
    var icon = el("span", "hd-person");
    icon.setAttribute("aria-hidden", "true");
    who.appendChild(icon);
    who.appendChild(document.createTextNode(this.t.staff + (message.staff ? " " + message.staff : "")));
    who.appendChild(el("span", "hd-visually-hidden", this.lang === "zh" ? "：" : ": "));
    row.appendChild(who);
    row.appendChild(el("p", "hd-bubble", message.text));
    this.log.appendChild(row);
    this.scroll();
  };

  Widget.prototype.addMessage = function (message) {
    if (message.from === "user") this.addUser(message.text);
    else if (message.from === "staff") this.addStaff(message);
    else this.addBot(message);
  };

  // What this widget showed from a turn's answer (or typed): an update that brings it
  // again (with an id) is not shown twice.
  Widget.prototype.remember = function (from, text) {
    this.unconfirmed.push({ from: from, text: text });
    if (this.unconfirmed.length > MAX_UNCONFIRMED) this.unconfirmed.shift();
  };

  // The server's message is one this widget showed already from a turn: the first
  // unconfirmed one of the same sender and text (numbers may be masked now); else the
  // oldest unconfirmed one when it is from the same sender (a text the tracker store
  // redacted otherwise). Those before it were taken back (a rewind): forgotten.
  Widget.prototype.confirm = function (message) {
    if (message.from === "staff") return false;
    var i, list = this.unconfirmed;
    for (i = 0; i < list.length; i++) {
      if (list[i].from === message.from && loose(list[i].text) === loose(message.text)) {
        list.splice(0, i + 1);
        return true;
      }
    }
    if (list.length && list[0].from === message.from) {
      list.shift();
      return true;
    }
    return false;
  };

  // Messages from the server (the history, an update), oldest first: each shown once.
  Widget.prototype.receive = function (messages) {
    var self = this;
    messages.forEach(function (m) {
      if (!shown(m)) return;
      if (m.id) {
        if (self.seen[m.id]) return;
        self.seen[m.id] = true;
      }
      if (self.confirm(m)) return;
      self.addMessage(m);
    });
  };

  Widget.prototype.setHandoff = function (handoff) {
    var was = this.handoff;
    this.handoff = handoff && (handoff.status === "waiting" || handoff.status === "claimed") ? handoff : null;
    if (was && !this.handoff) this.linger = 1; // the bot's words on the end may still be on their way
    this.renderBanner();
    if (this.handoff || this.linger > 0) this.startPolling();
  };

  Widget.prototype.renderBanner = function () {
    var t = this.t, h = this.handoff, text = "";
    if (h && h.status === "claimed") {
      text = h.staff ? format(t.joined, { name: h.staff }) : t.joinedNoName;
    } else if (h) {
      text = typeof h.position !== "number" ? t.queueWaiting
        : h.position <= 1 ? t.queueNext : format(t.queueAhead, { n: h.position - 1 });
    }
    if (this.bannerText.textContent !== text) this.bannerText.textContent = text;
    this.banner.className = "hd-handoff" + (h ? " hd-handoff-on hd-handoff-" + h.status : "");
    this.leaveButton.hidden = !h;
    this.input.placeholder = h ? t.staffPlaceholder : t.placeholder;
  };

  // The long poll: while a person holds the conversation (and once more after), ask
  // for the messages after the ones this widget has; the server answers as soon as
  // there are any or the conversation changes. It pauses while a turn runs.
  Widget.prototype.startPolling = function () {
    if (this.polling || this.pending || !this.session) return;
    this.polling = true;
    var self = this, run = ++this.pollRun;
    var next = function () {
      if (run !== self.pollRun) return;
      if (!self.handoff && self.linger <= 0) { self.polling = false; return; }
      if (!self.handoff) self.linger--;
      var controller = typeof AbortController === "function" ? new AbortController() : null;
      self.pollAbort = controller;
      self.request("GET", "/api/chat/updates?after=" + self.count, undefined,
                   { signal: controller ? controller.signal : undefined, poll: true }).then(function (r) {
        if (run !== self.pollRun) return STOP;
        if (r.status === 200) {
          if (typeof r.data.count === "number" && r.data.count < self.count) {
            return self.rebuild().then(function () { return 0; }, function () { return POLL_RETRY_MS; });
          }
          self.receive(r.data.messages || []);
          self.unconfirmed = []; // this poll started after the last turn ended: it had them all
          if (typeof r.data.count === "number") self.count = r.data.count;
          self.setHandoff(r.data.handoff);
          return 0;
        }
        if (r.status === 403) return STOP; // the session is over; the next message starts another
        if (r.status === 429) return Math.max(1, parseInt(r.headers.get("Retry-After") || "5", 10)) * 1000;
        return POLL_RETRY_MS;
      }, function () {
        return run === self.pollRun ? POLL_RETRY_MS : STOP;
      }).then(function (wait) {
        if (run !== self.pollRun) return;
        if (wait === STOP) { self.polling = false; return; }
        setTimeout(next, wait);
      });
    };
    next();
  };

  Widget.prototype.stopPolling = function () {
    this.pollRun++;
    this.polling = false;
    if (this.pollAbort) this.pollAbort.abort();
    this.pollAbort = null;
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
  Widget.prototype.send = function (payload, shownText, isRetry) {
    var self = this;
    if (this.pending) return false;
    this.pending = true;
    this.stopPolling(); // a turn and a long poll never overlap: the poll after the turn sees it whole
    this.hideError();
    if (!isRetry) {
      this.addUser(shownText);
      this.remember("user", shownText);
    }
    this.typing.hidden = !!this.handoff; // a person answers in their own time
    this.log.setAttribute("aria-busy", "true");
    this.sendButton.setAttribute("aria-disabled", "true");
    var run = this.pollRun;
    var ensureSession = this.session ? Promise.resolve() : this.newSession();
    var attempt = function (again) {
      return self.request("POST", "/api/chat/messages", { message: payload }).then(function (r) {
        if (r.status === 403 && again) {
          storage.clear();
          self.resetConversation();
          self.renderBanner();
          run = self.pollRun;
          return self.newSession().then(function () { return attempt(false); });
        }
        return r;
      });
    };
    ensureSession.then(function () { return attempt(true); }).then(function (r) {
      if (run !== self.pollRun) return; // "new chat" meanwhile: this answer belongs to the old one
      if (r.status === 200) {
        (r.data.messages || []).forEach(function (m) {
          if (!shown(m)) return;
          self.addBot(m);
          self.remember("bot", m.text);
        });
        self.pending = false;
        self.setHandoff(r.data.handoff);
      } else if (r.status === 413) {
        self.showError(self.t.tooLong, null);
      } else if (r.status === 422) {
        self.showError(self.t.empty, null);
      } else if (r.status === 429) {
        self.showError(self.t.tooFast, { payload: payload, shown: shownText });
      } else {
        self.showError(self.t.unavailable, { payload: payload, shown: shownText });
      }
    }).catch(function () {
      self.showError(self.t.unavailable, { payload: payload, shown: shownText });
    }).then(function () {
      self.pending = false;
      self.typing.hidden = true;
      self.log.removeAttribute("aria-busy");
      self.sendButton.removeAttribute("aria-disabled");
      self.scroll();
      if (self.handoff || self.linger > 0) self.startPolling(); // also after a failed turn
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
