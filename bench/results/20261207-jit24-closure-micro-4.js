// closures made per call at three sites, each called once from one megamorphic call site (nodemailer's _responseActions shape):
// is a site's optimised code reused by its next closures, and what does a full GC do to it?
const actions = [];
function mk(i) {
  actions.push((s) => { let h = i; for (let k = 0; k < s.length; k++) h = (h * 31 + s.charCodeAt(k)) | 0; return h; });
  actions.push((s) => s.length + i);
  actions.push((s) => s.charCodeAt(0) ^ i);
}
function dispatch(s) { const a = actions.shift(); return a(s); }   // megamorphic over the three sites
let t = 0; const keep = [];
for (let i = 0; i < 200000; i++) {
  mk(i); t += dispatch('250 ok ' + i) + dispatch('250 ok') + dispatch('354 go');
  keep.push(new Array(50).fill(i)); if (keep.length > 20000) keep.length = 0;
}
console.log(t);
