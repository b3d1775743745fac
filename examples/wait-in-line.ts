import { createNodeClient } from 'anteroom-server/client/node';

const client = createNodeClient({ url: process.env.ANTEROOM_URL ?? 'ws://127.0.0.1:8080/' });
client.on('position', ({ position, queueLength }) => console.log(`in line: ${position} of ${queueLength}`));
client.on('admitted', ({ token, expiresAt }) => {
  console.log(`admitted until ${new Date(expiresAt).toISOString()}; show the site this token: ${token.slice(0, 16)}…`);
  client.leave(); // done: give the seat to the next in line
});
client.on('evicted', ({ reason }) => console.log(`evicted: ${reason}`));
client.connect();
