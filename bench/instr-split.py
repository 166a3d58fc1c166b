#!/usr/bin/env python3
"""instr-split.py DUMP [DUMP...]: a callgrind dump of bench/instr.sh split by where the instructions
went, per message when N is given (--n 200): V8's JIT-compiled code and embedded builtins (the
program itself), V8's compilers and parser, the garbage collector, the rest of V8/Node (runtime, libuv,
bindings), SQLite (better-sqlite3's addon), libc/libstdc++/ld.so, and the kernel-facing rest.
The compiler and GC parts depend on timing (tier-up, heap growth); the program part much less.
Reads `callgrind_annotate --inclusive=no --threshold=100` (self cost of every function)."""
import re, subprocess, sys, json

GC = re.compile(r'Heap|Scaveng|MarkCompact|Marking|Sweep|Evacuat|GCTracer|MemoryAllocator|MemoryChunk|Mark(er|Bit)|Remembered|SlotSet|TypedSlot|PagedSpace|NewSpace|LargeObjectSpace|Compactor|IncrementalMark|ConcurrentMark|WeakObjects|Worklist|cppgc|HeapObject::Size|ObjectStats|RecordMigrated|PointersUpdating|Minor|Major|Allocat', re.I)
COMP = re.compile(r'compiler::|maglev|Maglev|turboshaft|Turboshaft|Parser|Scanner|Preparse|Bytecode|interpreter::|AstNode|Ast[A-Z]|Zone|Compiler|Compilation|Optimiz|Deoptimiz|baseline::|Baseline|Assembler|RegExpCompiler|regexp::|RegisterAllocat|LiveRange|Schedul|InstructionSelect|CodeGenerator|Liftoff|wasm::', re.I)

def split(path):
    out = subprocess.run(['callgrind_annotate', '--inclusive=no', '--threshold=100', path],
                         capture_output=True, text=True, check=True).stdout
    b = {'jit_and_builtins': 0, 'v8_compiler': 0, 'v8_gc': 0, 'node_v8_other': 0, 'sqlite': 0, 'libc_etc': 0, 'other': 0}
    total = 0
    for line in out.splitlines():
        m = re.match(r'\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*)$', line)
        if not m or ':' not in m.group(2):
            t = re.match(r'\s*([\d,]+)\s+\(100\.0%\)\s+PROGRAM TOTALS', line)
            if t: total = int(t.group(1).replace(',', ''))
            continue
        ir = int(m.group(1).replace(',', '')); fn = m.group(2)
        obj = re.search(r'\[([^\]]*)\]\s*$', fn); obj = obj.group(1) if obj else ''
        if obj in ('', '???'): b['jit_and_builtins'] += ir
        elif 'better_sqlite3' in obj or 'sqlite' in obj: b['sqlite'] += ir
        elif re.search(r'lib(c|m|stdc\+\+|gcc_s|pthread)[.-]|ld-linux', obj): b['libc_etc'] += ir
        elif obj.endswith('/node') or 'node' in obj.rsplit('/', 1)[-1]:
            if re.search(r'Builtins_', fn): b['jit_and_builtins'] += ir
            elif GC.search(fn): b['v8_gc'] += ir
            elif COMP.search(fn): b['v8_compiler'] += ir
            else: b['node_v8_other'] += ir
        else: b['other'] += ir
    b['total'] = total or sum(b.values())
    return b

if __name__ == '__main__':
    args = sys.argv[1:]; n = 1
    if args and args[0] == '--n': n = int(args[1]); args = args[2:]
    for p in args:
        b = split(p)
        print(json.dumps({'dump': p, **{k: round(v / n) for k, v in b.items()}}))
