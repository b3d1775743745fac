// anteroom-site.js: include on the protected site's pages to keep the visitor's seat while they stay.
//   <script src="https://waiting.example/anteroom-site.js" data-anteroom="https://waiting.example"></script>
// It reads the admission token from ?anteroom_token= (then keeps it in sessionStorage), refreshes the seat every
// 30 s with POST /api/sessions/refresh, and exposes window.anteroom = { token(), release() }. When the seat is
// gone (401) it fires the `anteroom:gone` event on window; the site decides what to show.
(() => {
  const script = document.currentScript;
  const base = (script && script.dataset.anteroom) || new URL(script ? script.src : location.href).origin;
  const key = 'anteroom_token';
  const fromUrl = new URLSearchParams(location.search).get(key);
  if (fromUrl) sessionStorage.setItem(key, fromUrl);
  const everyMs = Number((script && script.dataset.refreshMs) || 30000);
  const call = (path) =>
    fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${sessionStorage.getItem(key)}` } });
  let timer = null;
  const refresh = async () => {
    if (!sessionStorage.getItem(key)) return;
    try {
      const answer = await call('/api/sessions/refresh');
      if (answer.status === 401) {
        sessionStorage.removeItem(key);
        clearInterval(timer);
        window.dispatchEvent(new Event('anteroom:gone'));
        return;
      }
      if (answer.ok) sessionStorage.setItem(key, (await answer.json()).token);
    } catch {
      // The waiting room is unreachable for a moment: the next refresh tries again.
    }
  };
  window.anteroom = {
    token: () => sessionStorage.getItem(key),
    release: async () => {
      clearInterval(timer);
      if (sessionStorage.getItem(key)) await call('/api/sessions/release').catch(() => {});
      sessionStorage.removeItem(key);
    },
  };
  void refresh();
  timer = setInterval(refresh, everyMs);
})();
