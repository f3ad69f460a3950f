#!/usr/bin/env python3
"""Serve a unikernel image under Xen 4.17 in QEMU: boot Xen + dom0, `xl create` the image
with a vif on xenbr0, forward 127.0.0.1:PORT on the host to GUEST_IP:80, show the guest's
console, stay until Ctrl-C.
usage: run.py IMAGE.xen IMAGE.xl [DEST=SRC...]
  DEST=SRC: more files for dom0 (e.g. a ramdisk the .xl names)
  env: PORT (8080), GUEST_IP (10.0.2.20), MEM (guest MiB)
"""
import os
import re
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'tests', 'xen'))
from rig import XenRig, retarget_xl  # noqa: E402


def main(argv):
    if len(argv) < 3 or not all('=' in a for a in argv[3:]):
        sys.exit(__doc__)
    image, xl_path = argv[1], argv[2]
    port = int(os.environ.get('PORT', '8080'))
    ip = os.environ.get('GUEST_IP', '10.0.2.20')
    with socket.socket() as probe:   # fail now rather than after a 20 s boot
        try:
            probe.bind(('127.0.0.1', port))
        except OSError:
            sys.exit('run: 127.0.0.1:%d is taken; set PORT=' % port)
    text = open(xl_path).read()
    m = re.search(r'^\s*name\s*=\s*"([^"]+)"', text, re.M)
    name = m.group(1) if m else 'guest'
    settings = {'name': name, 'vif': ['bridge=xenbr0,mac=00:16:3e:00:00:20'],
                'on_crash': 'preserve', 'on_poweroff': 'preserve'}
    if os.environ.get('MEM'):
        settings['memory'] = int(os.environ['MEM'])
    dest = '/guest/' + os.path.basename(image)
    xl = retarget_xl(text, dest, **settings)
    # dom0 follows the guest's console onto the serial line, prefixed, until the guest ends
    script = '''
xl_create /guest/run.xl || exit 1
touch "$(guest_log {n})"
tail -n +1 -f "$(guest_log {n})" | sed 's/^/{n}| /' &
wait_exit {n} 1000000000
sleep 1
'''.format(n=name)
    files = {dest: image, '/guest/run.xl': xl.encode()}
    files.update(a.split('=', 1) for a in argv[3:])
    rig = XenRig()
    print('run: booting Xen + dom0 in QEMU (TCG, ~10-20 s)...', flush=True)
    s = rig.boot(files=files, script=script,
                 hostfwd=[(port, ip, 80)], timeout=10 ** 8, name='run')
    shown = 0
    announced = False
    try:
        while s.alive():
            lines = s.log.split('\n')
            for line in lines[shown:-1]:
                body = line.split('] ', 1)[-1]
                if body.startswith(name + '| ') or body.startswith('@@ '):
                    print(body, flush=True)
                if not announced and 'xl-created' in body:
                    print('run: serving at http://127.0.0.1:%d/  (Ctrl-C stops)' % port, flush=True)
                    announced = True
            shown = max(shown, len(lines) - 1)
            time.sleep(0.2)
        print('run: QEMU ended (%s); log %s' % (s.dom0_exit, s.logpath))
    except KeyboardInterrupt:
        print('\nrun: stopping')
    finally:
        s.close()


if __name__ == '__main__':
    main(sys.argv)
