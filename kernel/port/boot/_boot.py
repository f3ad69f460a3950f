# Boot module of a bare kernel: MicroPython's REPL on the Xen console.
import _xen

_xen.repl()
