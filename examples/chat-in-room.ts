import { createInterface } from 'node:readline';
import { createNodeClient, type ChatMessage } from 'anteroom-server/client/node';

const client = createNodeClient({ url: process.env.ANTEROOM_URL ?? 'ws://127.0.0.1:8080/' });
const show = ({ from, text }: ChatMessage) => console.log(`${from.name}: ${text}`);
client.on('position', ({ position }) => console.log(`in line: ${position}`));
client.on('history', ({ messages }) => messages.forEach(show)); // the last 50 on admission, then any gap
client.on('message', show); // each message once, in the room's order, your own included
client.on('presence', ({ members, joined, left }) => {
  if (joined) console.log(`${joined.name} joined`);
  else if (left) console.log(`${left.name} left`);
  else console.log(`here: ${members.map((member) => member.name).join(', ')}`);
});
client.on('typing', ({ from, state }) => state && console.log(`${from.name} is typing…`));
// Each line typed is said in the room. Said while the connection is down, it is sent once it is back.
const input = createInterface({ input: process.stdin });
input.on('line', (line) => line.trim() !== '' && client.say(line.trim()));
input.on('close', () => client.leave());
client.connect();
