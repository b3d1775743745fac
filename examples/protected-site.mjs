import { createServer } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const anteroom = process.env.ANTEROOM_URL ?? 'http://127.0.0.1:8080';
const site = process.env.SITE_ORIGIN ?? 'http://127.0.0.1:3000';
const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', anteroom));

createServer(async (request, response) => {
  const token = new URL(request.url, site).searchParams.get('anteroom_token') ?? /anteroom=([^;]+)/.exec(request.headers.cookie ?? '')?.[1] ?? '';
  try {
    await jwtVerify(token, jwks, { issuer: 'anteroom', audience: site });
    // Every page view keeps the seat; 401 means it was released, kicked or expired.
    const refresh = await fetch(new URL('/api/sessions/refresh', anteroom), { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    if (!refresh.ok) throw new Error('the seat is gone');
    const { token: fresh } = await refresh.json();
    response.writeHead(200, { 'set-cookie': `anteroom=${fresh}; HttpOnly; SameSite=Lax; Path=/`, 'content-type': 'text/plain' });
    response.end('Welcome to the shop\n');
  } catch {
    response.writeHead(302, { location: anteroom }).end();
  }
}).listen(Number(new URL(site).port), '127.0.0.1', () => console.log(`shop on ${site}`));
