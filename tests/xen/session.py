"""A running QEMU whose serial console is a pipe: expect/send, a host-timestamped log, and
the parsers for the "@@ " lines dom0's lib.sh prints."""
import codecs
import ctypes
import signal
import os
import re
import subprocess
import threading
import time

# Xen's last words about dom0, mapped to how dom0 ended. With `noreboot` Xen then just
# spins, so the session kills QEMU once it has seen one of these.
DOM0_END = [(re.compile(r'Hardware Dom0 halted'), 'poweroff'),
            (re.compile(r'Entering ACPI S5 state'), 'poweroff'),   # Linux dom0 poweroff
            (re.compile(r'Hardware Dom0 crashed'), 'crash'),
            (re.compile(r'Hardware Dom0 shutdown'), 'reboot'),
            (re.compile(r'Panic on CPU'), 'xen-panic')]
GRACE = 0.7  # seconds of output still collected after the end line (panic backtraces)


def _die_with_parent():
    # QEMU must not outlive a killed test run: it would hold the machine's CPU and run
    # alongside the next rig QEMU (the lock died with the test process).
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class RigTimeout(AssertionError):
    pass


LIVE = set()   # sessions of this process whose QEMU still runs (see XenRig._lock)


class Session:
    def __init__(self, cmd, logpath, timeout, lock=None):
        self.cmd = cmd
        self.logpath = logpath
        self.dom0_exit = None     # poweroff / crash / reboot / xen-panic / timeout
        self._lock = lock
        self._text = ''           # everything from the serial line, '\r' removed
        self._pos = 0             # expect() searches from here
        self._lines = []          # host-timestamped complete lines
        self._partial = ''
        self._cond = threading.Condition()
        self._rc_seq = 0
        self._prompted = False
        self.t0 = time.time()
        self._logf = open(logpath, 'w')
        self._logf.write('# %s\n' % ' '.join(cmd))
        LIVE.add(self)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        self.deadline = self.t0 + timeout
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._watchdog = threading.Timer(timeout, self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()

    # -- reading ------------------------------------------------------------------------
    def _read(self):
        dec = codecs.getincrementaldecoder('utf-8')('replace')
        fd = self.proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            text = dec.decode(chunk).replace('\r', '')
            with self._cond:
                self._text += text
                self._take_lines(text)
                self._cond.notify_all()
        with self._cond:
            self._take_lines('\n' if self._partial else '')
            self._logf.write('# qemu exit %s after %.2f s\n' % (self.proc.wait(), self.elapsed()))
            self._logf.close()
            self._cond.notify_all()
        self._unlock()   # QEMU is gone: the next rig may start even before close()

    def _unlock(self):
        LIVE.discard(self)
        lock, self._lock = self._lock, None
        if lock:
            lock.close()

    def _take_lines(self, text):
        parts = (self._partial + text).split('\n')
        self._partial = parts.pop()
        for line in parts:
            stamped = '[%8.3f] %s' % (self.elapsed(), line)
            self._lines.append(stamped)
            self._logf.write(stamped + '\n')
            if self.dom0_exit is None:
                for pat, why in DOM0_END:
                    if pat.search(line):
                        self.dom0_exit = why
                        threading.Timer(GRACE, self._kill).start()
        self._logf.flush()

    def elapsed(self):
        return time.time() - self.t0

    def _expire(self):
        if self.proc.poll() is None:
            self.dom0_exit = self.dom0_exit or 'timeout'
            self._kill()

    def _kill(self):
        if self.proc.poll() is None:
            self.proc.kill()

    # -- the interface tests use --------------------------------------------------------
    @property
    def text(self):
        with self._cond:
            return self._text

    @property
    def log(self):
        with self._cond:
            return '\n'.join(self._lines + ([self._partial] if self._partial else []))

    def alive(self):
        return self.proc.poll() is None

    def tail(self, n=60):
        return '\n'.join(self.log.splitlines()[-n:])

    def expect(self, pattern, timeout=None):
        """Wait for `pattern` (regex) in the output after the previous match; returns the
        match. Raises RigTimeout (with the log's tail) on timeout or when QEMU is gone."""
        rx = re.compile(pattern)
        end = min(self.deadline, time.time() + (timeout if timeout is not None else 1e9))
        with self._cond:
            while True:
                m = rx.search(self._text, self._pos)
                if m:
                    self._pos = m.end()
                    return m
                left = end - time.time()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise RigTimeout('no %r after %.1f s (dom0_exit=%s); log %s tail:\n%s'
                                     % (pattern, self.elapsed(), self.dom0_exit, self.logpath,
                                        self.tail()))
                self._cond.wait(min(left, 0.5))

    def find(self, pattern):
        """Search everything received so far (expect()'s position untouched); None if absent."""
        return re.search(pattern, self.text, re.M)

    def send(self, text, chunk=16, pause=0.03):
        """Type into the serial console (dom0's tty, or through it `xl console GUEST`).
        Paced: Xen's serial receive ring is small and drops what overflows."""
        data = text.encode() if isinstance(text, str) else text
        for i in range(0, len(data), chunk):
            self.proc.stdin.write(data[i:i + chunk])
            self.proc.stdin.flush()
            time.sleep(pause)

    def sh(self, command, timeout=60):
        """Run a command in dom0's interactive shell (boot(shell=True)); returns (rc, output)."""
        if not self._prompted:
            self.expect(r'dom0# ', timeout)
            self._prompted = True
        self._rc_seq += 1
        tag = '@@ rc %d' % self._rc_seq
        # the quote between tag and '=' keeps the echoed command line from matching
        self.send('%s; echo "%s"=$?\n' % (command, tag))
        start = self._pos
        m = self.expect(re.escape(tag) + r'=(\d+)\n', timeout)
        out = self._text[start:m.start()]
        out = out.split('\n', 1)[1] if '\n' in out else ''   # drop the echoed command line
        return int(m.group(1)), out

    def attach(self, guest, settle=1.0):
        """`xl console GUEST` from dom0's shell: what send() types next goes to the guest.
        Keys typed before xenconsole has set up its tty can be lost, hence the settle time."""
        self.sh('true')  # at dom0's prompt, not in some other program
        self.send('xl console %s\n' % guest)
        time.sleep(settle)

    def detach(self):
        """Ctrl-] back to dom0's shell. xenconsole only honours it when it arrives alone in
        one read, so it gets quiet time around it; ^U then drops it if xenconsole had
        already gone (guest shut down) and the shell got it instead."""
        time.sleep(0.4)
        self.send('\x1d')
        time.sleep(0.6)
        self.send('\x15')

    def release(self):
        """Let a script blocked in host_wait go on."""
        self.send('\n')

    def wait(self, timeout=None):
        """Wait for QEMU to end (dom0 powered off, halted, or the boot timeout hit)."""
        left = self.deadline - time.time() if timeout is None else timeout
        try:
            self.proc.wait(max(left, 0) + 5)
        except subprocess.TimeoutExpired:
            self._kill()
            raise RigTimeout('QEMU still running after %.1f s; log %s tail:\n%s'
                             % (self.elapsed(), self.logpath, self.tail()))
        self._reader.join(5)
        return self.dom0_exit

    def close(self):
        self._watchdog.cancel()
        self._kill()
        try:
            self.proc.wait(10)
        finally:
            self._reader.join(5)
            self._unlock()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- the "@@ " lines of tools/xenrig/dom0/lib.sh -----------------------------------
    def marks(self):
        """[(host seconds, dom0 uptime seconds, name)] of every `mark` so far."""
        out = []
        for line in self.log.splitlines():
            m = re.match(r'\[\s*([\d.]+)\] @@ (\d+\.\d+) (.*)$', line)
            if m:
                out.append((float(m.group(1)), float(m.group(2)), m.group(3)))
        return out

    def mark_time(self, name_prefix):
        """dom0 uptime of the first mark whose name starts with name_prefix (None if absent)."""
        for _, up, name in self.marks():
            if name.startswith(name_prefix):
                return up
        return None

    def exit_reason(self, guest):
        m = re.search(r'^@@ exit %s (\S+)$' % re.escape(guest), self.text, re.M)
        return m.group(1) if m else None

    def console(self, guest):
        """The guest's console log as printed by show_console (last one if several)."""
        found = re.findall(r'^@@ console %s begin\n(.*?)^@@ console %s end$'
                           % (re.escape(guest), re.escape(guest)), self.text, re.M | re.S)
        return found[-1] if found else None
