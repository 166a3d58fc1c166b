import sys,re,collections
tot=collections.Counter()
for line in open(sys.argv[1]):
    m=re.match(r'\s*([\d.]+)%\s+\[(.)\]\s+(.*)',line)
    if not m: continue
    p=float(m.group(1)); k=m.group(2); s=m.group(3)
    if k=='k': c='kernel'
    elif s.startswith('JS:') : c='JIT JS'
    elif s.startswith('RegExp:'): c='regexp'
    elif re.search(r'Scaveng|MarkCompact|Marking|Sweep|Heap::|GC|Evacuat|SizeFromMap|IteratePointers|RememberedSet|Compactor|Concurrent|Pretenur|OnMoveEvent|ObjectCache|FreeList|MemoryAllocator|PagedSpace|SemiSpace|NewSpace',s): c='gc'
    elif s.startswith('Builtins_'): c='builtins'
    elif re.match(r'(fe_|ge_|x25519|sha\d+_|cmov|table_select|ED25519|EVP|OPENSSL|CRYPTO|BN_|bn_)',s): c='crypto'
    elif re.search(r'malloc|free|memmove|memcpy|memset|memchr|memcmp|strlen|unlink_chunk|__libc|pthread',s): c='libc mem'
    elif 'node::' in s or 'uv_' in s or 'uv__' in s: c='node C++/libuv'
    elif 'v8::' in s: c='v8 runtime/api'
    else: c='other'
    tot[c]+=p
for c,p in tot.most_common(): print(f"{p:6.2f}%  {c}")
