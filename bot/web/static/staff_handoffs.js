/* The staff console's live hand-over (issue 12), on /staff beside the FAQ lookup.
 *
 * - The queue: GET /api/staff/handoffs every second. A new citizen waiting for a
 *   person shows an alert (role="alert"), plays a short chime (WebAudio, no file)
 *   and puts the number waiting in the tab's title; each entry's waiting time ticks.
 * - Claim (POST .../{id}/claim; 409 already_claimed: someone else was quicker), then
 *   the conversation: its transcript as the tracker store keeps it (GET .../{id}
 *   every second), a reply box (POST .../{id}/messages), the knowledge base's
 *   answers to the citizen's latest message one click away (insert, then edit),
 *   hand back to the bot or close with an outcome (POST .../{id}/release).
 *
 * Everything is a button, a field or a list: usable with the keyboard alone. The
 * queue is updated in place, so a focused button keeps its focus while it ticks.
 * Labels and the API call come from staff.js (window.HelpdeskStaff).
 */
(function () {
  "use strict";

  var S = window.HelpdeskStaff;
  if (!S) return;
  var t = S.t, el = S.el, api = S.api;

  var QUEUE_EVERY_MS = 1000;
  var CONVERSATION_EVERY_MS = 1000;
  var RETRY_MS = 3000;
  var SOUND_KEY = "helpdesk.staff.sound";
  var OUTCOMES = ["resolved", "referred_to_counter", "callback_needed", "unresolved", "no_reply"];
  var baseTitle = document.title; // as staff.js localized it (start() reads it again)

  var me = null;            // the login: {username, csrf_token}
  var clockOffset = 0;      // server time minus this browser's (from the Date header), ms
  var known = {};           // ids of hand-overs seen waiting: a new one alerts
  var items = {};           // id -> {node, parts..., handoff}
  var reopened = false;     // the first queue reopened the conversation this member of staff holds
  var openId = null;        // the conversation shown
  var openRun = 0;          // its polling loop's number
  var view = null;          // {handoff, transcript} of the open conversation
  var shownIds = {};        // transcript entries shown
  var lastCitizenText = null;
  var autoQuery = "";       // the lookup's text as the console last filled it in

  function $(id) { return document.getElementById(id); }

  function language(code) { return code === "en" ? t("langEn") : t("langZh"); }
  function channel(code) { return code === "wechat" ? t("channel_wechat") : code === "web" ? t("channel_web") : (code || ""); }
  function mine(h) { return h && h.status === "claimed" && me && h.claimed_by === me.username; }

  function noteClock(headers) {
    var date = Date.parse(headers && headers.get("Date"));
    if (!isNaN(date)) {
      var offset = date - Date.now();
      clockOffset = Math.abs(offset) > 2000 ? offset : 0; // the header has whole seconds
    }
  }

  function since(iso) {
    var start = Date.parse(iso);
    if (isNaN(start)) return "";
    var seconds = Math.max(0, Math.floor((Date.now() + clockOffset - start) / 1000));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    var two = function (n) { return (n < 10 ? "0" : "") + n; };
    return (h ? h + ":" + two(m) : two(m)) + ":" + two(s);
  }

  function setText(node, text) {
    if (node.textContent !== text) node.textContent = text;
  }

  function visuallyHidden(text) { return el("span", "st-visually-hidden", text); }

  // --- the chime ---------------------------------------------------------------------------------

  var audio = null;
  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return null;
    if (!audio) {
      try { audio = new Context(); } catch (e) { return null; }
    }
    return audio;
  }

  // Browsers let a page make a sound only once the person has used it: the first key or click unlocks it.
  function unlockAudio() {
    var context = audioContext();
    if (context && context.state === "suspended" && context.resume) context.resume().catch(function () {});
  }

  function soundOn() { return $("sound").checked; }

  // Two short rising notes, a fifth of a second in all.
  function chime() {
    if (!soundOn()) return;
    var context = audioContext();
    if (!context) return;
    unlockAudio();
    var now = context.currentTime;
    [[880, 0], [1318.5, 0.12]].forEach(function (note) {
      var oscillator = context.createOscillator(), gain = context.createGain();
      var start = now + note[1];
      oscillator.type = "sine";
      oscillator.frequency.setValueAtTime(note[0], start);
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.3, start + 0.015);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.11);
      oscillator.connect(gain);
      gain.connect(context.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.12);
    });
  }

  // --- the queue ---------------------------------------------------------------------------------

  function alertNew(fresh, waitingCount) {
    var box = $("queue-alert");
    if (!waitingCount) { setText(box, ""); return; }
    if (!fresh.length) return;
    var newest = fresh[fresh.length - 1];
    var text = t("newRequest", { number: newest.ticket_number, channel: channel(newest.channel),
                                 language: language(newest.language) });
    if (waitingCount > 1) text += " · " + t("newRequests", { count: waitingCount });
    box.textContent = text;
    chime();
  }

  function itemFor(h) {
    var entry = items[h.id];
    if (entry) return entry;
    var node = el("li", "st-q");
    node.setAttribute("data-id", String(h.id));
    var top = el("div", "st-q-top");
    var number = el("strong", "st-q-number");
    var badge = el("span", "st-badge");
    top.appendChild(number);
    top.appendChild(badge);
    var meta = el("p", "st-q-meta");
    var clock = el("div", "st-q-clock"); // not a <p>: bold, it would read as a heading (axe p-as-heading)
    var summary = el("p", "st-q-summary");
    var button = el("button", "st-q-action");
    button.type = "button";
    var buttonText = el("span");
    var buttonHidden = visuallyHidden("");
    button.appendChild(buttonText);
    button.appendChild(buttonHidden);
    button.addEventListener("click", function () { act(entry.handoff, button); });
    node.appendChild(top);
    node.appendChild(meta);
    node.appendChild(clock);
    node.appendChild(summary);
    node.appendChild(button);
    entry = items[h.id] = { node: node, number: number, badge: badge, meta: meta, clock: clock, summary: summary,
                            button: button, buttonText: buttonText, buttonHidden: buttonHidden, handoff: h };
    return entry;
  }

  function renderItem(entry) {
    var h = entry.handoff;
    var callback = h.mode === "callback";
    var state = h.status === "claimed" ? "claimed" : callback ? "callback" : "waiting";
    entry.node.className = "st-q st-q-" + state + (mine(h) ? " st-q-mine" : "") + (h.id === openId ? " st-q-open" : "");
    setText(entry.number, h.ticket_number || "#" + h.id);
    setText(entry.badge, state === "claimed" ? t("claimedBadge") : state === "callback" ? t("callbackBadge") : t("waiting"));
    entry.badge.className = "st-badge st-badge-" + state;
    var meta = [channel(h.channel), language(h.language)];
    if (state === "waiting" && typeof h.position === "number") meta.push(t("position", { n: h.position }));
    if (state === "claimed") meta.push(mine(h) ? t("claimedByMe") : t("claimedBy", { name: h.claimed_by || "" }));
    if (callback) meta.push(h.callback && h.callback.phone ? t("callbackPhone", { phone: h.callback.phone }) : t("callbackNone"));
    setText(entry.meta, meta.join(" · "));
    tick(entry);
    setText(entry.summary, h.summary || "");
    entry.summary.hidden = !h.summary;
    var label = state === "waiting" ? t("claim") : t("open");
    setText(entry.buttonText, label);
    setText(entry.buttonHidden, " " + (h.ticket_number || ""));
  }

  function tick(entry) {
    var h = entry.handoff;
    setText(entry.clock, h.status === "claimed" && h.claimed_at ? t("talkingFor", { time: since(h.claimed_at) })
                                                               : t("waitedFor", { time: since(h.waiting_since) }));
  }

  function renderQueue(handoffs) {
    var list = $("queue");
    var present = {}, fresh = [], waiting = 0, claimed = 0;
    handoffs.forEach(function (h, index) {
      present[h.id] = true;
      var live = h.mode !== "callback";
      if (h.status === "waiting" && live) {
        waiting++;
        if (!known[h.id]) fresh.push(h);
        known[h.id] = true;
      } else if (h.status === "claimed") {
        claimed++;
      }
      var entry = itemFor(h);
      entry.handoff = h;
      renderItem(entry);
      // In the server's order (the oldest waiting first), moving a node only when it is out of place.
      if (list.children[index] !== entry.node) list.insertBefore(entry.node, list.children[index] || null);
    });
    Object.keys(items).forEach(function (id) {
      if (!present[id]) {
        var node = items[id].node;
        if (node.contains(document.activeElement)) $("queue-heading").focus();
        list.removeChild(node);
        delete items[id];
      }
    });
    setText($("queue-status"), handoffs.length ? t("queueCount", { waiting: waiting, claimed: claimed }) : t("queueEmpty"));
    document.title = (waiting ? "(" + waiting + ") " : "") + baseTitle;
    alertNew(fresh, waiting);
    // After a reload, the conversation this member of staff holds is shown again.
    if (!reopened && openId === null) {
      reopened = true;
      var held = handoffs.filter(mine)[0];
      if (held) openConversation(held.id, false);
    }
  }

  function pollQueue() {
    api("GET", "/api/staff/handoffs").then(function (r) {
      if (r.status === 401) { S.toLogin(); return null; }
      noteClock(r.headers);
      if (r.status !== 200) { setText($("queue-status"), t("queueUnavailable")); return RETRY_MS; }
      renderQueue(r.data.handoffs || []);
      return QUEUE_EVERY_MS;
    }, function () {
      setText($("queue-status"), t("queueUnavailable"));
      return RETRY_MS;
    }).then(function (wait) {
      if (wait !== null) setTimeout(pollQueue, wait);
    });
  }

  function tickAll() {
    Object.keys(items).forEach(function (id) { tick(items[id]); });
  }

  // A queue entry's button: claim a waiting conversation, or open one.
  function act(h, button) {
    if (h.status !== "waiting" || h.mode === "callback") { openConversation(h.id); return; }
    button.setAttribute("aria-disabled", "true");
    api("POST", "/api/staff/handoffs/" + h.id + "/claim", {}).then(function (r) {
      button.removeAttribute("aria-disabled");
      if (r.status === 200) {
        if (r.data.handoff) { items[h.id].handoff = r.data.handoff; renderItem(items[h.id]); }
        openConversation(h.id, true);
      } else if (r.status === 401) {
        S.toLogin();
      } else {
        var reason = r.status === 409 && r.data.error && r.data.error.code === "already_claimed" ? t("alreadyClaimed")
          : (r.data.error && r.data.error.message) || t("releaseFailed");
        setText($("queue-alert"), t("claimFailed", { reason: reason }));
      }
    }, function () {
      button.removeAttribute("aria-disabled");
      setText($("queue-alert"), t("claimFailed", { reason: t("releaseFailed") }));
    });
  }

  // --- the conversation --------------------------------------------------------------------------

  function openConversation(id, focusReply) {
    openId = id;
    var run = ++openRun;
    view = null;
    shownIds = {};
    lastCitizenText = null;
    autoQuery = "";
    $("suggest-q").value = "";
    $("suggestions").textContent = "";
    setText($("suggest-status"), "");
    conversationStatus("", "");
    $("reply-error").hidden = true;
    var transcript = $("transcript");
    transcript.textContent = "";
    transcript.removeAttribute("aria-live"); // the first fill is not read out, what comes after is
    $("conversation").hidden = false;
    Object.keys(items).forEach(function (key) { renderItem(items[key]); });
    pollConversation(run, focusReply);
  }

  function pollConversation(run, focusReply) {
    if (run !== openRun) return;
    api("GET", "/api/staff/handoffs/" + openId).then(function (r) {
      if (run !== openRun) return null;
      if (r.status === 401) { S.toLogin(); return null; }
      if (r.status !== 200) { conversationStatus("unavailable", t("transcriptUnavailable")); return RETRY_MS; }
      renderConversation(r.data);
      if (focusReply) {
        focusReply = false;
        if (!$("reply").disabled) $("reply").focus();
      }
      return r.data.handoff && r.data.handoff.status === "closed" ? null : CONVERSATION_EVERY_MS;
    }, function () {
      if (run !== openRun) return null;
      conversationStatus("unavailable", t("transcriptUnavailable"));
      return RETRY_MS;
    }).then(function (wait) {
      if (wait !== null) setTimeout(function () { pollConversation(run, focusReply); }, wait);
    });
  }

  function holderText(h) {
    if (!h.verified) return t("notVerified");
    var holder = h.holder ? [h.holder.name_masked, h.holder.id_number_masked].filter(Boolean).join(" ") : "";
    return t("verified", { holder: holder });
  }

  function renderConversation(data) {
    var h = data.handoff || {};
    var before = view && view.handoff;
    view = data;
    setText($("conversation-heading"), t("conversationTitle", { number: h.ticket_number || "#" + h.id }));
    $("transcript").setAttribute("aria-label", t("transcriptLabel", { number: h.ticket_number || "#" + h.id }));
    var meta = [channel(h.channel), language(h.language), holderText(h)];
    if (h.mode === "callback") meta.push(h.callback && h.callback.phone ? t("callbackPhone", { phone: h.callback.phone }) : t("callbackNone"));
    setText($("conversation-meta"), meta.join(" · "));
    if (h.summary) setText($("conversation-summary"), t("summary") + (S.LANG === "zh" ? "：" : ": ") + h.summary);
    $("conversation-summary").hidden = !h.summary;

    renderTranscript(data.transcript || []);

    var canReply = mine(h);
    var canRelease = canReply || (h.status === "waiting");
    $("reply-form").hidden = !canReply;
    $("suggest").hidden = !canReply;
    $("release-actions").hidden = !canRelease;
    $("hand-back").hidden = h.status !== "claimed";
    if (h.status === "closed") {
      conversationStatus("final", h.outcome === "back_to_bot" ? t("handedBack") : t("closedAs", { outcome: outcomeText(h.outcome) }));
    } else if (!canReply) {
      conversationStatus("readOnly", t("readOnly", { reason: h.status === "claimed" ? t("readOnlyOther") : t("readOnlyWaiting") }));
    } else if (statusKind !== "error") {
      conversationStatus("", "");
    }
    if (canReply) suggestFor(data.transcript || [], h);
  }

  // The line under the transcript: what state the conversation is in, or what went wrong (kept
  // until something else is said).
  var statusKind = "";
  function conversationStatus(kind, text) {
    statusKind = kind;
    setText($("conversation-status"), text);
  }

  function outcomeText(code) {
    return OUTCOMES.indexOf(code) >= 0 ? t("outcome_" + code) : (code || "");
  }

  function entryNode(line) {
    var who = line.from === "user" ? "citizen" : line.from === "staff" ? "staff" : "bot";
    var row = el("li", "st-line st-line-" + who);
    var head = el("p", "st-line-head");
    var name = who === "citizen" ? t("fromCitizen") : who === "staff" ? t("fromStaff") + (line.staff ? " " + line.staff : "") : t("fromBot");
    head.appendChild(el("strong", null, name));
    if (line.at) {
      var time = el("time", "st-line-time", S.formatTime(line.at).split(" ").pop());
      time.setAttribute("datetime", line.at);
      head.appendChild(document.createTextNode(" "));
      head.appendChild(time);
    }
    head.appendChild(visuallyHidden(S.LANG === "zh" ? "：" : ": "));
    row.appendChild(head);
    row.appendChild(el("p", "st-line-text", line.text));
    return row;
  }

  function renderTranscript(lines) {
    var box = $("transcript"), list = $("transcript-list");
    var atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    var added = 0;
    if (!list) {
      list = el("ol", "st-lines");
      list.id = "transcript-list";
      box.appendChild(list);
    }
    // Entries without an id (none expected) are keyed by their place.
    lines.forEach(function (line, index) {
      var key = line.id || ("#" + index);
      if (shownIds[key]) return;
      shownIds[key] = true;
      list.appendChild(entryNode(line));
      added++;
    });
    var empty = $("transcript-empty");
    if (!lines.length && !empty) {
      empty = el("p", "st-status", t("transcriptEmpty"));
      empty.id = "transcript-empty";
      box.appendChild(empty);
    } else if (lines.length && empty) {
      box.removeChild(empty);
    }
    if (added && atBottom) box.scrollTop = box.scrollHeight;
    if (!box.hasAttribute("aria-live")) {
      box.scrollTop = box.scrollHeight;
      box.setAttribute("aria-live", "polite");
    }
  }

  // --- the knowledge base's answers, one click away ------------------------------------------------

  // The citizen's latest words, but not the request for a person itself (the citizen
  // message just before the assistant's reply that names the ticket): that one says
  // nothing the knowledge base could answer, the question before it may.
  function latestQuestion(lines, ticketNumber) {
    var queued = -1, request = -1, i;
    for (i = 0; ticketNumber && i < lines.length; i++) {
      if (lines[i].from === "bot" && lines[i].text.indexOf(ticketNumber) >= 0) { queued = i; break; }
    }
    for (i = queued - 1; i >= 0; i--) {
      if (lines[i].from === "user") { request = i; break; }
    }
    for (i = lines.length - 1; i >= 0; i--) {
      if (lines[i].from === "user" && i !== request) return lines[i].text;
    }
    return null;
  }

  function suggestFor(lines, handoff) {
    var latest = latestQuestion(lines, handoff.ticket_number);
    if (!latest || latest === lastCitizenText) return;
    lastCitizenText = latest;
    var box = $("suggest-q");
    // The staff's own words in the lookup are left alone.
    if (box.value && box.value !== autoQuery) return;
    autoQuery = latest.slice(0, 500);
    box.value = autoQuery;
    lookup(autoQuery, handoff.language);
  }

  function lookup(q, lang) {
    var status = $("suggest-status"), list = $("suggestions");
    q = (q || "").trim();
    if (!q) return;
    setText(status, t("searching"));
    var body = { q: q.slice(0, 500) };
    if (lang === "zh" || lang === "en") body.lang = lang;
    api("POST", "/api/faq/search", body).then(function (r) {
      if (r.status === 401) { S.toLogin(); return; }
      if (r.status !== 200) { setText(status, t("suggestFailed")); return; }
      list.textContent = "";
      var results = (r.data.results || []).slice(0, 3);
      setText(status, results.length ? "" : t("suggestNone"));
      results.forEach(function (result) {
        var answer = result.answers.filter(function (a) { return a.language === lang; })[0] || result.answers[0];
        if (!answer) return;
        var item = el("li", "st-suggestion");
        item.lang = answer.language === "zh" ? "zh-CN" : "en";
        item.appendChild(el("p", "st-suggestion-title", answer.title || answer.question));
        item.appendChild(el("p", "st-suggestion-text", answer.answer));
        var insert = el("button", "st-insert");
        insert.type = "button";
        insert.appendChild(document.createTextNode(t("insert")));
        insert.appendChild(visuallyHidden(" " + (answer.title || answer.question || "")));
        insert.addEventListener("click", function () { insertReply(answer.answer); });
        item.appendChild(insert);
        list.appendChild(item);
      });
    }, function () { setText(status, t("suggestFailed")); });
  }

  // Into the reply box, after what is there, to be edited before sending.
  function insertReply(text) {
    var box = $("reply");
    box.value = box.value.trim() ? box.value.replace(/\s+$/, "") + "\n" + text : text;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
    box.scrollTop = box.scrollHeight;
    setText($("suggest-status"), t("inserted"));
  }

  // --- replying, handing back, closing -----------------------------------------------------------

  function showReplyError(text) {
    var error = $("reply-error");
    error.textContent = text;
    error.hidden = !text;
  }

  function sendReply(event) {
    if (event) event.preventDefault();
    var box = $("reply"), button = $("reply-send");
    var text = box.value.trim();
    if (!text) { showReplyError(t("replyEmpty")); return; }
    if (button.getAttribute("aria-disabled") === "true" || openId === null) return;
    button.setAttribute("aria-disabled", "true");
    showReplyError("");
    var id = openId, run = openRun;
    api("POST", "/api/staff/handoffs/" + id + "/messages", { text: text }).then(function (r) {
      button.removeAttribute("aria-disabled");
      if (r.status === 201) {
        if (box.value.trim() === text) box.value = "";
        setText($("reply-status"), t("replySent"));
        setTimeout(function () { if ($("reply-status").textContent === t("replySent")) setText($("reply-status"), ""); }, 3000);
        if (run === openRun) pollConversation(++openRun); // show it at once
        return;
      }
      if (r.status === 401) { S.toLogin(); return; }
      var error = r.data.error || {};
      if (r.status === 502 && error.code === "wechat_refused") {
        showReplyError(t("wechatRefused", { errcode: error.errcode, message: error.message || "" }));
      } else if (r.status === 409) {
        showReplyError(error.code === "already_closed" ? t("handoffClosed") : t("notClaimedByYou"));
      } else {
        showReplyError(t("sendFailed"));
      }
    }, function () {
      button.removeAttribute("aria-disabled");
      showReplyError(t("sendFailed"));
    });
  }

  function release(to) {
    if (openId === null) return;
    var body = to === "bot" ? { to: "bot" } : { to: "closed", outcome: $("outcome").value };
    var id = openId;
    api("POST", "/api/staff/handoffs/" + id + "/release", body).then(function (r) {
      if (r.status === 401) { S.toLogin(); return; }
      if (r.status !== 200) {
        var error = r.data.error || {};
        conversationStatus("error", error.code === "already_closed" ? t("handoffClosed") : t("releaseFailed"));
        return;
      }
      if (id === openId) {
        renderConversation({ handoff: r.data.handoff, transcript: (view && view.transcript) || [] });
        pollConversation(++openRun); // its last words (the bot's) and the end
      }
      $("conversation-heading").focus();
    }, function () { conversationStatus("error", t("releaseFailed")); });
  }

  // --- start -------------------------------------------------------------------------------------

  function buildOutcomes() {
    var select = $("outcome");
    OUTCOMES.forEach(function (code) {
      var option = el("option", null, t("outcome_" + code));
      option.value = code;
      select.appendChild(option);
    });
  }

  function start() {
    if (!$("live")) return;
    baseTitle = document.title;
    buildOutcomes();
    var sound = $("sound");
    try { sound.checked = window.localStorage.getItem(SOUND_KEY) !== "off"; } catch (e) { sound.checked = true; }
    sound.addEventListener("change", function () {
      try { window.localStorage.setItem(SOUND_KEY, sound.checked ? "on" : "off"); } catch (e) { /* kept for this page */ }
      if (sound.checked) unlockAudio();
    });
    document.addEventListener("pointerdown", unlockAudio, true);
    document.addEventListener("keydown", unlockAudio, true);
    $("reply-form").addEventListener("submit", sendReply);
    $("reply").addEventListener("keydown", function (event) {
      if (event.isComposing || event.keyCode === 229) return; // an input method's Enter
      if (event.key === "Enter" && !event.shiftKey) sendReply(event);
    });
    $("suggest-form").addEventListener("submit", function (event) {
      event.preventDefault();
      lookup($("suggest-q").value, view && view.handoff && view.handoff.language);
    });
    $("hand-back").addEventListener("click", function () { release("bot"); });
    $("close-handoff").addEventListener("click", function () { release("closed"); });
    S.me().then(function (login) {
      me = login;
      // A role without live help (bot/web/staff/roles.py) does not see it.
      if (Array.isArray(login.capabilities) && login.capabilities.indexOf("handoff") < 0) {
        $("live").hidden = true;
        return;
      }
      pollQueue();
      setInterval(tickAll, 1000);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
