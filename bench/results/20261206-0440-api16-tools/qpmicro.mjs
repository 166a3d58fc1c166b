const [{ encodeQuotedPrintableText: baseQp }, { encodeQuotedPrintableText: newQp }] = await Promise.all([
  import('/tmp/api16-base/dist/src/ingress/http/mime-bytes.js'), import('/work/wt-api16/dist/src/ingress/http/mime-bytes.js')]);
const texts = ['Thanks! '.repeat(200), `<p>${'Thanks! '.repeat(200)}</p>`].map((t) => [t, Buffer.from(t)]);
const N = Number(process.argv[2] || 2000);
const run = (f, withText) => { const t0 = process.cpuUsage(); for (let i = 0; i < N; i++) for (const [t, b] of texts) f(b, withText ? t : undefined); const u = process.cpuUsage(t0); return (u.user + u.system) / N; };
for (let r = 0; r < 3; r++) console.log(`round ${r}: base ${run(baseQp, false).toFixed(1)} us/msg, new ${run(newQp, true).toFixed(1)} us/msg`);
