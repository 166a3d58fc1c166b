import net from 'node:net';
import { RelayProcess } from '../../../dist/test/helpers/relay-process.js';
const relay = await RelayProcess.create({ dns: { servers: ['127.0.0.1:9'] }, http: { buildAtStart: true } });
await relay.start();
const port = relay.port('http');
console.log('http port', port);
const t0 = Date.now();
function probe(name, script) {
  const s = net.connect(port, '127.0.0.1');
  let got = '';
  s.on('data', (d) => { got += d; });
  s.on('error', () => {});
  s.on('close', () => console.log(name, 'closed after', Date.now() - t0, 'ms; got', JSON.stringify(got.slice(0, 80))));
  s.on('connect', () => script(s));
  return s;
}
probe('idle-nothing', () => {});
probe('slow-headers', (s) => { s.write('GET /v1/messages HTTP/1.1\r\nHost: x\r\n'); const i = setInterval(() => s.writable ? s.write('X-A: b\r\n') : clearInterval(i), 5000); });
probe('unauth-post-slow-body', (s) => { s.write('POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40000000\r\n\r\n{'); const i = setInterval(() => s.writable ? s.write(' ') : clearInterval(i), 5000); });
probe('unauth-post-silent-body', (s) => { s.write('POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40000000\r\n\r\n{'); });
probe('after-response-keepalive', (s) => { s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'); });
setTimeout(async () => { console.log('stopping at', Date.now() - t0); await relay.cleanup(); process.exit(0); }, 150_000);
