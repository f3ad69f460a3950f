# A minimal FAT16/FAT32 image writer for the portable FAT tests (MicroPython can't run
# mkfs.fat; tests/prop and tests/www use the real dosfstools/mtools). It writes into a
# sparse block device so a 33 MB FAT32 volume costs only the sectors actually used, and
# exposes its layout so tests can corrupt precise fields.
import struct

SS = 512
STAMP = ((2023 - 1980) << 9) | (11 << 5) | 14, (22 << 11) | (13 << 5) | (20 // 2)
STAMP_EPOCH = 1700000000        # 2023-11-14 22:13:20, what STAMP decodes to


class SparseBlock:
    """Block device over {sector: bytes}; missing sectors read as zeros."""

    def __init__(self, sectors, sector_size=SS):
        self.sector_size = sector_size
        self.sectors = sectors
        self.read_only = True
        self.data = {}
        self.reads = 0

    def put(self, off, b):
        ss = self.sector_size
        while b:
            s = off // ss
            i = off - s * ss
            k = min(len(b), ss - i)
            old = self.data.get(s, bytes(ss))
            self.data[s] = old[:i] + bytes(b[:k]) + old[i + k:]
            b = b[k:]
            off += k

    def get(self, off, n):
        ss = self.sector_size
        out = b""
        while n > 0:
            s = off // ss
            i = off - s * ss
            k = min(n, ss - i)
            out += self.data.get(s, bytes(ss))[i:i + k]
            n -= k
            off += k
        return out

    async def read(self, sector, count):
        self.reads += 1
        if sector < 0 or count < 0 or sector + count > self.sectors:
            raise ValueError("read outside the device: %d+%d" % (sector, count))
        z = bytes(self.sector_size)
        return b"".join(self.data.get(s, z) for s in range(sector, sector + count))


def _utf16(name):
    out = []
    for ch in name:
        o = ord(ch)
        if o > 0xFFFF:
            o -= 0x10000
            out.append(0xD800 + (o >> 10))
            out.append(0xDC00 + (o & 0x3FF))
        else:
            out.append(o)
    return out


def _checksum(raw):
    s = 0
    for c in raw:
        s = (((s & 1) << 7) + (s >> 1) + c) & 255
    return s


_OK83 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-"


def _is83(name):
    base, dot, ext = name.partition(".")
    if not base or len(base) > 8 or len(ext) > 3 or "." in ext:
        return False
    return all(c.upper() in _OK83 for c in base + ext)


class Image:
    """FAT image of files {path: bytes} (directories implied by paths)."""

    def __init__(self, files, bits=16, spc=None, fragment=False, lfn=True):
        self.bits = bits
        self.spc = spc or (4 if bits == 16 else 1)
        clusters = 5000 if bits == 16 else 66000
        esz = bits // 8
        self.rsvd = 4 if bits == 16 else 32
        self.nfats = 2
        self.rootent = 512 if bits == 16 else 0
        self.fatsz = ((clusters + 2) * esz + SS - 1) // SS
        root_secs = self.rootent * 32 // SS
        self.total = self.rsvd + self.nfats * self.fatsz + root_secs + clusters * self.spc
        self.cs = self.spc * SS
        self.fat_off = self.rsvd * SS
        self.root_off = (self.rsvd + self.nfats * self.fatsz) * SS
        self.data_off = self.root_off + root_secs * SS
        self.dev = SparseBlock(self.total)
        self.fat = {}
        self.next = 2
        self.fragment = fragment
        self.lfn = lfn
        self.where = {}          # path -> (dir entry byte offset, first cluster)
        self.short_seq = 0
        self._boot()
        tree = {}
        for path in sorted(files):
            node = tree
            parts = path.split("/")
            for d in parts[:-1]:
                node = node.setdefault(d, {})
            node[parts[-1]] = files[path]
        if bits == 32:
            n = sum(len(self._probe(k)) for k in tree)
            self.root_cluster = self._alloc((n * 32 + self.cs) // self.cs)[0]
        self._write_dir(tree, "", 0 if bits == 16 else self.root_cluster, 0)
        self._write_fats()

    def _boot(self):
        b = bytearray(SS)
        b[0:3] = b"\xeb\x3c\x90"
        b[3:11] = b"MORGANA "
        fs16 = self.fatsz if self.bits == 16 else 0
        tot16 = self.total if self.total < 65536 else 0
        struct.pack_into("<HBHBHHBHHHII", b, 11, SS, self.spc, self.rsvd, self.nfats,
                         self.rootent, tot16, 0xF8, fs16, 32, 64, 0,
                         0 if tot16 else self.total)
        if self.bits == 32:
            struct.pack_into("<IHHIHH", b, 36, self.fatsz, 0, 0, 2, 1, 6)
        b[510] = 0x55
        b[511] = 0xAA
        self.dev.put(0, b)

    def _alloc(self, n):
        out = []
        for _ in range(n):
            out.append(self.next)
            self.next += 2 if self.fragment else 1
        eoc = 0xFFFF if self.bits == 16 else 0x0FFFFFFF
        for i, c in enumerate(out):
            self.fat[c] = out[i + 1] if i + 1 < len(out) else eoc
        return out

    def coff(self, cl):
        return self.data_off + (cl - 2) * self.cs

    def _write_chain(self, chain, data):
        for i, c in enumerate(chain):
            part = data[i * self.cs:(i + 1) * self.cs]
            if part:
                self.dev.put(self.coff(c), part)

    def _names(self, name):
        # (raw 11-byte short name, NT case flags, LFN unit list or None)
        if _is83(name):
            base, _, ext = name.partition(".")
            flags = (0x08 if base.islower() else 0) | (0x10 if ext.islower() else 0)
            if (base.islower() or base.isupper() or base.isdigit()) and \
                    (not ext or ext.islower() or ext.isupper() or ext.isdigit()):
                raw = (base.upper() + " " * 8)[:8] + (ext.upper() + "   ")[:3]
                return raw.encode(), flags, None
        self.short_seq += 1
        tag = "~%d" % self.short_seq
        raw = ("LFN" + "_" * 8)[:8 - len(tag)] + tag
        return (raw + "TXT").encode(), 0, _utf16(name)

    def _entries(self, name, attr, cl, size):
        raw, flags, units = self._names(name)
        out = []
        if units is not None and self.lfn:
            if len(units) % 13:
                units = units + [0]
            while len(units) % 13:
                units.append(0xFFFF)
            n = len(units) // 13
            ck = _checksum(raw)
            for seq in range(n, 0, -1):
                e = bytearray(32)
                e[0] = seq | (0x40 if seq == n else 0)
                e[11] = 0x0F
                e[13] = ck
                u = units[(seq - 1) * 13:seq * 13]
                for k, o in enumerate((1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30)):
                    e[o] = u[k] & 255
                    e[o + 1] = u[k] >> 8
                out.append(bytes(e))
        e = bytearray(32)
        e[0:11] = raw
        e[11] = attr
        e[12] = flags
        struct.pack_into("<HHHHHHHI", e, 14, STAMP[1], STAMP[0], STAMP[0], cl >> 16,
                         STAMP[1], STAMP[0], cl & 0xFFFF, size)
        out.append(bytes(e))
        return out

    def _write_dir(self, node, prefix, my_cluster, parent_cluster):
        ents = []
        if prefix:
            dot = bytearray(32)
            dot[0:11] = b".          "
            dot[11] = 0x10
            struct.pack_into("<H", dot, 26, my_cluster & 0xFFFF)
            struct.pack_into("<H", dot, 20, my_cluster >> 16)
            dd = bytearray(dot)
            dd[0:11] = b"..         "
            struct.pack_into("<H", dd, 26, parent_cluster & 0xFFFF)
            struct.pack_into("<H", dd, 20, parent_cluster >> 16)
            ents += [bytes(dot), bytes(dd)]
        later = []
        mine = []               # (path, entry index in this directory, first cluster)
        for name in sorted(node):
            v = node[name]
            path = prefix + name
            if isinstance(v, dict):
                n_ent = 2 + sum(len(self._probe(k)) for k in v)
                chain = self._alloc((n_ent * 32 + self.cs) // self.cs)
                ents += self._entries(name, 0x10, chain[0], 0)
                later.append((v, path + "/", chain))
                mine.append((path, len(ents) - 1, chain[0]))
            else:
                chain = self._alloc((len(v) + self.cs - 1) // self.cs) if v else [0]
                if v:
                    self._write_chain(chain, v)
                ents += self._entries(name, 0x20, chain[0], len(v))
                mine.append((path, len(ents) - 1, chain[0]))
        data = b"".join(ents)
        for path, idx, cl in mine:
            self.where[path] = (self._dir_off(my_cluster, idx * 32), cl)
        if not prefix and self.bits == 16:
            assert len(data) <= self.rootent * 32, "root directory overflow"
            self.dev.put(self.root_off, data)
        else:
            self._dir_chain_put(my_cluster, data)
        for v, p, chain in later:
            self._write_dir(v, p, chain[0], my_cluster if prefix else 0)

    def _probe(self, name):
        seq = self.short_seq
        r = self._entries(name, 0x20, 0, 0)
        self.short_seq = seq
        return r

    def _chain_of(self, cl):
        out = [cl]
        while self.fat.get(out[-1], 0xFFFF) not in (0xFFFF, 0x0FFFFFFF):
            out.append(self.fat[out[-1]])
        return out

    def _dir_off(self, cl, byte):
        if cl == 0 and self.bits == 16:
            return self.root_off + byte
        chain = self._chain_of(cl)
        return self.coff(chain[byte // self.cs]) + byte % self.cs

    def _dir_chain_put(self, cl, data):
        chain = self._chain_of(cl)
        assert len(data) <= len(chain) * self.cs, "directory overflow"
        self._write_chain(chain, data)

    def _write_fats(self):
        esz = self.bits // 8
        media = [0xFFF8, 0xFFFF] if self.bits == 16 else [0x0FFFFFF8, 0x0FFFFFFF]
        ents = dict(self.fat)
        ents[0], ents[1] = media
        for k in range(self.nfats):
            base = self.fat_off + k * self.fatsz * SS
            for c in sorted(ents):
                self.dev.put(base + c * esz, ents[c].to_bytes(esz, "little"))

    # ---- corruption helpers for tests ----

    def set_fat(self, cl, value):
        esz = self.bits // 8
        for k in range(self.nfats):
            self.dev.put(self.fat_off + k * self.fatsz * SS + cl * esz,
                         value.to_bytes(esz, "little"))

    def entry_off(self, path):
        return self.where[path][0]

    def first_cluster(self, path):
        return self.where[path][1]


def test_image_boot_sector_and_fat_media_entries():
    img = Image({"a.txt": b"x"})
    b = img.dev.get(0, 512)
    assert b[510:512] == b"\x55\xaa" and b[11:13] == b"\x00\x02"
    assert img.dev.get(img.fat_off, 4) == b"\xf8\xff\xff\xff"


def test_image_file_data_lands_in_its_cluster():
    img = Image({"d/f.bin": b"hello" * 300}, fragment=True)
    cl = img.first_cluster("d/f.bin")
    assert img.dev.get(img.coff(cl), 5) == b"hello"
    assert img.dev.get(img.entry_off("d/f.bin") + 28, 4) == struct.pack("<I", 1500)
