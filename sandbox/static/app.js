// The Tipline sandbox page: three chats with the real bot, through the emulator's control API
// (/_emulator/...) and its server-sent events. Plain JavaScript, nothing from the internet.
"use strict";

(() => {
  const TEXTS = {
    vi: {
      title: "Tipline — môi trường thử",
      subtitle:
        "Bot thật chạy trên máy này, nói chuyện với một Telegram giả lập: không cần token, " +
        "không dùng Telegram thật, không đụng tới dữ liệu thật.",
      footer:
        "Chỉ chạy trên máy này (127.0.0.1); dữ liệu là dữ liệu thử. Ngôn ngữ của bot: gõ " +
        "/language trong từng khung. Dừng: Ctrl-C ở cửa sổ dòng lệnh.",
      connecting: "Đang kết nối…",
      online: "Đã kết nối",
      offline: "Mất kết nối, đang thử lại…",
      role_resident: "Người dân",
      role_officer: "Cán bộ",
      role_admin: "Quản trị",
      hint_resident: "báo tin ẩn danh, tra cứu bằng mã biên nhận",
      hint_officer: "phụ trách mọi địa bàn",
      hint_admin: "quản lý cán bộ và địa bàn",
      bot: "bot",
      placeholder: "Tin nhắn",
      menu: "Menu",
      attach: "Đính kèm",
      keyboard: "Bàn phím của bot",
      send: "Gửi",
      start: "BẮT ĐẦU",
      newMessages: (n) => `${n} tin mới`,
      toLatest: "Xuống tin mới nhất",
      samplePhoto: "Ảnh mẫu",
      sampleLocation: "Vị trí mẫu",
      uploadPhoto: "Ảnh từ máy này…",
      noCommands: "Bot chưa đặt lệnh nào cho cuộc trò chuyện này.",
      edited: "đã sửa",
      location: "Vị trí",
      photo: "Ảnh",
      file_document: "Tệp",
      file_video: "Video",
      file_voice: "Tin nhắn thoại",
      file_audio: "Âm thanh",
      file_animation: "Ảnh động",
      file_sticker: "Nhãn dán",
      file_video_note: "Video tròn",
      file_contact: "Danh bạ",
      file_poll: "Bình chọn",
      file_dice: "Xúc xắc",
      action_typing: "đang nhập…",
      action_upload_photo: "đang gửi ảnh…",
      action_upload_document: "đang gửi tệp…",
      action_find_location: "đang tìm vị trí…",
      action_other: "đang xử lý…",
      copied: "Đã chép",
      failed: "Không gửi được: ",
      unsupportedButton: "Loại nút này không dùng được trong môi trường thử",
    },
    en: {
      title: "Tipline — sandbox",
      subtitle:
        "The real bot runs on this machine and talks to an emulated Telegram: no token, " +
        "no real Telegram, no real data touched.",
      footer:
        "Runs on this machine only (127.0.0.1); all data is test data. Bot language: send " +
        "/language in each pane. To stop: Ctrl-C in the terminal.",
      connecting: "Connecting…",
      online: "Connected",
      offline: "Disconnected, retrying…",
      role_resident: "Resident",
      role_officer: "Officer",
      role_admin: "Admin",
      hint_resident: "reports anonymously, checks back with the receipt code",
      hint_officer: "covers all areas",
      hint_admin: "manages officers and areas",
      bot: "bot",
      placeholder: "Message",
      menu: "Menu",
      attach: "Attach",
      keyboard: "The bot's keyboard",
      send: "Send",
      start: "START",
      samplePhoto: "Sample photo",
      sampleLocation: "Sample location",
      uploadPhoto: "Photo from this computer…",
      noCommands: "The bot has set no commands for this chat.",
      edited: "edited",
      location: "Location",
      photo: "Photo",
      file_document: "File",
      file_video: "Video",
      file_voice: "Voice message",
      file_audio: "Audio",
      file_animation: "GIF",
      file_sticker: "Sticker",
      file_video_note: "Video message",
      file_contact: "Contact",
      file_poll: "Poll",
      file_dice: "Dice",
      action_typing: "typing…",
      action_upload_photo: "sending a photo…",
      action_upload_document: "sending a file…",
      action_find_location: "finding a location…",
      action_other: "working…",
      copied: "Copied",
      failed: "Could not send: ",
      unsupportedButton: "This kind of button does not work in the sandbox",
      newMessages: (n) => (n === 1 ? "1 new message" : `${n} new messages`),
      toLatest: "Go to the latest message",
    },
  };
  const FILE_ICONS = {
    document: "📄", video: "🎬", voice: "🎤", audio: "🎵", animation: "🎞",
    sticker: "🙂", video_note: "⏺", contact: "👤", poll: "📊", dice: "🎲",
  };
  const EVENT_KINDS = [
    "message", "edit", "delete", "user_message", "user_edit", "callback_answer", "chat_action",
  ];
  const LANGUAGE_KEY = "tipline-sandbox-language";

  let language = localStorage.getItem(LANGUAGE_KEY) === "en" ? "en" : "vi";
  let boot = null;
  let lastSeq = 0;
  let source = null;
  const panes = new Map(); // chat id (= user id) -> Pane

  const t = (key) => (TEXTS[language] && TEXTS[language][key]) || TEXTS.vi[key] || key;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function labelled(tag, className, key) {
    const node = element(tag, className, t(key));
    node.dataset.i18n = key;
    return node;
  }

  async function call(method, path, body) {
    const response = await fetch(path, {
      method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    let data = null;
    try {
      data = await response.json();
    } catch (error) {
      data = null;
    }
    if (!response.ok || (data && data.ok === false)) {
      throw new Error((data && (data.error || data.description)) || response.statusText);
    }
    return data && "result" in data ? data.result : data;
  }

  // --- language -------------------------------------------------------------------------------

  function applyLanguage() {
    document.documentElement.lang = language;
    document.title = t("title");
    document.querySelectorAll("[data-i18n]").forEach((node) => {
      node.textContent = t(node.dataset.i18n);
    });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((node) => {
      node.placeholder = t(node.dataset.i18nPlaceholder);
    });
    document.querySelectorAll("[data-i18n-title]").forEach((node) => {
      node.title = t(node.dataset.i18nTitle);
      node.setAttribute("aria-label", t(node.dataset.i18nTitle));
    });
    document.querySelectorAll(".language-switch button").forEach((button) => {
      button.setAttribute("aria-pressed", String(button.dataset.language === language));
    });
    setConnection(document.getElementById("connection").dataset.state);
    panes.forEach((pane) => pane.relabel());
  }

  function setConnection(state) {
    const node = document.getElementById("connection");
    node.dataset.state = state;
    node.querySelector(".connection-text").textContent = t(state);
  }

  // --- Telegram formatting: entities (UTF-16 offsets, like JavaScript strings) to DOM --------

  function renderEntities(text, entities, pane) {
    const fragment = document.createDocumentFragment();
    const list = (entities || [])
      .filter((e) => e.length > 0 && e.offset >= 0 && e.offset + e.length <= text.length)
      .map((e) => ({ ...e, end: e.offset + e.length }))
      .sort((a, b) => a.offset - b.offset || b.length - a.length);
    build(fragment, text, 0, text.length, list, pane);
    return fragment;
  }

  function build(parent, text, start, end, list, pane) {
    let position = start;
    let index = 0;
    while (index < list.length) {
      const entity = list[index];
      const inner = [];
      let next = index + 1;
      while (next < list.length && list[next].offset < entity.end) {
        const child = list[next];
        inner.push({ ...child, end: Math.min(child.end, entity.end) });
        next += 1;
      }
      if (entity.offset > position) parent.append(text.slice(position, entity.offset));
      const node = entityNode(entity, text.slice(entity.offset, entity.end), pane);
      build(node.inner || node, text, entity.offset, entity.end, inner, pane);
      parent.append(node);
      position = Math.max(position, entity.end);
      index = next;
    }
    if (position < end) parent.append(text.slice(position, end));
  }

  function link(href, pane) {
    const node = element("a");
    node.href = href;
    node.rel = "noopener noreferrer";
    node.target = "_blank";
    node.addEventListener("click", (event) => {
      if (pane.openDeepLink(href)) event.preventDefault();
    });
    return node;
  }

  function safeUrl(url) {
    const value = String(url || "");
    if (/^(https?:|mailto:|tel:)/i.test(value)) return value;
    return /^[\w.-]+\.[a-z]{2,}/i.test(value) ? `http://${value}` : null;
  }

  function entityNode(entity, part, pane) {
    switch (entity.type) {
      case "bold": return element("b");
      case "italic": return element("i");
      case "underline": return element("u");
      case "strikethrough": return element("s");
      case "code": return element("code");
      case "pre": {
        const pre = element("pre");
        const code = element("code");
        if (entity.language) code.dataset.language = entity.language;
        pre.append(code);
        pre.inner = code;
        return pre;
      }
      case "blockquote":
      case "expandable_blockquote":
        return element("blockquote");
      case "spoiler": {
        const node = element("span", "spoiler");
        node.addEventListener("click", () => node.classList.toggle("revealed"));
        return node;
      }
      case "text_link": {
        const href = safeUrl(entity.url);
        return href ? link(href, pane) : element("span", "entity-link");
      }
      case "url": {
        const href = safeUrl(part);
        return href ? link(href, pane) : element("span");
      }
      case "email": return link(`mailto:${part}`, pane);
      case "phone_number": return element("span", "entity-link");
      case "bot_command": {
        const node = element("span", "command");
        node.addEventListener("click", () => pane.sendText(part));
        return node;
      }
      case "mention":
      case "hashtag":
      case "cashtag":
      case "text_mention":
        return element("span", "entity-link");
      default:
        return element("span");
    }
  }

  // --- one chat -------------------------------------------------------------------------------

  class Pane {
    constructor(info, container) {
      this.role = info.role;
      this.userId = info.user_id;
      this.messages = new Map(); // message id -> {data, node}
      this.pending = new Map(); // callback query id -> button
      this.replyKeyboard = null;
      this.keyboardOpen = true;
      this.commands = [];
      this.refreshTimer = null;
      this.statusTimer = null;
      this.toastTimer = null;
      // Following the conversation as Telegram does: a reader at the bottom stays there when
      // messages arrive, grow (an image loads, an edit) or the chat shrinks (a keyboard opens);
      // a reader who scrolled up stays put and gets a "new messages" button.
      this.pinned = true;
      this.unread = 0;
      this.readerInput = -Infinity; // when the reader last wheeled, touched or keyed in the list

      let root = container.querySelector(`.pane[data-role="${this.role}"]`);
      if (!root) {
        root = element("section", "pane");
        root.dataset.role = this.role;
        container.append(root);
      }
      root.replaceChildren(document.getElementById("pane-template").content.cloneNode(true));
      root.dataset.userId = String(this.userId);
      this.root = root;
      this.find = (selector) => root.querySelector(selector);
      this.list = this.find(".messages");
      this.input = this.find(".input");
      this.composer = this.find(".composer");
      this.commandsPopup = this.find(".commands-popup");
      this.attachPopup = this.find(".attach-popup");
      this.newMessages = this.find(".new-messages");
      this.sizes = new ResizeObserver(() => this.keepPinned());
      this.sizes.observe(this.list);
      this.wire();
      this.relabel();
    }

    wire() {
      this.composer.addEventListener("submit", (event) => {
        event.preventDefault();
        const text = this.input.value;
        if (!text.trim()) return;
        this.input.value = "";
        this.closePopups();
        this.sendText(text);
      });
      this.input.addEventListener("input", () => this.suggestCommands());
      this.input.addEventListener("keydown", (event) => {
        if (event.key === "Escape") this.closePopups();
      });
      this.find(".menu-button").addEventListener("click", () => this.toggleCommands());
      this.find(".attach-button").addEventListener("click", () => {
        const open = this.attachPopup.hidden;
        this.closePopups();
        this.attachPopup.hidden = !open;
      });
      this.find(".attach-photo").addEventListener("click", () => {
        this.closePopups();
        this.act(() => call("POST", `/sandbox/users/${this.userId}/sample-photo`));
      });
      this.find(".attach-location").addEventListener("click", () => {
        this.closePopups();
        this.sendLocation();
      });
      const fileInput = this.find(".file-input");
      this.find(".attach-upload").addEventListener("click", () => fileInput.click());
      fileInput.addEventListener("change", () => {
        const file = fileInput.files && fileInput.files[0];
        fileInput.value = "";
        this.closePopups();
        if (file) this.sendOwnPhoto(file);
      });
      this.find(".keyboard-toggle").addEventListener("click", () => {
        this.keyboardOpen = !this.keyboardOpen;
        this.renderReplyKeyboard();
      });
      this.find(".start-button").addEventListener("click", () => this.sendText("/start"));
      this.find(".alert-ok").addEventListener("click", () => {
        this.find(".alert-backdrop").hidden = true;
      });
      this.list.addEventListener("click", () => this.closePopups());
      this.list.addEventListener("scroll", () => this.onScroll(), { passive: true });
      for (const kind of ["wheel", "touchstart", "touchmove", "keydown", "pointerdown"]) {
        this.list.addEventListener(kind, (event) => {
          // A press on a button inside the list is not a scroll; a press on the list itself
          // (its scrollbar) is.
          if (kind === "pointerdown" && event.target !== this.list) return;
          this.readerInput = performance.now();
        }, { passive: true });
      }
      this.newMessages.addEventListener("click", () => this.scrollToEnd());
    }

    relabel() {
      this.find(".role-name").textContent = t(`role_${this.role}`);
      this.find(".role-hint").textContent = t(`hint_${this.role}`);
      this.find(".bot-name").textContent = boot ? boot.bot.first_name : "Tipline";
      if (!this.statusTimer) this.setStatus(null);
      this.showUnread();
      this.root.querySelectorAll("time").forEach((node) => {
        node.textContent = clock(Number(node.dataset.unix));
      });
      const markup = this.replyKeyboard;
      this.input.placeholder = (markup && markup.input_field_placeholder) || t("placeholder");
    }

    setStatus(action) {
      const node = this.find(".bot-status");
      const username = boot ? `@${boot.bot.username}` : "";
      if (!action) {
        node.textContent = `${t("bot")} ${username}`.trim();
        node.classList.remove("busy");
        return;
      }
      node.textContent = TEXTS[language][`action_${action}`] || t("action_other");
      node.classList.add("busy");
    }

    // ---- the chat's content ----

    reset(messages, replyKeyboard) {
      this.messages.clear();
      this.sizes.disconnect();
      this.sizes.observe(this.list);
      this.list.replaceChildren();
      for (const message of messages) this.upsert(message, false);
      this.replyKeyboard = replyKeyboard;
      this.renderReplyKeyboard();
      this.updateEmpty();
      this.scrollToEnd();
    }

    upsert(message, live = true) {
      const id = message.message_id;
      const known = this.messages.get(id);
      const pinned = this.pinned; // decided before the list changes
      if (message.deleted) {
        if (known) {
          this.sizes.unobserve(known.node);
          known.node.remove();
        }
        this.messages.delete(id);
        this.updateEmpty();
        if (pinned) this.scrollToEnd();
        return;
      }
      const node = renderMessage(this, message);
      if (known) {
        this.sizes.unobserve(known.node);
        known.node.replaceWith(node);
      } else {
        const later = [...this.messages.keys()].filter((k) => k > id).sort((a, b) => a - b)[0];
        if (later !== undefined) this.list.insertBefore(node, this.messages.get(later).node);
        else this.list.append(node);
      }
      this.messages.set(id, { data: message, node });
      this.sizes.observe(node); // an image loading or a font arriving grows it later
      this.updateEmpty();
      const fresh = live && !known;
      if (pinned || (fresh && !message.from_bot)) {
        this.scrollToEnd(); // one's own message always brings the chat down, as in Telegram
      } else if (fresh) {
        this.unread += 1;
        this.showUnread();
      }
      if (message.from_bot && live) this.setStatus(null);
    }

    updateEmpty() {
      const empty = this.messages.size === 0;
      this.find(".start-bar").hidden = !empty;
      this.composer.hidden = empty;
    }

    nearEnd() {
      return this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 80;
    }

    scrollToEnd() {
      this.list.scrollTop = this.list.scrollHeight;
      this.pinned = true;
      if (this.unread) {
        this.unread = 0;
        this.showUnread();
      }
    }

    keepPinned() {
      if (this.pinned) this.scrollToEnd();
    }

    onScroll() {
      // Reaching the end, however it happens, follows the conversation again. Leaving it is the
      // reader's decision only: a scroll event can also come from this page (scrollToEnd) or
      // from layout (the list resized), arriving after the content grew again.
      if (this.nearEnd()) {
        this.pinned = true;
        if (this.unread) {
          this.unread = 0;
          this.showUnread();
        }
      } else if (performance.now() - this.readerInput < 1500) {
        this.pinned = false;
      } else {
        this.keepPinned();
      }
    }

    showUnread() {
      this.newMessages.hidden = this.unread === 0;
      this.newMessages.querySelector(".count").textContent = this.unread
        ? TEXTS[language].newMessages(this.unread)
        : "";
      this.newMessages.title = t("toLatest");
      this.newMessages.setAttribute("aria-label", t("toLatest"));
    }

    refreshSoon() {
      clearTimeout(this.refreshTimer);
      this.refreshTimer = setTimeout(async () => {
        try {
          this.replyKeyboard = await call("GET", `/sandbox/chats/${this.userId}/keyboard`);
          this.renderReplyKeyboard();
        } catch (error) {
          /* the next event tries again */
        }
      }, 150);
    }

    renderReplyKeyboard() {
      const panel = this.find(".reply-keyboard");
      const toggle = this.find(".keyboard-toggle");
      const markup = this.replyKeyboard;
      toggle.hidden = !markup;
      this.input.placeholder = (markup && markup.input_field_placeholder) || t("placeholder");
      panel.replaceChildren();
      panel.hidden = !markup || !this.keyboardOpen;
      if (!markup) return;
      for (const row of markup.keyboard || []) {
        const line = element("div", "rk-row");
        for (const raw of row) {
          const button = typeof raw === "string" ? { text: raw } : raw;
          const node = element("button", "rk-button", button.text);
          node.type = "button";
          node.addEventListener("click", () => {
            if (markup.one_time_keyboard) {
              this.keyboardOpen = false;
              this.renderReplyKeyboard();
            }
            if (button.request_location) this.sendLocation();
            else this.sendText(button.text);
          });
          line.append(node);
        }
        panel.append(line);
      }
    }

    // ---- what the user does ----

    async act(action) {
      try {
        return await action();
      } catch (error) {
        this.toast(t("failed") + error.message);
        return null;
      }
    }

    sendText(text) {
      const value = text.trim();
      const match = /^(\/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?)(?:\s+([\s\S]*))?$/.exec(value);
      if (match) {
        const body = { command: match[1] };
        if (match[2]) body.args = match[2];
        return this.act(() => call("POST", `/_emulator/users/${this.userId}/command`, body));
      }
      return this.act(() => call("POST", `/_emulator/users/${this.userId}/text`, { text }));
    }

    sendLocation() {
      return this.act(() =>
        call("POST", `/_emulator/users/${this.userId}/location`, boot.sample_location)
      );
    }

    sendOwnPhoto(file) {
      const reader = new FileReader();
      reader.onload = () => {
        const data = String(reader.result).split(",", 2)[1] || "";
        this.act(() =>
          call("POST", `/_emulator/users/${this.userId}/photo`, { data_base64: data })
        );
      };
      reader.readAsDataURL(file);
    }

    press(messageId, data, button) {
      button.classList.add("pending");
      this.act(async () => {
        const result = await call("POST", `/_emulator/users/${this.userId}/click`, {
          message_id: messageId,
          callback_data: data,
        });
        this.pending.set(result.callback_query_id, button);
        setTimeout(() => this.answered(result.callback_query_id, null), 15000);
      }).then((ok) => {
        if (ok === null) button.classList.remove("pending");
      });
    }

    answered(queryId, answer) {
      const button = this.pending.get(queryId);
      if (button) button.classList.remove("pending");
      this.pending.delete(queryId);
      if (!answer || !answer.text) return;
      if (answer.show_alert) {
        this.find(".alert-text").textContent = answer.text;
        this.find(".alert-backdrop").hidden = false;
      } else {
        this.toast(answer.text);
      }
    }

    openDeepLink(href) {
      // t.me/<this bot>?start=payload opens this chat and sends /start payload, as Telegram does.
      let url;
      try {
        url = new URL(href);
      } catch (error) {
        return false;
      }
      const host = url.hostname.toLowerCase();
      const name = url.pathname.replace(/^\/+|\/+$/g, "").toLowerCase();
      if (!["t.me", "telegram.me"].includes(host) || !boot) return false;
      if (name !== boot.bot.username.toLowerCase()) return false;
      const payload = url.searchParams.get("start");
      this.sendText(payload ? `/start ${payload}` : "/start");
      return true;
    }

    // ---- menus ----

    async loadCommands() {
      try {
        const result = await call("GET", `/_emulator/users/${this.userId}/commands`);
        this.commands = result.commands || [];
      } catch (error) {
        this.commands = [];
      }
      return this.commands;
    }

    async toggleCommands() {
      if (!this.commandsPopup.hidden) {
        this.closePopups();
        return;
      }
      this.closePopups();
      await this.loadCommands();
      this.showCommands(this.commands);
    }

    async suggestCommands() {
      const value = this.input.value;
      if (!/^\/\w*$/.test(value)) {
        this.commandsPopup.hidden = true;
        return;
      }
      if (!this.commands.length || value === "/") await this.loadCommands();
      const prefix = value.slice(1).toLowerCase();
      this.showCommands(this.commands.filter((c) => c.command.startsWith(prefix)));
    }

    showCommands(commands) {
      const popup = this.commandsPopup;
      popup.replaceChildren();
      if (!commands.length) {
        popup.append(element("div", "empty", t("noCommands")));
      }
      for (const command of commands) {
        const item = element("button");
        item.type = "button";
        item.dataset.command = command.command;
        item.append(element("span", "command-name", `/${command.command}`));
        item.append(element("span", "command-description", command.description));
        item.addEventListener("click", () => {
          this.closePopups();
          this.input.value = "";
          this.sendText(`/${command.command}`);
        });
        popup.append(item);
      }
      popup.hidden = false;
    }

    closePopups() {
      this.commandsPopup.hidden = true;
      this.attachPopup.hidden = true;
    }

    toast(text) {
      const node = this.find(".toast");
      node.textContent = text;
      node.hidden = false;
      clearTimeout(this.toastTimer);
      this.toastTimer = setTimeout(() => {
        node.hidden = true;
      }, 3000);
    }

    showAction(action) {
      this.setStatus(action);
      clearTimeout(this.statusTimer);
      this.statusTimer = setTimeout(() => {
        this.statusTimer = null;
        this.setStatus(null);
      }, 5000);
    }
  }

  // --- one message ----------------------------------------------------------------------------

  function clock(unix) {
    if (!unix) return "";
    const locale = language === "vi" ? "vi-VN" : "en-GB";
    return new Date(unix * 1000).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" });
  }

  function renderMessage(pane, message) {
    const raw = message.raw || {};
    const node = element("div", `msg ${message.from_bot ? "in" : "out"}`);
    node.dataset.messageId = String(message.message_id);
    const bubble = element("div", "bubble");
    node.append(bubble);

    if (raw.reply_to_message) {
      const quoted = raw.reply_to_message;
      const preview = (quoted.text || quoted.caption || "").slice(0, 90);
      bubble.append(element("div", "quote", preview || "…"));
    }

    const kind = message.media_kind;
    if (kind === "photo" && message.file_id) {
      bubble.classList.add("media");
      const image = element("img", "photo");
      image.src = `/sandbox/media/${encodeURIComponent(message.file_id)}`;
      image.alt = t("photo");
      image.addEventListener("load", () => pane.keepPinned()); // besides the ResizeObserver
      bubble.append(image);
    } else if (kind === "location" || kind === "venue") {
      bubble.classList.add("media");
      bubble.append(renderLocation(message.location || (raw.venue || {}).location, raw.venue));
    } else if (kind) {
      const media = raw[kind] || {};
      const chip = element(message.file_id ? "a" : "div", "file-chip");
      if (message.file_id) {
        chip.href = `/sandbox/media/${encodeURIComponent(message.file_id)}`;
        chip.target = "_blank";
      }
      chip.append(element("span", "icon", FILE_ICONS[kind] || "📎"));
      const name = media.file_name || media.emoji || null;
      chip.append(name ? element("span", "name", name) : labelled("span", "name", `file_${kind}`));
      bubble.append(chip);
    }

    if (message.text) {
      const text = element("div", "text");
      text.append(renderEntities(message.text, message.entities, pane));
      bubble.append(text);
    }

    const meta = element("div", "meta");
    if (message.edited) meta.append(labelled("span", "edited", "edited"));
    const time = element("time", null, clock(raw.date));
    time.dataset.unix = String(raw.date || 0);
    meta.append(time);
    if (!message.from_bot) meta.append(element("span", "ticks", "✓✓"));
    bubble.append(meta);

    const keyboard = message.reply_markup && message.reply_markup.inline_keyboard;
    if (keyboard && keyboard.length) node.append(renderInlineKeyboard(pane, message, keyboard));
    return node;
  }

  function renderLocation(location, venue) {
    const box = element("div", "location");
    const map = element("div", "map");
    map.append(element("span", "pin", "📍"));
    box.append(map);
    const place = element("div", "place");
    if (venue && venue.title) place.append(element("div", "label", venue.title));
    else place.append(labelled("div", "label", "location"));
    if (location) {
      const coordinates = `${Number(location.latitude).toFixed(5)}, ${Number(location.longitude).toFixed(5)}`;
      place.append(element("div", "coords", coordinates));
    }
    box.append(place);
    return box;
  }

  function renderInlineKeyboard(pane, message, rows) {
    const keyboard = element("div", "inline-keyboard");
    for (const row of rows) {
      const line = element("div", "ik-row");
      for (const button of row) {
        const node = element("button", "ik-button", button.text);
        node.type = "button";
        if (button.callback_data !== undefined) {
          node.dataset.callback = button.callback_data;
          node.addEventListener("click", () => pane.press(message.message_id, button.callback_data, node));
        } else if (button.url) {
          node.classList.add("url");
          node.dataset.url = button.url;
          node.addEventListener("click", () => {
            if (!pane.openDeepLink(button.url)) window.open(button.url, "_blank", "noopener");
          });
        } else if (button.copy_text) {
          node.addEventListener("click", async () => {
            try {
              await navigator.clipboard.writeText(button.copy_text.text);
              pane.toast(t("copied"));
            } catch (error) {
              pane.toast(button.copy_text.text);
            }
          });
        } else {
          node.disabled = true;
          node.title = t("unsupportedButton");
        }
        line.append(node);
      }
      keyboard.append(line);
    }
    return keyboard;
  }

  // --- start and live updates -----------------------------------------------------------------

  async function load() {
    boot = await call("GET", "/sandbox/bootstrap");
    lastSeq = boot.seq;
    const container = document.getElementById("panes");
    for (const info of boot.panes) {
      let pane = panes.get(info.user_id);
      if (!pane) {
        pane = new Pane(info, container);
        panes.set(info.user_id, pane);
      }
      pane.reset(info.messages, info.reply_keyboard);
    }
    applyLanguage();
    panes.forEach((pane) => pane.loadCommands());
  }

  function onEvent(raw) {
    const event = JSON.parse(raw.data);
    if (event.seq <= lastSeq) return;
    lastSeq = event.seq;
    const pane = panes.get(event.chat_id);
    if (!pane) return;
    switch (event.type) {
      case "message":
      case "edit":
      case "delete":
      case "user_message":
      case "user_edit":
        if (event.message) pane.upsert(event.message);
        if (event.type === "message") pane.refreshSoon();
        break;
      case "callback_answer":
        pane.answered(event.callback_query_id, event.answer);
        break;
      case "chat_action":
        pane.showAction(event.action);
        break;
      default:
        break;
    }
  }

  function connect() {
    if (source) source.close();
    setConnection("connecting");
    source = new EventSource(`/_emulator/events?since=${lastSeq}`);
    source.addEventListener("open", () => setConnection("online"));
    for (const kind of EVENT_KINDS) source.addEventListener(kind, onEvent);
    source.addEventListener("error", () => {
      source.close();
      source = null;
      setConnection("offline");
      setTimeout(restart, 2000);
    });
  }

  async function restart() {
    try {
      await load();
      connect();
    } catch (error) {
      setConnection("offline");
      setTimeout(restart, 2000);
    }
  }

  document.querySelectorAll(".language-switch button").forEach((button) => {
    button.addEventListener("click", () => {
      language = button.dataset.language;
      localStorage.setItem(LANGUAGE_KEY, language);
      applyLanguage();
    });
  });
  applyLanguage();
  restart();
})();
