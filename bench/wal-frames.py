#!/usr/bin/env python3
"""wal-frames.py: the frames of a SQLite WAL, attributed to the b-tree each page belongs to (wal25).

  wal-frames.py DB --from BYTES --to BYTES --n MESSAGES [--rcpts R] [--rev REV] [--warm W] [--clients C]
                   [--ckpt FRAMES] [--table]

DB's -wal file is read whole (it must hold every frame since the database was created or last
checkpointed: bench/wal-frames.sh runs the relay with automatic checkpoints off). The database image
is rebuilt from DB and the frames, commit by commit; the frames that start at WAL offsets in
[--from, --to) are the measured ones. After each measured commit every b-tree is walked from its root
page (sqlite_schema's rootpage) in the image as of that commit, so that a page is named by the b-tree
that owns it then (pages move between b-trees through the freelist): interior or leaf page, or an
overflow page of a cell, or a freelist trunk page, or page 1 (the database header, also sqlite_schema's root).

WAL format (https://www.sqlite.org/fileformat2.html#walformat): a 32-byte file header, then frames of a
24-byte header (page number, database size in pages for a commit frame else 0, salt-1, salt-2,
checksum-1, checksum-2) and the page. SQLite writes each frame with two writes (header, then page).

--ckpt FRAMES (1000, SQLite's wal_autocheckpoint): the checkpoints are simulated: after the first
commit that leaves FRAMES or more frames since the last one, a checkpoint copies each distinct page
of those frames once into the database file (one pwrite each) and the WAL starts again. A checkpoint
cannot always finish (a reader's snapshot); this counts the pages of complete ones.

Prints one JSON line: per message frames, distinct pages, commits, WAL bytes, pwrites
(2 a frame + checkpoint pages), and a table: b-tree -> frames a message (leaf, interior, overflow),
commits that wrote it, and distinct pages. --table also prints it as a Markdown table to stderr.
"""
import argparse
import collections
import json
import os
import struct
import sys


def varint(b, i):
    v = 0
    for k in range(8):
        c = b[i + k]
        v = (v << 7) | (c & 0x7F)
        if c < 0x80:
            return v, i + k + 1
    return (v << 8) | b[i + 8], i + 9


def record(payload):
    """Decodes a record (the whole payload in one piece) into a list of values (text as str)."""
    hlen, i = varint(payload, 0)
    types = []
    while i < hlen:
        t, i = varint(payload, i)
        types.append(t)
    out, j = [], hlen
    for t in types:
        if t == 0:
            out.append(None)
        elif 1 <= t <= 6:
            n = (1, 2, 3, 4, 6, 8)[t - 1]
            out.append(int.from_bytes(payload[j:j + n], 'big', signed=True)); j += n
        elif t == 7:
            out.append(struct.unpack('>d', payload[j:j + 8])[0]); j += 8
        elif t in (8, 9):
            out.append(t - 8)
        elif t >= 12:
            n = (t - 12) // 2 if t % 2 == 0 else (t - 13) // 2
            v = payload[j:j + n]; j += n
            out.append(v if t % 2 == 0 else v.decode('utf-8', 'replace'))
        else:
            out.append(None)
    return out


class Image:
    """The database as pages (bytes), page_size, usable size."""

    def __init__(self, db_path, page_size):
        self.ps = page_size
        self.pages = {}
        with open(db_path, 'rb') as f:
            data = f.read()
        for k in range(len(data) // page_size):
            self.pages[k + 1] = data[k * page_size:(k + 1) * page_size]
        self.reserved = self.pages[1][20] if 1 in self.pages else 0
        self.usable = page_size - self.reserved

    def page(self, n):
        return self.pages.get(n, b'\0' * self.ps)

    # --- b-tree walk ---------------------------------------------------------------------------
    def cells(self, n):
        p = self.page(n)
        h = 100 if n == 1 else 0
        kind = p[h]
        ncell = struct.unpack('>H', p[h + 3:h + 5])[0]
        hdr = 12 if kind in (2, 5) else 8
        ptrs = [struct.unpack('>H', p[h + hdr + 2 * k:h + hdr + 2 * k + 2])[0] for k in range(ncell)]
        return p, h, kind, ptrs

    def overflow_of(self, p, off, payload_len, is_table_leaf):
        """The first overflow page of a cell whose payload starts at off, or 0."""
        U = self.usable
        X = U - 35 if is_table_leaf else ((U - 12) * 64 // 255) - 23
        if payload_len <= X:
            return 0
        M = ((U - 12) * 32 // 255) - 23
        K = M + ((payload_len - M) % (U - 4))
        local = K if K <= X else M
        return struct.unpack('>I', p[off + local:off + local + 4])[0]

    def payload(self, n, off, payload_len, is_table_leaf):
        """A cell's whole payload (local part and overflow chain)."""
        p = self.page(n)
        U = self.usable
        X = U - 35 if is_table_leaf else ((U - 12) * 64 // 255) - 23
        if payload_len <= X:
            return p[off:off + payload_len]
        M = ((U - 12) * 32 // 255) - 23
        K = M + ((payload_len - M) % (U - 4))
        local = K if K <= X else M
        out = bytearray(p[off:off + local])
        nxt = struct.unpack('>I', p[off + local:off + local + 4])[0]
        while nxt and len(out) < payload_len:
            q = self.page(nxt)
            nxt = struct.unpack('>I', q[:4])[0]
            out += q[4:4 + min(U - 4, payload_len - len(out))]
        return bytes(out)

    def walk(self, root, name, owner):
        """owner[page] = (name, 'leaf'|'interior'|'overflow') for every page of the b-tree at root."""
        stack = [root]
        while stack:
            n = stack.pop()
            p, h, kind, ptrs = self.cells(n)
            if kind in (2, 5):
                owner[n] = (name, 'interior')
                stack.append(struct.unpack('>I', p[h + 8:h + 12])[0])
                for c in ptrs:
                    stack.append(struct.unpack('>I', p[c:c + 4])[0])
                    if kind == 2:  # interior index cells carry a payload (it may overflow)
                        ln, o = varint(p, c + 4)
                        self._chain(self.overflow_of(p, o, ln, False), name, owner)
            elif kind in (10, 13):
                owner[n] = (name, 'leaf')
                for c in ptrs:
                    ln, o = varint(p, c)
                    if kind == 13:
                        _, o = varint(p, o)
                    self._chain(self.overflow_of(p, o, ln, kind == 13), name, owner)
            else:
                owner[n] = (name, f'type{kind}')

    def _chain(self, first, name, owner):
        n = first
        while n:
            owner[n] = (name, 'overflow')
            n = struct.unpack('>I', self.page(n)[:4])[0]

    def schema(self):
        """[(name, rootpage)] from sqlite_schema (the table b-tree at page 1)."""
        out = []
        stack = [1]
        while stack:
            n = stack.pop()
            p, h, kind, ptrs = self.cells(n)
            if kind == 5:
                stack.append(struct.unpack('>I', p[h + 8:h + 12])[0])
                stack.extend(struct.unpack('>I', p[c:c + 4])[0] for c in ptrs)
            elif kind == 13:
                for c in ptrs:
                    ln, o = varint(p, c)
                    _, o = varint(p, o)
                    r = record(self.payload(n, o, ln, True))
                    if r[3]:
                        out.append((r[1], r[3]))
        return out

    def owners(self):
        owner = {1: ('page1 (header, sqlite_schema)', 'leaf')}
        schema = self.schema()
        for name, root in schema:
            self.walk(root, name, owner)
        # sqlite_schema's own pages beyond page 1
        p, h, kind, ptrs = self.cells(1)
        if kind == 5:
            self.walk(1, 'sqlite_schema', owner)
            owner[1] = ('page1 (header, sqlite_schema)', 'interior')
        trunk = struct.unpack('>I', self.page(1)[32:36])[0]
        while trunk:
            q = self.page(trunk)
            owner[trunk] = ('freelist', 'trunk')
            cnt = struct.unpack('>I', q[4:8])[0]
            for k in range(cnt):
                owner[struct.unpack('>I', q[8 + 4 * k:12 + 4 * k])[0]] = ('freelist', 'leaf')
            trunk = struct.unpack('>I', q[:4])[0]
        return owner


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('db')
    ap.add_argument('--from', dest='start', type=int, required=True)
    ap.add_argument('--to', dest='end', type=int, required=True)
    ap.add_argument('--n', type=int, required=True)
    ap.add_argument('--rcpts', type=int, default=1)
    ap.add_argument('--rev', default='?')
    ap.add_argument('--warm', type=int, default=0)
    ap.add_argument('--clients', type=int, default=0)
    ap.add_argument('--ckpt', type=int, default=1000)
    ap.add_argument('--table', action='store_true')
    a = ap.parse_args()
    wal = open(a.db + '-wal', 'rb').read()
    magic, version, ps, _ckseq, salt1, salt2 = struct.unpack('>IIIIII', wal[:24])
    assert magic in (0x377F0682, 0x377F0683), 'not a WAL'
    fs = 24 + ps
    img = Image(a.db, ps)
    assert (a.start - 32) % fs == 0 and (a.end - 32) % fs == 0, 'offsets are not frame boundaries'
    first, last = (a.start - 32) // fs, (a.end - 32) // fs
    frames_total = (len(wal) - 32) // fs
    pending = []  # (frame index, page number, page bytes) since the last commit
    commits = []  # measured commits: list of page numbers written (one per frame, in order)
    by = collections.Counter()       # (name, kind) -> frames
    commits_of = collections.Counter()  # name -> commits that wrote a page of it
    pages_of = collections.defaultdict(set)  # name -> distinct pages
    per_page = collections.Counter()  # page -> frames (measured)
    sig = collections.defaultdict(lambda: [0, 0])  # the set of b-trees a commit wrote -> [commits, frames]
    ckpt_pages, ckpt_count, since_ckpt, since_set = 0, 0, 0, set()
    for i in range(frames_total):
        off = 32 + i * fs
        pgno, dbsize, s1, s2 = struct.unpack('>IIII', wal[off:off + 16])
        if (s1, s2) != (salt1, salt2):
            break  # past the valid frames
        pending.append((i, pgno, wal[off + 24:off + fs]))
        if dbsize == 0:
            continue
        for _, n, data in pending:
            img.pages[n] = data
        for n in [k for k in img.pages if k > dbsize]:
            del img.pages[n]
        measured = [(j, n) for j, n, _ in pending if first <= j < last]
        pending = []
        if not measured:
            continue
        owner = img.owners()
        names = set()
        for _, n in measured:
            name, kind = owner.get(n, ('unowned', '?'))
            by[(name, kind)] += 1
            names.add(name)
            pages_of[name].add(n)
            per_page[n] += 1
        for name in names:
            commits_of[name] += 1
        sig[frozenset(names)][0] += 1
        sig[frozenset(names)][1] += len(measured)
        commits.append([n for _, n in measured])
        since_ckpt += len(measured)
        since_set.update(n for _, n in measured)
        if since_ckpt >= a.ckpt:
            ckpt_pages += len(since_set); ckpt_count += 1
            since_ckpt, since_set = 0, set()
    nframes = sum(len(c) for c in commits)
    n = a.n
    names = sorted({k[0] for k in by}, key=lambda nm: -sum(v for (x, _), v in by.items() if x == nm))
    table = []
    for nm in names:
        row = {'btree': nm, 'frames_per_msg': round(sum(v for (x, _), v in by.items() if x == nm) / n, 3)}
        for kind in ('leaf', 'interior', 'overflow', 'trunk'):
            v = by.get((nm, kind), 0)
            if v:
                row[kind] = round(v / n, 3)
        row['commits_per_msg'] = round(commits_of[nm] / n, 3)
        row['distinct_pages'] = len(pages_of[nm])
        table.append(row)
    hot = [{'page': p, 'frames': c, 'btree': next((nm for nm in names if p in pages_of[nm]), '?')}
           for p, c in per_page.most_common(8)]
    out = {
        'kind': 'wal-frames', 'rev': a.rev, 'n': n, 'rcpts': a.rcpts, 'warm': a.warm, 'clients': a.clients, 'page_size': ps,
        'frames_per_msg': round(nframes / n, 3), 'distinct_pages_per_msg': round(len(per_page) / n, 3),
        'commits': len(commits), 'msgs_per_commit': round(n / max(1, len(commits)), 3),
        'frames_per_commit': round(nframes / max(1, len(commits)), 2),
        'wal_bytes_per_msg': round(nframes * fs / n), 'ckpt_pages_per_msg': round(ckpt_pages / n, 3),
        'ckpts': ckpt_count, 'pwrite_per_msg_est': round((2 * nframes + ckpt_pages) / n, 2),
        'db_pages': max(img.pages) if img.pages else 0, 'table': table, 'hot_pages': hot,
        # what commits wrote: the most frequent sets of b-trees (with one client, one operation a commit)
        'commit_kinds': [{'commits': c, 'frames_mean': round(f / c, 2), 'btrees': sorted(k)}
                         for k, (c, f) in sorted(sig.items(), key=lambda kv: -kv[1][0])[:10]],
    }
    print(json.dumps(out))
    if a.table:
        print(f"| b-tree | frames/msg | leaf | interior | overflow | commits/msg | distinct pages |", file=sys.stderr)
        print("|---|---|---|---|---|---|---|", file=sys.stderr)
        for r in table:
            print(f"| {r['btree']} | {r['frames_per_msg']} | {r.get('leaf', 0)} | {r.get('interior', 0)} | {r.get('overflow', 0)} | "
                  f"{r['commits_per_msg']} | {r['distinct_pages']} |", file=sys.stderr)


if __name__ == '__main__':
    main()
