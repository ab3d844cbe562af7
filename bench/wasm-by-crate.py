"""Code size of a wasm module by crate, from its name section: where the bundle's bytes go.

    python3 bench/wasm-by-crate.py $CARGO_TARGET_DIR/wasm32-unknown-unknown/release/outpost.wasm [N]

Reads the module cargo builds before wasm-bindgen and wasm-opt (it keeps its names), sums each
function body's size under the crate its mangled name starts with (for `<Type as Trait>`
impls, the trait's crate, marked "(impl)"), and prints the N largest. wasm-opt shrinks the
final module by about a fifth, so the shares are what to read, not the bytes.
"""
import sys, re, collections

def leb(b, i):
    r = s = 0
    while True:
        x = b[i]; i += 1
        r |= (x & 0x7f) << s; s += 7
        if x < 0x80: return r, i

data = open(sys.argv[1], 'rb').read()
i = 8
imports = 0
bodies = []
names = {}
while i < len(data):
    sid = data[i]; i += 1
    size, i = leb(data, i)
    end = i + size
    if sid == 2:
        n, j = leb(data, i)
        for _ in range(n):
            for _ in range(2):
                l, j = leb(data, j); j += l
            kind = data[j]; j += 1
            if kind == 0: _, j = leb(data, j); imports += 1
            elif kind == 1: j += 1; flag = data[j]; j += 1; _, j = leb(data, j); j = leb(data, j)[1] if flag & 1 else j
            elif kind == 2: flag = data[j]; j += 1; _, j = leb(data, j); j = leb(data, j)[1] if flag & 1 else j
            elif kind == 3: j += 2
            elif kind == 4: j += 1; _, j = leb(data, j)
    elif sid == 10:
        n, j = leb(data, i)
        for _ in range(n):
            l, j = leb(data, j); bodies.append(l); j += l
    elif sid == 0:
        l, j = leb(data, i); name = data[j:j+l].decode(); j += l
        if name == 'name':
            while j < end:
                sub = data[j]; j += 1
                sl, j = leb(data, j); se = j + sl
                if sub == 1:
                    n, k = leb(data, j)
                    for _ in range(n):
                        idx, k = leb(data, k); nl, k = leb(data, k)
                        names[idx] = data[k:k+nl].decode('utf-8', 'replace'); k += nl
                j = se
    i = end

def crate(name):
    m = re.match(r'_ZN(\d+)', name)
    if not m:
        return '(other) ' + name[:20]
    n = int(m.group(1)); seg = name[m.end():m.end() + n]
    if '$LT$' in seg:
        # <Type as Trait>: the crate of the trait if any, else of the type
        t = re.search(r'as\$u20\$([a-z_][a-z0-9_]*)\.\.', seg) or re.search(r'([a-z_][a-z0-9_]*)\.\.', seg)
        return (t.group(1) if t else 'core?') + ' (impl)'
    return seg

by = collections.Counter()
for k, sz in enumerate(bodies):
    by[crate(names.get(imports + k, ''))] += sz
total = sum(bodies)
print(f'code: {total} bytes in {len(bodies)} functions; file {len(data)} bytes')
for c, sz in by.most_common(int(sys.argv[2]) if len(sys.argv) > 2 else 30):
    print(f'{sz:>9} {100*sz/total:5.1f}%  {c}')
