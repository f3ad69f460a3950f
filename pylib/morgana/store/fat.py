# Read-only FAT16/FAT32 over a block device (docs/design.md block interface).
#
# The image is untrusted: every field read from it is range-checked before use. Cluster
# numbers must lie in the data area, chains are walked with a length bound derived from
# what they describe (file size, maximum directory size), so a corrupt image raises
# FatError with a reason; it never reads outside the device or loops forever.
import struct


class FatError(Exception):
    pass


MAX_DIR_BYTES = 65536 * 32      # FAT limit: 65536 entries per directory
_FAT_CACHE = 32                 # FAT sectors kept in memory
_MAX_IO = 128                   # device sectors per block read


def _days(y, m, d):
    # days since 1970-01-01 (proleptic Gregorian)
    if m <= 2:
        y -= 1
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m - 3 if m > 2 else m + 9) + 2) // 5 + d - 1
    return era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468


def fat_time(date, time):
    """FAT date/time words -> Unix seconds (stamps are local time; taken as UTC).
    0 when the date is not a real one (e.g. never set)."""
    y = 1980 + (date >> 9)
    m = (date >> 5) & 15
    d = date & 31
    hh = time >> 11
    mm = (time >> 5) & 63
    ss = (time & 31) * 2
    if not (1 <= m <= 12 and 1 <= d <= 31) or hh > 23 or mm > 59 or ss > 59:
        return 0
    return _days(y, m, d) * 86400 + hh * 3600 + mm * 60 + ss


class Entry:
    """A directory entry: name (long name when valid, else the 8.3 name), short (8.3),
    is_dir, size, cluster (first cluster), mtime (Unix seconds)."""

    def __init__(self, name, short, attr, cluster, size, mtime):
        self.name = name
        self.short = short
        self.is_dir = bool(attr & 0x10)
        self.attr = attr
        self.cluster = cluster
        self.size = size
        self.mtime = mtime
        self.extents = None     # [(first_cluster, count)], filled on first read

    def __repr__(self):
        return "<fat.Entry %r %s %d>" % (self.name, "dir" if self.is_dir else "file",
                                        self.size)


# Short names are stored in an OEM code page; mtools (our image maker) and DOS in
# Western Europe use 850. Its upper half, and the case pairs the NT lower-case flags need
# (str.lower() is ASCII-only on MicroPython).
CP850 = (
    'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜø£Ø×ƒ'
    'áíóúñÑªº¿®¬½¼¡«»░▒▓│┤ÁÂÀ©╣║╗╝¢¥┐'
    '└┴┬├─┼ãÃ╚╔╩╦╠═╬¤ðÐÊËÈıÍÎÏ┘┌█▄¦Ì▀'
    'ÓßÔÒõÕµþÞÚÛÙýÝ¯´\xad±‗¾¶§÷¸°¨·¹³²■\xa0')
_UPPER = "ÇÄÅÉÆÖÜØÁÂÀÃÐÊËÈÍÎÏÌÓÔÒÕÞÚÛÙÝÑ"
_LOWER = "çäåéæöüøáâàãðêëèíîïìóôòõþúûùýñ"


def fold(s):
    """Lower case the way FAT compares names: ASCII and the CP850 letters, the same on
    both Pythons (MicroPython's str.lower() is ASCII-only)."""
    out = []
    for ch in s:
        if "A" <= ch <= "Z":
            ch = chr(ord(ch) + 32)
        else:
            k = _UPPER.find(ch)
            if k >= 0:
                ch = _LOWER[k]
        out.append(ch)
    return "".join(out)


def _oem(b):
    return "".join(chr(c) if c < 128 else CP850[c - 128] for c in b)


def short_name(raw, flags):
    """11-byte 8.3 name -> 'NAME.EXT'; NT flags 0x08/0x10 mean lower-case base/ext."""
    base = raw[:8]
    if base[0] == 0x05:                  # a real 0xE5 first byte, escaped
        base = b"\xe5" + base[1:]
    base = _oem(base).rstrip(" ")
    ext = _oem(raw[8:11]).rstrip(" ")
    if flags & 0x08:
        base = fold(base)
    if flags & 0x10:
        ext = fold(ext)
    return base + "." + ext if ext else base


def lfn_checksum(raw):
    s = 0
    for c in raw[:11]:
        s = (((s & 1) << 7) + (s >> 1) + c) & 255
    return s


_LFN_OFFS = (1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30)
_BAD_LFN = '"*/:<>?\\|'


def _lfn_units(e):
    return [e[o] | (e[o + 1] << 8) for o in _LFN_OFFS]


def _decode_lfn(units):
    """UTF-16 code units (ending at 0x0000 or the end) -> str, or None if invalid."""
    out = []
    i = 0
    n = len(units)
    while i < n:
        u = units[i]
        if u == 0:
            break
        if 0xD800 <= u < 0xDC00:
            if i + 1 >= n or not (0xDC00 <= units[i + 1] < 0xE000):
                return None
            u = 0x10000 + ((u - 0xD800) << 10) + (units[i + 1] - 0xDC00)
            i += 1
        elif 0xDC00 <= u < 0xE000:
            return None
        if u < 32 or (u < 128 and chr(u) in _BAD_LFN):
            return None
        out.append(chr(u))
        i += 1
    s = "".join(out)
    return s if s and s not in (".", "..") else None


def parse_dir(data, fat32=True):
    """Entries of a directory's raw bytes (deleted, volume label, '.' and '..' skipped).
    FAT16 has no high cluster word (OS/2 kept other things there): it is ignored."""
    out = []
    lfn = None          # [checksum, next expected seq, list of unit lists] while valid
    for off in range(0, len(data) - 31, 32):
        e = data[off:off + 32]
        b0 = e[0]
        if b0 == 0:
            break
        if b0 == 0xE5:
            lfn = None
            continue
        attr = e[11]
        if attr & 0x3F == 0x0F:
            seq = b0 & 0x1F
            if b0 & 0x40:
                lfn = [e[13], seq - 1, [_lfn_units(e)]] if 1 <= seq <= 20 else None
            elif lfn is not None and seq == lfn[1] and seq >= 1 and e[13] == lfn[0]:
                lfn[1] = seq - 1
                lfn[2].append(_lfn_units(e))
            else:
                lfn = None
            continue
        raw = e[:11]
        name = None
        if lfn is not None and lfn[1] == 0 and lfn[0] == lfn_checksum(raw):
            units = []
            for part in reversed(lfn[2]):
                units += part
            name = _decode_lfn(units)
        lfn = None
        if attr & 0x08:
            continue                     # volume label
        if raw[0] == 0x2E and (raw[1:] == b"          " or raw[1:] == b".         "):
            continue                     # '.' and '..'
        short = short_name(raw, e[12])
        if name is None:
            if not short or "/" in short or "\x00" in short:
                continue                 # unusable name: not reachable by path anyway
            name = short
        cl = e[26] | (e[27] << 8)
        if fat32:
            cl |= (e[20] << 16) | (e[21] << 24)
        size = e[28] | (e[29] << 8) | (e[30] << 16) | (e[31] << 24)
        mtime = fat_time(e[24] | (e[25] << 8), e[22] | (e[23] << 8))
        out.append(Entry(name, short, attr, cl, size, mtime))
    return out


class Volume:
    """A mounted FAT16/FAT32 volume. Use `await mount(block)`."""

    def __init__(self, block, first=0, count=None):
        # the volume: device sectors [first, first+count) (a partition, or all of it)
        self.block = block
        self.ss = block.sector_size
        self.base = first * self.ss
        self.size = (block.sectors - first if count is None else count) * self.ss
        self._fatcache = {}

    # ---- raw access (byte offsets within the volume) ----

    async def read_bytes(self, off, n):
        ss = self.ss
        if off < 0 or n < 0 or off + n > self.size:
            raise FatError("read of %d bytes at %d outside the %d-byte volume"
                           % (n, off, self.size))
        off += self.base
        first = off // ss
        last = (off + n + ss - 1) // ss
        if n == 0:
            return b""
        parts = []
        s = first
        while s < last:
            c = last - s if last - s < _MAX_IO else _MAX_IO
            d = await self.block.read(s, c)
            if len(d) != c * ss:
                raise FatError("device returned %d bytes for %d sectors" % (len(d), c))
            parts.append(d)
            s += c
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        skip = off - first * ss
        if skip == 0 and len(data) == n:
            return data
        return data[skip:skip + n]

    async def _parse_bpb(self):
        if self.size < 512:
            raise FatError("device too small for a boot sector")
        b = await self.read_bytes(0, 512)
        if b[510] != 0x55 or b[511] != 0xAA:
            raise FatError("no boot sector signature (not a FAT volume)")
        if b[3:11] in (b"EXFAT   ", b"NTFS    "):
            raise FatError("%s volume: only FAT16 and FAT32 are supported"
                           % b[3:11].decode().strip())
        (bps, spc, rsvd, nfats, rootent, tot16, media, fatsz16) = struct.unpack_from(
            "<HBHBHHBH", b, 11)
        tot32 = struct.unpack_from("<I", b, 32)[0]
        if bps not in (512, 1024, 2048, 4096):
            raise FatError("bad bytes per sector %d" % bps)
        if spc == 0 or spc & (spc - 1):
            raise FatError("bad sectors per cluster %d" % spc)
        if bps * spc > 65536:
            raise FatError("cluster size %d too large" % (bps * spc))
        if rsvd == 0:
            raise FatError("no reserved sectors")
        if nfats == 0 or nfats > 16:
            raise FatError("bad number of FATs %d" % nfats)
        fatsz = fatsz16
        root_cluster = 0
        active = 0
        if fatsz == 0:
            fatsz, extflags, fsver, root_cluster = struct.unpack_from("<IHHI", b, 36)
            if extflags & 0x80:
                active = extflags & 15          # mirroring off: one active FAT
                if active >= nfats:
                    raise FatError("active FAT %d of %d" % (active, nfats))
            if fsver != 0:
                raise FatError("unknown FAT32 version %d" % fsver)
        total = tot16 if tot16 else tot32
        if fatsz == 0 or total == 0:
            raise FatError("zero FAT size or sector count")
        root_secs = (rootent * 32 + bps - 1) // bps
        meta = rsvd + nfats * fatsz + root_secs
        if total <= meta:
            raise FatError("no data area (%d sectors, %d of metadata)" % (total, meta))
        clusters = (total - meta) // spc
        if total * bps > self.size:
            raise FatError("filesystem (%d bytes) larger than the device (%d bytes)"
                           % (total * bps, self.size))
        if clusters < 4085:
            raise FatError("FAT12 volume (%d clusters) not supported" % clusters)
        bits = 16 if clusters < 65525 else 32
        if bits == 16:
            if rootent == 0 or fatsz16 == 0:
                raise FatError("FAT16 volume without a root directory region")
        else:
            if rootent != 0 or fatsz16 != 0:
                raise FatError("FAT32 volume with a FAT16 root directory")
            if not (2 <= root_cluster < clusters + 2):
                raise FatError("root cluster %d outside the volume" % root_cluster)
        if fatsz * bps * 8 // bits < clusters + 2:
            raise FatError("FAT (%d sectors) too small for %d clusters" % (fatsz, clusters))
        self.bits = bits
        self.bps = bps
        self.cluster_size = bps * spc
        self.clusters = clusters
        self.max_cluster = clusters + 1
        self.fat_off = (rsvd + active * fatsz) * bps
        self.root_off = (rsvd + nfats * fatsz) * bps
        self.root_bytes = rootent * 32
        self.data_off = meta * bps
        self.root_cluster = root_cluster
        self.total_bytes = total * bps

    # ---- FAT chains ----

    async def fat_entry(self, cl):
        esz = self.bits // 8
        off = self.fat_off + cl * esz
        sec = off // self.bps
        d = self._fatcache.get(sec)
        if d is None:
            if len(self._fatcache) >= _FAT_CACHE:
                self._fatcache = {}
            d = self._fatcache[sec] = await self.read_bytes(sec * self.bps, self.bps)
        i = off - sec * self.bps
        if esz == 2:
            return d[i] | (d[i + 1] << 8)
        return (d[i] | (d[i + 1] << 8) | (d[i + 2] << 16) | (d[i + 3] << 24)) & 0x0FFFFFFF

    async def extents(self, first, max_clusters, what, stop=False):
        """Chain from cluster first as [(start, count)] runs of contiguous clusters,
        at most max_clusters long: more means a loop or a lie (FatError), unless stop
        is set (a file needs no more than its size: the rest is never read)."""
        eoc = 0xFFF8 if self.bits == 16 else 0x0FFFFFF8
        bad = eoc - 1
        out = []
        cl = first
        n = 0
        while True:
            if not (2 <= cl <= self.max_cluster):
                raise FatError("%s: cluster %d outside the volume" % (what, cl))
            n += 1
            if n > max_clusters:
                raise FatError("%s: cluster chain longer than %d (loop?)"
                               % (what, max_clusters))
            if out and out[-1][0] + out[-1][1] == cl:
                out[-1] = (out[-1][0], out[-1][1] + 1)
            else:
                out.append((cl, 1))
            if stop and n == max_clusters:
                return out
            nxt = await self.fat_entry(cl)
            if nxt >= eoc:
                return out
            if nxt == bad:
                raise FatError("%s: bad cluster in chain" % what)
            if nxt == 0:
                raise FatError("%s: chain runs into a free cluster" % what)
            cl = nxt

    def cluster_off(self, cl):
        return self.data_off + (cl - 2) * self.cluster_size

    async def read_extents(self, exts, off, n):
        """n bytes at offset off of the data described by exts."""
        cs = self.cluster_size
        parts = []
        pos = 0                          # byte position of the current extent
        for start, count in exts:
            ln = count * cs
            if off < pos + ln and n > 0:
                inner = off - pos
                k = ln - inner if ln - inner < n else n
                parts.append(await self.read_bytes(self.cluster_off(start) + inner, k))
                off += k
                n -= k
            pos += ln
            if n == 0:
                break
        if n:
            raise FatError("read past the end of the cluster chain")
        return parts[0] if len(parts) == 1 else b"".join(parts)

    # ---- directories and files ----

    async def root(self):
        if self.bits == 16:
            return parse_dir(await self.read_bytes(self.root_off, self.root_bytes), False)
        return await self._dir_clusters(self.root_cluster, "root directory")

    async def _dir_clusters(self, first, what):
        exts = await self.extents(first, MAX_DIR_BYTES // self.cluster_size + 1, what)
        total = 0
        for s, c in exts:
            total += c
        return parse_dir(await self.read_extents(exts, 0, total * self.cluster_size),
                         self.bits == 32)

    async def listdir(self, entry):
        if not entry.is_dir:
            raise FatError("%s is not a directory" % entry.name)
        if entry.cluster == 0:
            return await self.root()     # '..' of a top-level directory points at 0
        return await self._dir_clusters(entry.cluster, "directory " + entry.name)

    async def read(self, entry, off=0, n=None):
        """Bytes [off, off+n) of a file entry, clipped at its size."""
        if entry.is_dir:
            raise FatError("%s is a directory" % entry.name)
        if off < 0 or (n is not None and n < 0):
            raise ValueError("negative offset or length")
        size = entry.size
        end = size if n is None or off + n > size else off + n
        if off >= end:
            return b""
        if entry.extents is None:
            if entry.cluster == 0:
                raise FatError("%s: %d bytes but no clusters" % (entry.name, size))
            need = (size + self.cluster_size - 1) // self.cluster_size
            exts = await self.extents(entry.cluster, need, entry.name, True)
            got = 0
            for s, c in exts:
                got += c
            if got < need:
                raise FatError("%s: chain of %d clusters for %d bytes"
                               % (entry.name, got, size))
            entry.extents = exts
        return await self.read_extents(entry.extents, off, end - off)


# MBR partition types holding FAT16/FAT32 (FAT12 ones are refused by the BPB check)
_FAT_PARTS = (0x04, 0x06, 0x0B, 0x0C, 0x0E)


async def mount(block):
    """Mount the FAT16/FAT32 volume on block: a bare volume (like `mkfs.fat -C`), or
    the first FAT partition of an MBR-partitioned disk. Returns a Volume."""
    for attr in ("sector_size", "sectors", "read"):
        if not hasattr(block, attr):
            raise TypeError("fat.mount needs a block device, got %r" % (block,))
    v = Volume(block)
    try:
        await v._parse_bpb()
        return v
    except FatError as e:
        part = await _mbr_partition(v)
        if part is None:
            raise e
    v = Volume(block, part[0], part[1])
    await v._parse_bpb()
    return v


async def _mbr_partition(v):
    # (first sector, sector count) of the first FAT partition in an MBR, or None
    if v.size < 512:
        return None
    b = await v.read_bytes(0, 512)
    if b[510] != 0x55 or b[511] != 0xAA:
        return None
    for i in range(4):
        e = 446 + 16 * i
        if b[e + 4] in _FAT_PARTS:
            first, count = struct.unpack_from("<II", b, e + 8)
            if v.ss != 512:
                raise FatError("MBR partitions on %d-byte sectors not supported" % v.ss)
            if first == 0 or count == 0 or first + count > v.block.sectors:
                raise FatError("MBR partition %d (%d+%d) outside the %d-sector disk"
                               % (i + 1, first, count, v.block.sectors))
            return first, count
    return None
