// The example host's own code: it finds Parley's built module (the server tells it where,
// in the config block), mounts one chat per conversation, and lists the events it hears,
// by callback and by DOM event.
const config = JSON.parse(document.getElementById('example-config').textContent);
const errorBox = document.getElementById('host-error');
const events = document.getElementById('host-events');

function fail(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function log(source, event) {
  const li = document.createElement('li');
  li.dataset.source = source;
  li.dataset.name = event.name;
  li.textContent = `${source}: ${event.name} (conversation ${event.conversation_id})`;
  events.append(li);
}

async function main() {
  if (!config.module) return fail('The Parley app is not built: run trunk build --release.');
  if (!config.token) return fail('This example needs the demo server (parley-server --demo), which hands it the demo agent\'s token.');
  const css = document.createElement('link');
  css.rel = 'stylesheet';
  css.href = config.css;
  document.head.append(css);
  const { default: init, mount } = await import(config.module);
  await init({ module_or_path: config.wasm });
  const chats = [];
  for (const [id, conversationId] of [['chat-a', config.conversations[0]], ['chat-b', config.conversations[1]]]) {
    const element = document.getElementById(id);
    element.addEventListener('parley:telemetry', (e) => log('event', e.detail));
    chats.push(
      mount(element, {
        baseUrl: '',
        accountId: config.accountId,
        conversationId,
        token: config.token,
        onTelemetry: (e) => log('callback', e),
      }),
    );
  }
  window.parleyExample = { chats };
}

main().catch((e) => fail(`Parley could not start: ${e.message ?? e}`));
