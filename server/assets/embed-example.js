// The example host's own code. One chat is a <parley-chat> element (parley-element.js
// defines it); the other is mounted by mount() from the same module. The host switches
// each chat's conversation (the element's attribute, the handle's setConversation) and lists
// every event it hears, by callback and by DOM event.
const config = JSON.parse(document.getElementById('example-config').textContent);
const errorBox = document.getElementById('host-error');
const events = document.getElementById('host-events');

// ?plain: the same page without the hostile stylesheet (the end-to-end tests compare the two).
if (new URLSearchParams(location.search).has('plain')) {
  document.getElementById('hostile-css').disabled = true;
}

function fail(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function log(source, chat, name, detail) {
  const li = document.createElement('li');
  li.dataset.source = source;
  li.dataset.chat = chat;
  li.dataset.name = name;
  li.dataset.detail = JSON.stringify(detail);
  const conversation = detail.conversationId ?? detail.conversation_id;
  const extra = name === 'unread-count' ? `: ${detail.count}` : '';
  li.textContent = `${chat} ${source}: ${name}${extra} (conversation ${conversation})`;
  events.append(li);
}

const DOM_EVENTS = ['parley:message-sent', 'parley:message-failed', 'parley:unread-count', 'parley:telemetry', 'parley:error'];

function listen(element) {
  for (const type of DOM_EVENTS) {
    element.addEventListener(type, (e) => {
      const name = type === 'parley:telemetry' ? e.detail.name : type.slice('parley:'.length);
      log('event', element.id, name, e.detail);
    });
  }
}

async function main() {
  if (!config.built) return fail('The Parley app is not built: run trunk build --release.');
  if (!config.token) return fail('This example needs the demo server (parley-server --demo), which hands it the demo agent\'s token.');

  // The custom element: attributes in the markup, the token (which a real host gets from
  // its own session) set here.
  const chatA = document.getElementById('chat-a');
  listen(chatA);
  chatA.setAttribute('token', config.token);
  const { ready } = await import(config.element);

  // mount(): the same module the element uses, loaded once for both.
  const { mount } = await ready();
  const chatB = document.getElementById('chat-b');
  listen(chatB);
  const callback = (name) => (detail) => log('callback', 'chat-b', name, detail);
  const handle = mount(chatB, {
    baseUrl: '',
    accountId: config.accountId,
    conversationId: 2,
    token: config.token,
    onTelemetry: (e) => log('callback', 'chat-b', e.name, e),
    onMessageSent: callback('message-sent'),
    onMessageFailed: callback('message-failed'),
    onUnreadCountChange: callback('unread-count'),
  });

  document.getElementById('switch-a').addEventListener('change', (e) => chatA.setAttribute('conversation', e.target.value));
  document.getElementById('switch-b').addEventListener('change', (e) => {
    try {
      handle.setConversation(Number(e.target.value));
    } catch (error) {
      fail(error.message);
    }
  });
  window.parleyExample = { handle, element: chatA };
}

main().catch((e) => fail(`Parley could not start: ${e.message ?? e}`));
