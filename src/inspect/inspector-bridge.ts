import { createServer, type Server } from 'node:http';
import { WebSocketServer, WebSocket } from 'ws';

export interface InspectorBridge {
  /** The page to open in a browser: it shows the Stately inspector fed by this bridge. */
  readonly url: string;
  /** Where inspectors send and receivers listen (`createWebSocketInspector`, `createWebSocketReceiver`). */
  readonly wsUrl: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface InspectorBridgeOptions {
  /** Default 127.0.0.1: inspection shows every session's state, so it stays on this machine. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** The Stately inspector UI the page embeds. */
  inspectorUrl?: string;
  /** Recent events replayed to a page that connects late. */
  recentEvents?: number;
}

const maxActorsRemembered = 5000;

/**
 * A local relay between the server's inspector and the Stately inspector in a browser, speaking the same
 * protocol as `@statelyai/inspect/server`: whatever one WebSocket client sends goes to every other one.
 * Unlike that server it binds to a chosen address and port (0 allowed), and a page that connects late is
 * sent the live actors' registrations before the recent events, so long-lived actors (the rooms) show up.
 */
export async function startInspectorBridge(options: InspectorBridgeOptions = {}): Promise<InspectorBridge> {
  const host = options.host ?? '127.0.0.1';
  const inspectorUrl = options.inspectorUrl ?? 'https://stately.ai/inspect';
  const recentLimit = options.recentEvents ?? 500;
  const actors = new Map<string, string>();
  const recent: string[] = [];

  const http: Server = createServer((request, response) => {
    if ((request.url ?? '/').split('?')[0] !== '/') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    response.end(bridgePage(inspectorUrl));
  });
  const wss = new WebSocketServer({ server: http, maxPayload: 16 * 1024 * 1024 });
  wss.on('connection', (ws) => {
    ws.on('error', () => ws.terminate());
    for (const message of actors.values()) ws.send(message);
    for (const message of recent) ws.send(message);
    ws.on('message', (data) => {
      const message = data.toString();
      remember(message);
      for (const client of wss.clients) {
        if (client !== ws && client.readyState === WebSocket.OPEN) client.send(message);
      }
    });
  });

  function remember(message: string): void {
    let event: { type?: unknown; sessionId?: unknown; snapshot?: { status?: unknown } } | null;
    try {
      event = JSON.parse(message) as typeof event;
    } catch {
      return;
    }
    const sessionId = typeof event?.sessionId === 'string' ? event.sessionId : null;
    if (event?.type === '@xstate.actor' && sessionId !== null) {
      actors.set(sessionId, message);
      if (actors.size > maxActorsRemembered) actors.delete(actors.keys().next().value!);
      return;
    }
    if (event?.type === '@xstate.snapshot' && sessionId !== null && event.snapshot?.status !== 'active') actors.delete(sessionId);
    recent.push(message);
    if (recent.length > recentLimit) recent.splice(0, recent.length - recentLimit);
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 0);
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${port}/`,
    wsUrl: `ws://${shownHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        http.close(() => resolve());
        http.closeAllConnections();
      }),
  };
}

/** The browser side: receives the relayed events and posts them to the embedded Stately inspector. */
function bridgePage(inspectorUrl: string): string {
  const src = JSON.stringify(inspectorUrl);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>anteroom · XState inspector</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  html, body { margin: 0; height: 100%; font: 14px system-ui, sans-serif; }
  body { display: flex; flex-direction: column; }
  header { padding: 6px 12px; background: #1e293b; color: #e2e8f0; }
  iframe { flex: 1; border: 0; width: 100%; }
</style>
</head>
<body>
<header role="status" id="status">anteroom inspector: connecting to the server…</header>
<iframe id="inspector" title="Stately inspector"></iframe>
<script>
  const iframe = document.getElementById('inspector');
  const status = document.getElementById('status');
  const buffered = [];
  let inspectorReady = false;
  let received = 0;
  iframe.src = ${src};
  window.addEventListener('message', (event) => {
    if (event.data && event.data.type === '@statelyai.connected') {
      inspectorReady = true;
      for (const item of buffered.splice(0)) iframe.contentWindow.postMessage(item, '*');
    }
  });
  function connect() {
    const ws = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host);
    ws.onopen = () => { status.textContent = 'anteroom inspector: connected, waiting for actor events'; };
    ws.onmessage = (message) => {
      const event = JSON.parse(message.data);
      received += 1;
      status.textContent = 'anteroom inspector: ' + received + ' events received';
      if (inspectorReady) iframe.contentWindow.postMessage(event, '*');
      else buffered.push(event);
    };
    ws.onclose = () => {
      status.textContent = 'anteroom inspector: disconnected from the server, retrying…';
      setTimeout(connect, 2000);
    };
  }
  connect();
</script>
</body>
</html>
`;
}
