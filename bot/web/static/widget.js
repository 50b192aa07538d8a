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
 *
 * Ratings (POST /api/chat/feedback, POST /api/chat/rating): under every answer
 * of the assistant that has an id, "helpful" / "not helpful" toggle buttons,
 * usable once; at the end of a conversation (an answer with `end`, a
 * hand-over that ended, "new chat") one question, 1 to 5 stars (a radio
 * group) with an optional comment, or Skip: asked once per conversation (the
 * history says what was rated), shown above the input, never in its way.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "helpdesk.chat.session";
  var ASKED_KEY = "helpdesk.chat.asked"; // the conversation (session nonce) last asked for a rating
  var MAX_COMMENT = 500;
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
      staffPlaceholder: "请输入要发给工作人员的消息",
      feedbackGroup: "这条回答有帮助吗？",
      helpful: "有帮助",
      notHelpful: "没帮助",
      feedbackThanks: "谢谢反馈",
      feedbackFailed: "未能提交，请重试",
      surveyQuestion: "这次服务您满意吗？",
      star: "{n} 星",
      comment: "补充意见（可选）",
      submitRating: "提交评价",
      skip: "跳过",
      chooseStars: "请先选择 1 到 5 星。",
      ratingThanks: "谢谢您的评价！",
      ratingFailed: "评价未能提交，请稍后再试。"
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
      staffPlaceholder: "Type your message to the member of staff",
      feedbackGroup: "Was this answer helpful?",
      helpful: "Helpful",
      notHelpful: "Not helpful",
      feedbackThanks: "Thanks",
      feedbackFailed: "Not sent; please try again",
      surveyQuestion: "Were you satisfied with this conversation?",
      star: "{n} stars",
      star1: "1 star",
      comment: "Comment (optional)",
      submitRating: "Send rating",
      skip: "Skip",
      chooseStars: "Please choose 1 to 5 stars first.",
      ratingThanks: "Thank you for your rating!",
      ratingFailed: "The rating was not sent; please try again later."
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

  function nonceOf(session) {
    return String(session || "").split(".")[0];
  }

  var remembered = {
    get: function () { try { return window.localStorage.getItem(ASKED_KEY); } catch (e) { return null; } },
    set: function (value) { try { window.localStorage.setItem(ASKED_KEY, value); } catch (e) { /* memory only */ } }
  };

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
    this.feedback = {};      // message id -> "up"|"down": the answers rated
    this.rated = false;      // the conversation was rated
    this.asked = false;      // the conversation was asked for a rating (answered or skipped)
    this.talked = false;     // the citizen said something in it
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

    // The end-of-conversation question (built when asked) and what is said about ratings.
    this.survey = el("div", "hd-survey");
    this.survey.hidden = true;
    this.announcer = el("p", "hd-visually-hidden");
    this.announcer.setAttribute("role", "status");
    this.suffix = suffix;

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
    box.appendChild(this.survey);
    box.appendChild(this.announcer);
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
      self.given(r.data);
      var messages = r.data.messages || [];
      if (!messages.some(shown)) self.welcome();
      self.receive(messages);
      self.count = messages.length;
      self.setHandoff(r.data.handoff);
    });
  };

  // What the history says was rated already.
  Widget.prototype.given = function (data) {
    var feedback = data.feedback && typeof data.feedback === "object" ? data.feedback : {};
    for (var id in feedback) {
      if (Object.prototype.hasOwnProperty.call(feedback, id)) this.feedback[id] = feedback[id];
    }
    if (data.rated === true) this.rated = true;
    if (this.session && remembered.get() === nonceOf(this.session)) this.asked = true;
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
      self.given(r.data);
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
    var ask = old && this.talked && !this.rated && !this.asked;
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
    if (ask) this.askRating(old); // about the conversation that ended (its session may still rate it)
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
    this.talked = true;
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
    if (message.id && message.text) row.appendChild(this.feedbackButtons(message.id));
    this.log.appendChild(row);
    this.scroll();
  };

  // "Helpful" / "Not helpful" under an answer: toggle buttons, usable once (then both
  // are aria-disabled, keeping the focus where it is, and "Thanks" is said in the log).
  Widget.prototype.feedbackButtons = function (id) {
    var self = this, t = this.t;
    var group = el("div", "hd-feedback");
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", t.feedbackGroup);
    var buttons = {};
    var note = el("span", "hd-feedback-note");
    var show = function (rating) {
      ["up", "down"].forEach(function (r) {
        buttons[r].setAttribute("aria-pressed", String(r === rating));
        if (rating) buttons[r].setAttribute("aria-disabled", "true");
        else buttons[r].removeAttribute("aria-disabled");
      });
    };
    ["up", "down"].forEach(function (rating) {
      var b = el("button", "hd-feedback-button hd-feedback-" + rating, rating === "up" ? t.helpful : t.notHelpful);
      b.type = "button";
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", function () {
        if (b.getAttribute("aria-disabled") === "true" || self.feedback[id]) return;
        self.feedback[id] = rating;
        show(rating);
        note.textContent = t.feedbackThanks;
        self.request("POST", "/api/chat/feedback", { message_id: id, rating: rating }).then(function (r) {
          if (r.status !== 201 && r.status !== 409) throw new Error("feedback");
        }).catch(function () {
          delete self.feedback[id];
          show(null);
          note.textContent = t.feedbackFailed;
        });
      });
      buttons[rating] = b;
      group.appendChild(b);
    });
    group.appendChild(note);
    if (this.feedback[id]) {
      show(this.feedback[id]);
      note.textContent = t.feedbackThanks;
    }
    return group;
  };

  // The end-of-conversation question, about the conversation of `session` (which
  // "new chat" may have ended: it can still be rated). Asked once; typing goes on.
  Widget.prototype.askRating = function (session) {
    var self = this, t = this.t;
    if (!session || this.rated || this.asked) return;
    this.asked = true;
    remembered.set(nonceOf(session));
    var survey = this.survey, name = "hd-stars" + this.suffix;
    survey.textContent = "";
    var form = el("form", "hd-survey-form");
    form.noValidate = true;
    var stars = el("fieldset", "hd-stars");
    stars.setAttribute("role", "radiogroup");
    var legend = el("legend", "hd-survey-question", t.surveyQuestion);
    legend.id = "hd-survey-question" + this.suffix;
    stars.setAttribute("aria-labelledby", legend.id);
    stars.appendChild(legend);
    var labels = [];
    var paint = function () {
      var chosen = form.querySelector("input[name='" + name + "']:checked");
      var value = chosen ? Number(chosen.value) : 0;
      labels.forEach(function (label, i) { label.className = "hd-star" + (i < value ? " hd-star-on" : ""); });
    };
    for (var n = 1; n <= 5; n++) {
      var label = el("label", "hd-star");
      var input = el("input", "hd-star-input");
      input.type = "radio";
      input.name = name;
      input.value = String(n);
      input.addEventListener("change", paint);
      var mark = el("span", "hd-star-mark", "★");
      mark.setAttribute("aria-hidden", "true");
      label.appendChild(input);
      label.appendChild(mark);
      label.appendChild(el("span", "hd-visually-hidden", n === 1 && t.star1 ? t.star1 : format(t.star, { n: n })));
      labels.push(label);
      stars.appendChild(label);
    }
    form.appendChild(stars);
    var commentId = "hd-comment" + this.suffix;
    var commentLabel = el("label", "hd-survey-label", t.comment);
    commentLabel.htmlFor = commentId;
    var comment = el("textarea", "hd-survey-comment");
    comment.id = commentId;
    comment.rows = 2;
    comment.setAttribute("maxlength", String(MAX_COMMENT));
    form.appendChild(commentLabel);
    form.appendChild(comment);
    var problem = el("p", "hd-survey-problem");
    var actions = el("div", "hd-survey-actions");
    var submit = el("button", "hd-survey-submit", t.submitRating);
    submit.type = "submit";
    var skip = el("button", "hd-survey-skip", t.skip);
    skip.type = "button";
    actions.appendChild(submit);
    actions.appendChild(skip);
    form.appendChild(problem);
    form.appendChild(actions);
    var done = function (text) {
      survey.textContent = "";
      survey.hidden = !text;
      if (text) survey.appendChild(el("p", "hd-survey-thanks", text));
      self.announcer.textContent = text || "";
      if (form.contains(document.activeElement) || document.activeElement === document.body) self.input.focus();
    };
    skip.addEventListener("click", function () { done(""); });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var chosen = form.querySelector("input[name='" + name + "']:checked");
      if (!chosen) { problem.textContent = t.chooseStars; return; }
      if (submit.getAttribute("aria-disabled") === "true") return;
      submit.setAttribute("aria-disabled", "true");
      var body = { score: Number(chosen.value) };
      if (comment.value.trim()) body.comment = comment.value.trim().slice(0, MAX_COMMENT);
      self.request("POST", "/api/chat/rating", body, { session: session }).then(function (r) {
        if (r.status !== 201 && r.status !== 409) throw new Error("rating");
        if (session === self.session) self.rated = true;
        done(t.ratingThanks);
      }).catch(function () {
        submit.removeAttribute("aria-disabled");
        problem.textContent = t.ratingFailed;
      });
    });
    problem.setAttribute("role", "alert");
    survey.appendChild(form);
    survey.hidden = false;
    this.announcer.textContent = t.surveyQuestion;
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
    if (was && !this.handoff) { // the bot's words on the end may still be on their way
      this.linger = 1;
      this.askRating(this.session);
    }
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
        var ends = false;
        (r.data.messages || []).forEach(function (m) {
          if (!shown(m)) return;
          self.addBot(m);
          self.remember("bot", m.text);
          ends = ends || m.end === true;
        });
        self.pending = false;
        self.setHandoff(r.data.handoff);
        if (ends) self.askRating(self.session);
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
