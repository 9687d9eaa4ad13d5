// Parley demo customer page: Chatwoot's public client API + ActionCable over a raw
// WebSocket. No framework, no CDN; everything rendered with textContent.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const els = {
    messages: $('messages'), input: $('input'), send: $('send'), typing: $('typing'),
    conn: $('conn'), error: $('error'), file: $('file'), composer: $('composer'), title: $('title'),
  };
  const STORE_KEY = 'parley.customer';
  const params = new URLSearchParams(location.search);
  const saved = (() => { try { return JSON.parse(localStorage.getItem(STORE_KEY) || '{}'); } catch (_) { return {}; } })();
  const session = {
    inbox: params.get('inbox') || saved.inbox || '',
    // A saved contact only belongs to the inbox it was made in; a stale one is replaced below.
    contact: params.get('contact') || saved.contact || '',
    conversation: params.get('conversation') || saved.conversation || '',
    pubsub: '',
  };
  const rows = new Map(); // key ("m:<id>" or "e:<echo_id>") -> element
  let agentTypingTimer = null;

  function showError(text) {
    els.error.textContent = text;
    els.error.hidden = !text;
  }

  function setConn(state) {
    els.conn.dataset.state = state;
    els.conn.textContent = state;
  }

  function base() {
    return '/public/api/v1/inboxes/' + encodeURIComponent(session.inbox) + '/contacts/' + encodeURIComponent(session.contact);
  }

  function convPath() {
    return base() + '/conversations/' + encodeURIComponent(session.conversation);
  }

  async function api(method, path, body) {
    const init = { method, headers: {} };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!res.ok) {
      const msg = (data && (data.error || (data.errors && data.errors[0]))) || ('HTTP ' + res.status);
      throw new Error(msg);
    }
    return data;
  }

  function remember() {
    localStorage.setItem(STORE_KEY, JSON.stringify({
      inbox: session.inbox, contact: session.contact, conversation: session.conversation,
    }));
  }

  async function ensureSession() {
    if (!session.inbox) throw new Error('This page needs ?inbox=<inbox_identifier> in its address.');
    let contact = null;
    if (session.contact) {
      try { contact = await api('GET', base()); } catch (_) { contact = null; }
    }
    if (!contact) {
      contact = await api('POST', '/public/api/v1/inboxes/' + encodeURIComponent(session.inbox) + '/contacts', {});
      session.contact = contact.source_id;
      session.conversation = '';
    }
    session.pubsub = contact.pubsub_token;
    if (contact.name) els.title.textContent = 'Hi ' + contact.name.split(' ')[0] + ' 👋';
    if (session.conversation) {
      try { await api('GET', convPath()); } catch (_) { session.conversation = ''; }
    }
    if (!session.conversation) {
      const conv = await api('POST', base() + '/conversations', {});
      session.conversation = String(conv.id);
    }
    remember();
  }

  // ---- rendering -------------------------------------------------------------------

  function senderOf(m) {
    return m.message_type === 0 ? 'customer' : 'agent';
  }

  function time(ts) {
    const d = new Date(ts * 1000);
    return d.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  }

  function attachmentNode(a) {
    const url = a.data_url || '';
    if (!/^(https?:\/\/|\/)/.test(url)) return null;
    let node;
    if (a.file_type === 'image') {
      node = document.createElement('img');
      node.src = url;
      node.alt = 'image attachment';
      node.loading = 'lazy';
    } else if (a.file_type === 'audio') {
      node = document.createElement('audio');
      node.controls = true;
      node.preload = 'metadata';
      node.src = url;
    } else if (a.file_type === 'video') {
      node = document.createElement('video');
      node.controls = true;
      node.preload = 'metadata';
      node.src = url;
    } else {
      node = document.createElement('a');
      node.className = 'file';
      node.href = url;
      node.rel = 'noopener noreferrer';
      node.target = '_blank';
      const name = decodeURIComponent(url.split('/').pop() || 'file');
      node.textContent = '📄 ' + name + (a.file_size ? ' (' + Math.ceil(a.file_size / 1024) + ' KB)' : '');
    }
    return node;
  }

  // Agent messages are markdown (what Chatwoot stores, and what its widget formats). They
  // are rendered by building nodes with textContent, never from HTML strings, so no content
  // can become markup; links only for http, https and mailto.
  function markdownNodes(src) {
    const frag = document.createDocumentFragment();
    const lines = src.replace(/\r\n?/g, '\n').split('\n');
    const LIST = /^\s*([-*+]|\d+\.)\s+(.*)$/;
    const BLOCK_START = /^(```|>|\s*([-*+]|\d+\.)\s)/;
    let i = 0;
    while (i < lines.length) {
      const line = lines[i];
      if (line.startsWith('```')) {
        const pre = document.createElement('pre');
        const code = document.createElement('code');
        const body = [];
        for (i += 1; i < lines.length && !lines[i].startsWith('```'); i += 1) body.push(lines[i]);
        i += 1;
        code.textContent = body.join('\n');
        pre.appendChild(code);
        frag.appendChild(pre);
      } else if (LIST.test(line)) {
        const ordered = /\d/.test(line.match(LIST)[1]);
        const list = document.createElement(ordered ? 'ol' : 'ul');
        for (; i < lines.length; i += 1) {
          const m = lines[i].match(LIST);
          if (!m || /\d/.test(m[1]) !== ordered) break;
          const li = document.createElement('li');
          inlineNodes(li, m[2]);
          list.appendChild(li);
        }
        frag.appendChild(list);
      } else if (line.startsWith('>')) {
        const quote = document.createElement('blockquote');
        const body = [];
        for (; i < lines.length && lines[i].startsWith('>'); i += 1) body.push(lines[i].replace(/^>\s?/, ''));
        quote.appendChild(markdownNodes(body.join('\n')));
        frag.appendChild(quote);
      } else if (line.trim() === '') {
        i += 1;
      } else {
        // A paragraph; a single newline is a line break, as in a chat.
        const p = document.createElement('p');
        for (let first = true; i < lines.length && lines[i].trim() !== '' && (first || !BLOCK_START.test(lines[i])); i += 1, first = false) {
          if (!first) p.appendChild(document.createElement('br'));
          inlineNodes(p, lines[i]);
        }
        frag.appendChild(p);
      }
    }
    return frag;
  }

  const INLINE = /(`+)([^`]+?)\1|\*\*\*([^*]+?)\*\*\*|\*\*([^*]+?)\*\*|~~([^~]+?)~~|\*([^*\s][^*]*?)\*|(?<!\w)_([^_\s][^_]*?)_(?!\w)|\[([^\]]+)\]\(([^)\s]+)\)|(https?:\/\/[^\s<]*[^\s<.,;:!?)\]'"])/g;

  function inlineNodes(parent, text) {
    let last = 0;
    for (const m of text.matchAll(INLINE)) {
      if (m.index > last) parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      last = m.index + m[0].length;
      const wrap = (tag, inner) => {
        const el = document.createElement(tag);
        inlineNodes(el, inner);
        parent.appendChild(el);
        return el;
      };
      if (m[1]) {
        const code = document.createElement('code');
        code.textContent = m[2];
        parent.appendChild(code);
      } else if (m[3]) {
        wrap('strong', '').appendChild(document.createElement('em')).textContent = m[3];
      } else if (m[4]) wrap('strong', m[4]);
      else if (m[5]) wrap('del', m[5]);
      else if (m[6] || m[7]) wrap('em', m[6] || m[7]);
      else if (m[8]) link(parent, m[9], m[8]);
      else link(parent, m[10], m[10]);
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function link(parent, href, label) {
    if (!/^(https?:\/\/|mailto:)/i.test(href)) {
      parent.appendChild(document.createTextNode(label));
      return;
    }
    const a = document.createElement('a');
    a.href = href;
    a.rel = 'noopener noreferrer';
    a.target = '_blank';
    inlineNodes(a, label === href ? '' : label);
    if (label === href) a.textContent = href;
    parent.appendChild(a);
  }

  function fill(el, m) {
    el.textContent = '';
    el.dataset.id = m.id ? String(m.id) : '';
    el.dataset.sender = senderOf(m);
    if (m.echo_id) el.dataset.echoId = m.echo_id;
    if (m.created_at) el.dataset.createdAt = String(m.created_at);
    if (senderOf(m) === 'agent' && m.sender && m.sender.name) {
      const who = document.createElement('span');
      who.className = 'who';
      who.textContent = m.sender.available_name || m.sender.name;
      el.appendChild(who);
    }
    const text = document.createElement('div');
    text.className = 'msg-text';
    if (senderOf(m) === 'agent') text.appendChild(markdownNodes(m.content || ''));
    else text.textContent = m.content || '';
    el.appendChild(text);
    for (const a of m.attachments || []) {
      const node = attachmentNode(a);
      if (node) el.appendChild(node);
    }
    if (m.created_at) {
      const when = document.createElement('span');
      when.className = 'when';
      when.textContent = time(m.created_at);
      el.appendChild(when);
    }
  }

  function atBottom() {
    const m = els.messages;
    return m.scrollHeight - m.scrollTop - m.clientHeight < 60;
  }

  // Insert by (created_at, id); pending rows stay last.
  function place(el) {
    const ts = Number(el.dataset.createdAt || Infinity);
    const id = Number(el.dataset.id || Infinity);
    for (const other of els.messages.children) {
      if (other === el) continue;
      const ots = Number(other.dataset.createdAt || Infinity);
      const oid = Number(other.dataset.id || Infinity);
      if (ts < ots || (ts === ots && id < oid)) {
        els.messages.insertBefore(el, other);
        return;
      }
    }
    els.messages.appendChild(el);
  }

  function upsert(m) {
    if (m.private || m.message_type === 2) return; // never shown to the customer
    const stick = atBottom();
    let el = rows.get('m:' + m.id) || (m.echo_id && rows.get('e:' + m.echo_id));
    if (!el) {
      el = document.createElement('div');
      el.className = 'msg';
    }
    el.classList.remove('pending', 'failed');
    fill(el, m);
    rows.set('m:' + m.id, el);
    if (m.echo_id) rows.set('e:' + m.echo_id, el);
    place(el);
    if (stick) els.messages.scrollTop = els.messages.scrollHeight;
  }

  function addPending(echoId, content) {
    const el = document.createElement('div');
    el.className = 'msg pending';
    fill(el, { id: 0, content, message_type: 0, echo_id: echoId });
    rows.set('e:' + echoId, el);
    els.messages.appendChild(el);
    els.messages.scrollTop = els.messages.scrollHeight;
    return el;
  }

  async function loadMessages() {
    const list = await api('GET', convPath() + '/messages');
    for (const m of list || []) upsert(m);
    markRead();
  }

  // ---- typing and read ---------------------------------------------------------------

  let typingOn = false;
  let typingIdle = null;
  function typingStatus(status) {
    api('POST', convPath() + '/toggle_typing', { typing_status: status }).catch(() => {});
  }
  function onKeystroke() {
    if (!typingOn) {
      typingOn = true;
      typingStatus('on');
    }
    clearTimeout(typingIdle);
    typingIdle = setTimeout(stopTyping, 4000);
  }
  function stopTyping() {
    clearTimeout(typingIdle);
    if (typingOn) {
      typingOn = false;
      typingStatus('off');
    }
  }

  let readPending = false;
  function markRead() {
    if (document.visibilityState !== 'visible' || !session.conversation || readPending) return;
    readPending = true;
    // Coalesce bursts of arriving messages into one request.
    setTimeout(() => {
      readPending = false;
      api('POST', convPath() + '/update_last_seen').catch(() => {});
    }, 300);
  }

  function showAgentTyping(data, on) {
    const user = data.user || {};
    if (user.type === 'contact') return;
    clearTimeout(agentTypingTimer);
    if (on) {
      els.typing.textContent = (user.available_name || user.name || 'An agent') + ' is typing…';
      // A lost typing_off must not leave the indicator on forever.
      agentTypingTimer = setTimeout(() => { els.typing.textContent = ''; }, 30000);
    } else {
      els.typing.textContent = '';
    }
  }

  // ---- ActionCable -------------------------------------------------------------------

  let socket = null;
  let lastSeen = 0;
  let attempts = 0;
  let watchdog = null;

  function identifier() {
    return JSON.stringify({ channel: 'RoomChannel', pubsub_token: session.pubsub });
  }

  function connect() {
    setConn('connecting');
    const url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/cable';
    const ws = new WebSocket(url, ['actioncable-v1-json', 'actioncable-unsupported']);
    socket = ws;
    lastSeen = Date.now();
    ws.onmessage = (ev) => {
      lastSeen = Date.now();
      let frame;
      try { frame = JSON.parse(ev.data); } catch (_) { return; }
      if (frame.type === 'welcome') {
        ws.send(JSON.stringify({ command: 'subscribe', identifier: identifier() }));
      } else if (frame.type === 'confirm_subscription') {
        attempts = 0;
        setConn('connected');
        // Anything sent while we were away arrives through a resync.
        loadMessages().catch(() => {});
      } else if (frame.type === 'reject_subscription') {
        showError('The chat could not connect (unknown contact).');
        ws.close();
      } else if (frame.type === 'disconnect') {
        ws.close();
      } else if (frame.message && frame.message.event) {
        handleEvent(frame.message.event, frame.message.data || {});
      }
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      setConn('disconnected');
      const delay = Math.min(10000, 500 * 2 ** attempts) * (0.7 + Math.random() * 0.6);
      attempts += 1;
      setTimeout(connect, delay);
    };
    ws.onerror = () => {};
  }

  // ActionCable pings every 3 s; 6 s of silence means a dead socket.
  function startWatchdog() {
    clearInterval(watchdog);
    watchdog = setInterval(() => {
      if (socket && socket.readyState === WebSocket.OPEN && Date.now() - lastSeen > 6000) {
        socket.close();
      }
    }, 1000);
  }

  function handleEvent(event, data) {
    if (event === 'message.created' || event === 'message.updated') {
      if (String(data.conversation_id) !== String(session.conversation)) return;
      upsert(data);
      if (event === 'message.created' && data.message_type !== 0) {
        els.typing.textContent = '';
        markRead();
      }
    } else if (event === 'conversation.typing_on' || event === 'conversation.typing_off') {
      if (!data.conversation || String(data.conversation.id) !== String(session.conversation)) return;
      if (data.is_private) return;
      showAgentTyping(data, event === 'conversation.typing_on');
    }
  }

  // ---- sending ------------------------------------------------------------------------

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  async function send() {
    const content = els.input.value.trim();
    const files = [...(els.file.files || [])];
    if (!content && files.length === 0) return;
    stopTyping();
    const echoId = uuid();
    const el = addPending(echoId, content || files.map((f) => f.name).join(', '));
    els.input.value = '';
    els.file.value = '';
    let body;
    if (files.length) {
      body = new FormData();
      if (content) body.append('content', content);
      for (const f of files) body.append('attachments[]', f, f.name);
      body.append('echo_id', echoId);
    } else {
      body = { content, echo_id: echoId };
    }
    try {
      const m = await api('POST', convPath() + '/messages', body);
      m.echo_id = echoId;
      upsert(m);
      showError('');
    } catch (e) {
      el.classList.remove('pending');
      el.classList.add('failed');
      showError('Not sent: ' + e.message);
    }
  }

  els.composer.addEventListener('submit', (e) => { e.preventDefault(); send(); });
  els.input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) { e.preventDefault(); send(); }
  });
  els.input.addEventListener('input', () => { if (els.input.value) onKeystroke(); else stopTyping(); });
  els.input.addEventListener('blur', stopTyping);
  els.file.addEventListener('change', () => { if (els.file.files.length) send(); });
  document.addEventListener('visibilitychange', markRead);
  window.addEventListener('focus', markRead);

  (async () => {
    try {
      await ensureSession();
      await loadMessages();
      els.messages.scrollTop = els.messages.scrollHeight;
      connect();
      startWatchdog();
    } catch (e) {
      setConn('disconnected');
      showError(e.message || String(e));
    }
  })();
})();
