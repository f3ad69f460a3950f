"""Issue 14 on arm32 (Xen 4.17 on the emulated Cortex-A7, Linux dom0): the same Python
control/shutdown path as on x86_64. dom0 starts tests/xen/configs/xentest_life.py with
`xl create`, `xl reboot`s it (on_reboot="restart": a new domain that serves again), then
`xl shutdown -w`s it (on_poweroff="preserve": `xl list -v` shows reason code 0)."""
import os
import re
import sys

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tools", "armrig"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import armrig as rig  # noqa: E402
from test_arm32_images import image  # noqa: E402

SCRIPT = r'''#!/bin/sh
log=/var/log/xen/console/guest-life.log
up() { read u _ < /proc/uptime; echo $u; }
served() {
  c=$(grep -c "life: serving" $log 2>/dev/null); r=$(grep -c "reboot requested" $log 2>/dev/null)
  [ "${c:-0}" -ge 2 ] || { [ "${r:-0}" -eq 0 ] && [ "${c:-0}" -ge 1 ]; }
}
brctl addbr xenbr0 && brctl addif xenbr0 eth0 && ip link set eth0 up && ip link set xenbr0 up
xl create /guest/guest.cfg && echo "RIG-XL-CREATE-OK"
i=0; until served; do i=$((i + 1)); [ $i -gt 600 ] && break; sleep 0.1; done
A=$(xl domid life)
t0=$(up)
xl reboot life
i=0
while :; do
  B=$(xl domid life 2>/dev/null)
  [ -n "$B" ] && [ "$B" != "$A" ] && break
  i=$((i + 1)); [ $i -gt 600 ] && break; sleep 0.1
done
i=0; until served; do i=$((i + 1)); [ $i -gt 600 ] && break; sleep 0.1; done
echo "RIG-REBOOT from=$A to=$B secs=$(echo "$(up) $t0" | awk '{print $1 - $2}')"
t0=$(up)
timeout 60 xl shutdown -w life
echo "RIG-SHUTDOWN rc=$? secs=$(echo "$(up) $t0" | awk '{print $1 - $2}')"
echo "RIG-XL-LIST $(xl list -v life | tail -1)"
sed 's/^/domU: /' $log
echo "RIG-LIFE-DONE"
'''


def test_arm32_xl_reboot_then_xl_shutdown():
    path, _ = image(os.path.join(TOP, "tests", "xen", "configs", "xentest_life.py"),
                    "DHCP=no", "IP=10.0.2.15", "GATEWAY=10.0.2.2", "SHUTDOWN_GRACE=3")
    work = rig.WORK
    os.makedirs(work, exist_ok=True)
    cfg = os.path.join(work, "life.cfg")
    with open(cfg, "w") as f:
        f.write('name = "life"\nkernel = "/guest/k"\nmemory = 32\nvcpus = 1\n'
                'vif = [ "bridge=xenbr0" ]\non_poweroff = "preserve"\non_reboot = "restart"\n')
    run_sh = os.path.join(work, "life-run.sh")
    with open(run_sh, "w") as f:
        f.write(SCRIPT)
    os.chmod(run_sh, 0o755)
    ok, secs, text = rig.boot_dom0([(path, "guest/k"), (cfg, "guest/guest.cfg"),
                                    (run_sh, "rig-run.sh")],
                                   until=r"RIG-LIFE-DONE", timeout=400,
                                   modules=rig.NET_MODULES, qemu_extra=rig.user_net([]))
    print("\n".join(l for l in text.splitlines() if l.startswith(("RIG-", "domU:"))))
    assert ok, text[-3000:]
    m = re.search(r"RIG-REBOOT from=(\d+) to=(\d+) secs=([\d.]+)", text)
    assert m and m.group(1) != m.group(2), text[-3000:]
    m2 = re.search(r"RIG-SHUTDOWN rc=(\d+) secs=([\d.]+)", text)
    assert m2 and m2.group(1) == "0", text[-3000:]
    print("arm32: xl reboot to serving again %.2f s, xl shutdown -w %.2f s"
          % (float(m.group(3)), float(m2.group(2))))
    assert float(m2.group(2)) < 5.0
    # xl list -v: name id mem vcpus state time uuid reason-code ...; shut down, code 0
    row = re.search(r"RIG-XL-LIST (.*)", text).group(1).split()
    assert row[0] == "life" and "s" in row[4] and row[7] == "0", row
    assert "domU: " in text and "reboot requested by the toolstack" in text
    assert "poweroff requested by the toolstack" in text
    assert "life: hook poweroff, grace 3.0 s" in text
