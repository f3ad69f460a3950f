"""Device tree for Xen on QEMU's arm 'virt' machine.

QEMU has no firmware here, so the DTB is the boot protocol: we take the machine's own
tree (dumpdtb), add Xen's /chosen entries (docs/misc/arm/device-tree/booting.txt and
dom0less.txt in Xen) and recompile it with dtc. Modules are plain regions of RAM that
QEMU's generic loader fills before the CPU starts.
"""
import subprocess

# #address-cells/#size-cells of /chosen are 1/1: every region here is below 4 GiB.


def _cells(*vals):
    return "<" + " ".join("0x%x" % v for v in vals) + ">"


def _quote(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


class Module:
    """A boot module: a file loaded at addr, described to Xen by compatible strings."""

    def __init__(self, path, addr, size, compatible, bootargs=None):
        self.path, self.addr, self.size = path, addr, size
        self.compatible, self.bootargs = compatible, bootargs

    def dts(self, indent):
        pad = "\t" * indent
        lines = [pad + "module@%x {" % self.addr,
                 pad + "\tcompatible = " + ", ".join(_quote(c) for c in self.compatible) + ";",
                 pad + "\treg = " + _cells(self.addr, self.size) + ";"]
        if self.bootargs is not None:
            lines.append(pad + "\tbootargs = " + _quote(self.bootargs) + ";")
        lines.append(pad + "};")
        return "\n".join(lines)


def kernel(path, addr, size, bootargs=None):
    return Module(path, addr, size, ["multiboot,kernel", "multiboot,module"], bootargs)


def ramdisk(path, addr, size):
    return Module(path, addr, size, ["multiboot,ramdisk", "multiboot,module"])


class DomU:
    """A dom0less guest: Xen builds it from these nodes at boot, no toolstack involved."""

    def __init__(self, name, mem_kib, modules, vpl011=True, cpus=1):
        self.name, self.mem_kib, self.modules = name, mem_kib, modules
        self.vpl011, self.cpus = vpl011, cpus

    def dts(self):
        lines = ["\t\t%s {" % self.name,
                 '\t\t\tcompatible = "xen,domain";',
                 "\t\t\t#address-cells = <1>;", "\t\t\t#size-cells = <1>;",
                 "\t\t\tmemory = " + _cells(0, self.mem_kib) + ";",
                 "\t\t\tcpus = " + _cells(self.cpus) + ";"]
        if self.vpl011:
            lines.append("\t\t\tvpl011;")
        lines += [m.dts(3) for m in self.modules]
        lines.append("\t\t};")
        return "\n".join(lines)


def chosen_dts(xen_bootargs, dom0_bootargs=None, dom0_modules=(), domus=()):
    """The lines that go inside /chosen."""
    lines = ["\t\t#address-cells = <1>;", "\t\t#size-cells = <1>;",
             "\t\txen,xen-bootargs = " + _quote(xen_bootargs) + ";"]
    if dom0_bootargs is not None:
        lines.append("\t\txen,dom0-bootargs = " + _quote(dom0_bootargs) + ";")
    lines += [m.dts(2) for m in dom0_modules]
    lines += [d.dts() for d in domus]
    return "\n".join(lines)


def add_to_chosen(dts_text, inner):
    """Append inner at the end of the existing /chosen node (QEMU's has stdout-path);
    properties go before the subnodes, as dtc requires."""
    marker = "\tchosen {\n"
    at = dts_text.find(marker)
    if at < 0:
        raise ValueError("no /chosen node in the machine's device tree")
    end = dts_text.index("\n\t};", at) + 1
    return dts_text[:end] + inner + "\n" + dts_text[end:]


def remove_top_node(dts_text, prefix):
    """Drop a top-level node, e.g. "pcie@": Linux dom0 hangs probing QEMU's ECAM above
    4 GiB under Xen on arm32, and no guest here needs PCI."""
    at = dts_text.find("\n\t" + prefix)
    if at < 0:
        return dts_text
    end = dts_text.index("\n\t};\n", at) + len("\n\t};")
    return dts_text[:at] + dts_text[end:]


def dump_machine_dts(qemu_machine_args, workdir):
    """Ask QEMU for its generated tree (same -machine/-cpu/-m as the real run) as DTS."""
    dtb = workdir + "/machine.dtb"
    subprocess.run(_with_dumpdtb(qemu_machine_args, dtb), check=True, capture_output=True)
    out = subprocess.run(["dtc", "-q", "-I", "dtb", "-O", "dts", dtb],
                         check=True, capture_output=True, text=True)
    return out.stdout


def _with_dumpdtb(args, dtb):
    args = list(args)
    i = args.index("-machine")
    args[i + 1] += ",dumpdtb=" + dtb
    return ["qemu-system-arm"] + args


def compile_dts(dts_text, out_dtb):
    subprocess.run(["dtc", "-q", "-I", "dts", "-O", "dtb", "-o", out_dtb, "-"],
                   input=dts_text, check=True, text=True)
    return out_dtb
