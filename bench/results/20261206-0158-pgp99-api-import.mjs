const t0 = performance.now();
await import('/work/wt-pgp99/dist/src/store/open-store.js'); await import('/work/wt-pgp99/dist/src/domains/message-signer.js');
const t1 = performance.now();
await Promise.all([import('/work/wt-pgp99/dist/src/http/server.js'), import('/work/wt-pgp99/dist/src/http/route-table.js')]);
const t2 = performance.now();
console.log(`relay's own modules ${(t1 - t0).toFixed(0)} ms; then the API's (server.js + route-table.js) ${(t2 - t1).toFixed(0)} ms`);
