"""arm/cubieboard2/mksd.sh: the CubieBoard2 SD card image, checked from the outside.

We cannot boot the board here, so this checks what the A20 boot ROM and U-Boot will read:
the partition table, the SPL's eGON header and checksum at 8 KiB, boot.scr's uImage header
and script, and every file in the FAT boot partition against its source.
The www unikernel comes from $MORGANA_ARM_WWW or build/arm32/www/www.zimage; when neither
exists yet, a placeholder is used and the test says so.
"""
import binascii
import gzip
import json
import os
import re
import shutil
import struct
import subprocess

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOT = os.path.join(TOP, ".cache", "arm", "root")
BOARD = os.path.join(TOP, "arm", "cubieboard2")
FILES = ["boot.scr", "boot.cmd", "xen", "vmlinuz", "initrd.gz", "sun7i-a20-cubieboard2.dtb",
         "www.xen", "www.xl"]
PART_START = 2048  # sectors: partition 1 at 1 MiB


def www_image(tmp_path):
    for p in (os.environ.get("MORGANA_ARM_WWW", ""), os.path.join(TOP, "build/arm32/www/www.zimage")):
        if p and os.path.isfile(p):
            print("sdimage: using the real www unikernel", p)
            return p
    p = str(tmp_path / "www.xen")
    with open(p, "wb") as f:
        f.write(b"PLACEHOLDER: the arm32 www.xen is not built yet\n")
    print("sdimage: NOTE arm32 www.xen not built yet; the image carries a PLACEHOLDER www.xen")
    return p


def make_image(tmp_path):
    missing = [t for t in ("mkimage", "mkfs.fat", "mcopy", "sfdisk", "dtc") if not shutil.which(t)]
    assert not missing, "mksd needs %s (tools/deps.sh arm)" % " ".join(missing)
    www = www_image(tmp_path)
    img = str(tmp_path / "sd.img")
    out = subprocess.run([os.path.join(BOARD, "mksd.sh"), img, www],
                         capture_output=True, text=True)
    print(out.stdout + out.stderr)
    assert out.returncode == 0
    return img, www


def fat_read(img, name, dest):
    subprocess.run(["mcopy", "-n", "-i", "%s@@%d" % (img, PART_START * 512), "::" + name, dest],
                   check=True)
    return open(dest, "rb").read()


def egon_checksum_ok(spl):
    """A20 boot ROM rule: 32-bit LE sum over `length` bytes, with the checksum field
    counted as 0x5F0A6C39, equals the stored checksum."""
    stored, length = struct.unpack_from("<II", spl, 12)
    words = list(struct.unpack_from("<%dI" % (length // 4), spl, 0))
    words[3] = 0x5F0A6C39
    return length % 4 == 0 and sum(words) & 0xFFFFFFFF == stored, length


def test_sd_image(tmp_path):
    img, www = make_image(tmp_path)
    data = open(img, "rb").read()

    # Partition table: one bootable FAT16 partition at 1 MiB filling the rest.
    pt = json.loads(subprocess.run(["sfdisk", "-J", img], capture_output=True, text=True,
                                   check=True).stdout)["partitiontable"]
    assert pt["label"] == "dos" and len(pt["partitions"]) == 1
    p = pt["partitions"][0]
    assert p["start"] == PART_START and p["type"] == "6" and p.get("bootable") is True
    assert (p["start"] + p["size"]) * 512 == len(data)

    # SPL + U-Boot at 8 KiB, exactly Debian's file, valid eGON header, ends before 1 MiB.
    spl_src = open(os.path.join(ROOT, "usr/lib/u-boot/Cubieboard2/u-boot-sunxi-with-spl.bin"),
                   "rb").read()
    assert data[8192 + 4:8192 + 12] == b"eGON.BT0"
    assert data[8192:8192 + len(spl_src)] == spl_src
    assert 8192 + len(spl_src) <= PART_START * 512
    ok, spl_len = egon_checksum_ok(data[8192:8192 + 65536])
    assert ok and 0 < spl_len <= 32768, "eGON checksum/length"
    assert data[:8192].count(0) >= 8192 - 512  # only the MBR before the SPL

    # Every file present in the FAT partition and identical to its source.
    listing = subprocess.run(["mdir", "-b", "-i", "%s@@%d" % (img, PART_START * 512), "::"],
                             capture_output=True, text=True, check=True).stdout.split()
    assert sorted(os.path.basename(n) for n in listing) == sorted(FILES)
    got = {n: fat_read(img, n, str(tmp_path / ("got-" + n))) for n in FILES}
    kver = os.listdir(os.path.join(ROOT, "lib/modules"))[0]
    assert got["xen"] == open(os.path.join(ROOT, "boot/xen-4.17-armhf"), "rb").read()
    assert got["vmlinuz"] == open(os.path.join(ROOT, "boot/vmlinuz-" + kver), "rb").read()
    assert got["www.xen"] == open(www, "rb").read()
    assert got["www.xl"] == open(os.path.join(BOARD, "www.xl"), "rb").read()
    assert b'kernel = "/boot/www.xen"' in got["www.xl"]
    assert got["xen"][0x24:0x28] == b"\x18\x28\x6f\x01"  # zImage magic: bootz accepts it
    dts = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", str(tmp_path / "got-sun7i-a20-cubieboard2.dtb")],
                         capture_output=True, text=True, check=True).stdout
    assert 'compatible = "cubietech,cubieboard2\\0allwinner,sun7i-a20";' in dts

    # boot.scr: legacy uImage, type script, CRCs right, payload is boot.cmd verbatim.
    scr = got["boot.scr"]
    magic, hcrc, _, size, _, _, dcrc, os_, arch, typ, comp = struct.unpack_from(">7I4B", scr)
    assert magic == 0x27051956 and (arch, typ, comp) == (2, 6, 0)  # arm, script, none
    assert binascii.crc32(scr[:4] + b"\0" * 4 + scr[8:64]) == hcrc
    assert binascii.crc32(scr[64:64 + size]) == dcrc and len(scr) == 64 + size
    assert scr[32:64].rstrip(b"\0") == b"Morgana CubieBoard2"
    n0, n1 = struct.unpack_from(">II", scr, 64)
    assert n1 == 0 and n0 == size - 8
    text = scr[72:].decode()
    assert text == got["boot.cmd"].decode() == open(os.path.join(BOARD, "boot.cmd")).read()
    for pat in (r"load \$\{devtype\} \$\{devnum\}:\$\{distro_bootpart\} \$\{xen_addr\} xen\n",
                r"fdt set /chosen/module@0 compatible \"multiboot,kernel\" \"multiboot,module\"",
                r"fdt set /chosen/module@0 reg <\$\{dom0_addr\} 0x\$\{dom0_size\}>",
                r"fdt set /chosen/module@1 compatible \"multiboot,ramdisk\" \"multiboot,module\"",
                r"fdt set /chosen xen,xen-bootargs \"console=dtuart dtuart=serial0 ",
                r"\nbootz \$\{xen_addr\} - \$\{fdt_addr\}\n"):
        assert re.search(pat, text), pat
    # The load addresses are inside the board's 1 GiB and 16 MiB apart.
    addrs = sorted(int(a, 16) for a in re.findall(r"setenv \w+_addr\s+(0x[0-9a-f]+)", text))
    assert len(addrs) == 4 and addrs[0] >= 0x40000000 and addrs[-1] < 0x80000000
    assert all(b - a >= 0x1000000 for a, b in zip(addrs, addrs[1:]))

    # Dom0 initramfs: our init, xl, and the modules for the SD card, FAT, and netback.
    cpio = gzip.decompress(got["initrd.gz"])
    names = set(subprocess.run(["cpio", "-t", "--quiet"], input=cpio, capture_output=True,
                               check=True).stdout.decode().split())
    for f in ("init", "usr/lib/xen-4.17/bin/xl", "etc/xen/scripts/vif-bridge",
              "lib/rig-modules/sunxi-mmc.ko", "lib/rig-modules/vfat.ko",
              "lib/rig-modules/xen-netback.ko", "lib/rig-modules/bridge.ko"):
        assert f in names, f
    init = subprocess.run(["cpio", "-i", "--quiet", "--to-stdout", "init"], input=cpio,
                          capture_output=True, check=True).stdout
    assert init == open(os.path.join(BOARD, "dom0-init.sh"), "rb").read()
    assert b"xl create /boot/www.xl" in init


def test_sd_image_boots_xen_dom0_and_www_under_uboot_on_cortex_a7(tmp_path):
    """The image's own boot.scr, run by U-Boot (Debian's qemu_arm build) on the emulated
    Cortex-A7, loads Xen and dom0; dom0's init mounts the boot partition and `xl create`s
    www with its vif on the bridge. The board's DTB is swapped for the virt machine's."""
    import sys
    sys.path.insert(0, os.path.join(TOP, "tools", "armrig"))
    import armrig as rig
    assert os.path.isfile(rig.UBOOT), "needs Debian's u-boot-qemu (tools/deps.sh arm)"
    real = [p for p in (os.environ.get("MORGANA_ARM_WWW", ""),
                        os.path.join(TOP, "build/arm32/www/www.zimage")) if p and os.path.isfile(p)]
    # Until the arm32 www is built, Debian's Linux kernel stands in as www.xen: it shows
    # that xl accepts and starts whatever the image carries.
    www = real[0] if real else os.path.join(ROOT, "boot", "vmlinuz-" + os.listdir(os.path.join(ROOT, "lib/modules"))[0])
    print("sdimage-qemu: www.xen =", www if real else "Debian's Linux kernel (STAND-IN, arm32 www not built)")
    img = str(tmp_path / "sd.img")
    subprocess.run([os.path.join(BOARD, "mksd.sh"), img, www], check=True)
    virt = rig.virt_board_dtb(str(tmp_path / "virt.dtb"))
    subprocess.run(["mcopy", "-i", "%s@@%d" % (img, PART_START * 512), virt, "::virt.dtb"], check=True)
    port = rig.free_port()

    def get(_text):
        """The real www (built with IP=10.0.2.15 by test_arm32_images) answers through
        the bridge dom0's init made over the NIC; retried while it comes up."""
        import time
        import urllib.request
        for _ in range(30):
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5) as r:
                    return "HTTP-GET %d %s" % (r.status, r.read(300).decode("latin-1"))
            except OSError as e:
                err = e
                time.sleep(1)
        return "HTTP-GET failed: %s" % err
    ok, secs, text = rig.boot_uboot_disk(img, r"\nwww\s+1\s+32\s+1\s", "virt.dtb", timeout=170,
                                         forwards=[(port, "10.0.2.15", 80)],
                                         then=get if real else None)
    print("sdimage-qemu: %s in %.1f s" % ("ok" if ok else "FAILED", secs))
    if not ok:
        print(text[-6000:])
    assert ok
    assert "## Executing script at" in text and "Morgana: starting Xen" in text
    assert "Loading d0 initrd from 0000000048000000" in text  # boot.cmd's address, via /chosen
    assert "morgana: boot partition /dev/vda1" in text
    assert "morgana: www started" in text
    if real:
        print([l for l in text.splitlines() if l.startswith("HTTP-GET")])
        assert "HTTP-GET 200" in text and "<title>Morgana" in text
