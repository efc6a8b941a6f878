// Parley web chat: a small widget speaking socket.io (Engine.IO v4 over a WebSocket) to the
// socketio channel, or plain HTTP to the REST channel when socket.io is not enabled.
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("parley-config").textContent);
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var statusEl = document.getElementById("chat-status");
  var storageKey = "parley_chat_session";

  function setStatus(text) { statusEl.textContent = text; }

  function sessionId() {
    var id = null;
    try { id = window.localStorage.getItem(storageKey); } catch (e) { id = null; }
    if (!id) {
      id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID().replace(/-/g, "")
        : String(Date.now()) + Math.random().toString(16).slice(2);
      try { window.localStorage.setItem(storageKey, id); } catch (e) { /* private mode */ }
    }
    return id;
  }

  function addMessage(who, text) {
    var item = document.createElement("li");
    item.className = "msg " + who;
    item.textContent = text;
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function addReplies(item, replies) {
    var row = document.createElement("div");
    row.className = "replies";
    replies.forEach(function (reply) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = reply.title || reply.payload;
      button.addEventListener("click", function () { send(reply.payload || reply.title, reply.title); });
      row.appendChild(button);
    });
    item.appendChild(row);
  }

  function addImage(src) {
    var item = addMessage("bot", "");
    var img = document.createElement("img");
    img.src = src;
    img.alt = "image from the assistant";
    item.appendChild(img);
  }

  // Renders one bot message, in socket.io shape ({text, quick_replies, attachment}) or REST
  // shape ({text, buttons, image}).
  function showBot(message) {
    if (message.text !== undefined && message.text !== null) {
      var item = addMessage("bot", message.text);
      var replies = message.quick_replies || message.buttons;
      if (replies && replies.length) { addReplies(item, replies); }
    }
    if (message.image) { addImage(message.image); }
    var att = message.attachment;
    if (att && att.type === "image" && att.payload && att.payload.src) { addImage(att.payload.src); }
  }

  var transport = null;

  function socketTransport() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var url = scheme + location.host + config.socketio_path.replace(/\/$/, "") + "/?EIO=4&transport=websocket";
    var session = sessionId();
    var ws = null;
    var queue = [];
    var ready = false;

    function emit(event, data) {
      var packet = "42" + JSON.stringify([event, data]);
      if (ready) { ws.send(packet); } else { queue.push(packet); }
    }

    function connect() {
      ws = new WebSocket(url);
      ws.onmessage = function (ev) {
        var packet = String(ev.data);
        var kind = packet.charAt(0);
        if (kind === "0") { ws.send("40"); return; }            // engine.io open -> join "/"
        if (kind === "2") { ws.send("3"); return; }             // ping -> pong
        if (kind !== "4") { return; }
        var sioKind = packet.charAt(1);
        if (sioKind === "0") {                                   // namespace connected
          ready = true;
          setStatus("online");
          ws.send("42" + JSON.stringify(["session_request", { session_id: session }]));
          while (queue.length) { ws.send(queue.shift()); }
        } else if (sioKind === "2") {                            // event
          var body = JSON.parse(packet.slice(2));
          if (body[0] === config.bot_event) { showBot(body[1] || {}); }
        } else if (sioKind === "4") {
          setStatus("refused");
        }
      };
      ws.onclose = function () {
        ready = false;
        setStatus("reconnecting…");
        window.setTimeout(connect, 2000);
      };
    }
    connect();
    return {
      send: function (text) {
        var data = { message: text, session_id: session };
        emit(config.user_event, data);
      }
    };
  }

  function restTransport() {
    var session = sessionId();
    setStatus("online");
    return {
      send: function (text) {
        fetch(config.rest_url, {
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ sender: session, message: text })
        }).then(function (r) {
          if (!r.ok) { throw new Error("HTTP " + r.status); }
          return r.json();
        }).then(function (messages) {
          messages.forEach(showBot);
        }).catch(function () {
          addMessage("bot", "(the assistant cannot be reached right now)");
        });
      }
    };
  }

  function send(text, shown) {
    text = text.trim();
    if (!text) { return; }
    addMessage("user", shown || text);
    transport.send(text);
  }

  transport = config.socketio_path ? socketTransport() : restTransport();
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    send(input.value);
    input.value = "";
    input.focus();
  });
}());
