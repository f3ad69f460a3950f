#!/usr/bin/env python3
"""Extract the uncompressed ELF vmlinux from an x86 bzImage (vmlinuz).

Xen loads an ELF kernel as-is, while a bzImage makes it (or libxc in dom0) decompress xz
first: about 3.5 s of TCG time per boot. The payload's place is in the boot protocol's setup
header (payload_offset/payload_length, protocol >= 2.08).
The last loadable segment ends in ~24 MB of zeros (.bss, .brk): trim() moves them from the
file into p_memsz, which every ELF loader (Xen's, libxc's) zero-fills; 66 MB -> 42 MB.
Usage: vmlinux.py VMLINUZ OUT
"""
import lzma
import struct
import sys
import zlib


def payload(image):
    if image[0x202:0x206] != b'HdrS':
        raise ValueError('not a bzImage (no HdrS setup header)')
    version = struct.unpack_from('<H', image, 0x206)[0]
    if version < 0x208:
        raise ValueError('boot protocol %#x has no payload fields' % version)
    setup_sects = image[0x1f1] or 4          # 0 means 4, for historical reasons
    offset, length = struct.unpack_from('<II', image, 0x248)
    start = (setup_sects + 1) * 512 + offset  # payload_offset counts from the protected-mode code
    return image[start:start + length]


def decompress(blob):
    if blob.startswith(b'\xfd7zXZ\x00'):
        # The payload carries the decompressed size appended after the xz stream; lzma stops
        # at the end of the stream and ignores it.
        return lzma.LZMADecompressor().decompress(blob)
    if blob.startswith(b'\x1f\x8b'):
        # decompressobj stops at the end of the member and ignores the appended size
        return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(blob)
    raise ValueError('unsupported payload compression (magic %s)' % blob[:6].hex())


def trim(elf):
    """Drop the zero tail of the last PT_LOAD segment (and the section headers after it:
    loaders use program headers and PT_NOTE only)."""
    if elf[4] != 2 or elf[5] != 1:
        raise ValueError('expected a 64-bit little-endian ELF')
    phoff, shoff = struct.unpack_from('<QQ', elf, 0x20)
    phentsize, phnum = struct.unpack_from('<HH', elf, 0x36)
    loads = []
    for i in range(phnum):
        at = phoff + i * phentsize
        p_type, _, p_offset = struct.unpack_from('<IIQ', elf, at)
        if p_type == 1:  # PT_LOAD
            loads.append((p_offset, at))
    offset, at = max(loads)
    filesz = struct.unpack_from('<Q', elf, at + 32)[0]
    kept = len(elf[offset:offset + filesz].rstrip(b'\0'))
    out = bytearray(elf[:offset + kept])
    struct.pack_into('<Q', out, at + 32, kept)                    # p_filesz
    if shoff >= offset + kept:
        struct.pack_into('<Q', out, 0x28, 0)                      # e_shoff
        struct.pack_into('<HHH', out, 0x3a, 0, 0, 0)              # e_shentsize/shnum/shstrndx
    return bytes(out)


def main(argv):
    image = open(argv[1], 'rb').read()
    elf = decompress(payload(image))
    if not elf.startswith(b'\x7fELF'):
        raise SystemExit('vmlinux.py: payload of %s is not an ELF' % argv[1])
    small = trim(elf)
    with open(argv[2], 'wb') as f:
        f.write(small)
    print('vmlinux: %d bytes (%d before trimming)' % (len(small), len(elf)))


if __name__ == '__main__':
    main(sys.argv)
