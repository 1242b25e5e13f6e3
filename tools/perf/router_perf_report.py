#!/usr/bin/env python3
"""Figures for tools/perf/router_perf.sh and tools/perf/router_soak.sh (the router lab's measurements).

  router_perf_report.py sample
      One JSON line: the time, /proc/stat's CPU line, and for each router of $LAB_ROUTERS
      ("hub=PID spoke1=PID spoke2=PID") its CPU ticks (user + system, all threads), VmRSS (kB),
      open fds, threads and `dmvpn-router show counters` ($LAB_BIN, --run-dir $LAB_CTL), parsed.
  router_perf_report.py run LABEL IPERF3_JSON BEFORE AFTER LOAD
      One run's table: goodput, retransmits or loss, each router's CPU % and CPU per packet.
  router_perf_report.py profile IPERF3_JSON BEFORE AFTER LOAD PERF_SCRIPT
      The same for a run under `perf record`, and each router's CPU per packet split into buckets
      by symbol (perf script -F pid,ip,sym,dso).
  router_perf_report.py soak OUT
      The verdict of tools/perf/router_soak.sh from OUT/{samples,hostile}.jsonl, ping.log and the
      iperf3 results: memory and fds after warm-up, hostile packets against drop counters,
      traffic. Exit status 1 if a bound does not hold.
"""

import json
import os
import re
import subprocess
import sys
import time

TICK = os.sysconf("SC_CLK_TCK")


def counters(name):
    """`show counters` of one router as a dict (plus "drops": {reason: n}), or None."""
    try:
        text = subprocess.run(
            [os.environ["LAB_BIN"], "show", "--run-dir", os.environ["LAB_CTL"], "--name", name, "counters"],
            capture_output=True, text=True, timeout=10,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    m = re.search(r"nbma in (\d+), nbma out (\d+), from host (\d+), to host (\d+), hairpinned (\d+), "
                  r"esp in (\d+), esp out (\d+)", text)
    if not m:
        return None
    keys = ["nbma_in", "nbma_out", "tunnel_in", "delivered", "forwarded", "esp_in", "esp_out"]
    out = dict(zip(keys, map(int, m.groups())))
    out["drops"] = {r: int(n) for r, n in re.findall(r"dropped (\w+): (\d+)", text)}
    return out


def proc(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        status = open(f"/proc/{pid}/status").read()
        rss = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        threads = int(re.search(r"Threads:\s+(\d+)", status).group(1))
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except (OSError, AttributeError):
        return None
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15
    return {"ticks": int(fields[11]) + int(fields[12]), "rss_kb": rss, "fds": fds, "threads": threads}


def sample():
    routers = {}
    for item in os.environ.get("LAB_ROUTERS", "").split():
        name, pid = item.split("=")
        routers[name] = {"pid": int(pid), "proc": proc(pid), "counters": counters(name)}
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    print(json.dumps({"t": time.time(), "cpu": cpu, "routers": routers}))


def iperf(path):
    """(Gbit/s at the receiver, retransmits or None, UDP loss % or None, error or None)."""
    try:
        data = json.load(open(path))
    except (OSError, ValueError) as e:
        return 0.0, None, None, f"no iperf3 result ({e})"
    if "error" in data:
        return 0.0, None, None, data["error"]
    end = data.get("end", {})
    if "sum_received" in end:
        return end["sum_received"]["bits_per_second"] / 1e9, end.get("sum_sent", {}).get("retransmits"), None, None
    s = end.get("sum", {})
    return s.get("bits_per_second", 0) / 1e9, None, s.get("lost_percent"), None


def per_router(before, after):
    """{name: (cpu %, packets, µs of CPU per packet, what a packet is)}."""
    dt = after["t"] - before["t"]
    out = {}
    for name, b in before["routers"].items():
        a = after["routers"].get(name)
        if not a or not a["proc"] or not b["proc"] or a["pid"] != b["pid"]:
            out[name] = None
            continue
        secs = (a["proc"]["ticks"] - b["proc"]["ticks"]) / TICK
        cb, ca = b["counters"] or {}, a["counters"] or {}
        if name == "hub":
            packets, unit = ca.get("forwarded", 0) - cb.get("forwarded", 0), "forwarded packet (ESP in + ESP out)"
        else:
            packets = sum(ca.get(k, 0) - cb.get(k, 0) for k in ("esp_in", "esp_out"))
            unit = "ESP packet (in or out)"
        out[name] = (100 * secs / dt, packets, 1e6 * secs / packets if packets else float("nan"), unit)
    return out


def machine_busy(before, after):
    b, a = before["cpu"], after["cpu"]
    idle = (a[3] + a[4]) - (b[3] + b[4])
    total = sum(a) - sum(b)
    return 100 * (total - idle) / total * os.cpu_count() if total else 0


def run_table(label, path, before, after, load):
    gbps, retr, loss, err = iperf(path)
    extra = f", {retr} retransmits" if retr is not None else f", {loss:.2f}% lost" if loss is not None else ""
    print(f"{label}: {gbps:.3f} Gbit/s{extra} (load average before: {load}; "
          f"machine busy {machine_busy(before, after):.0f}% of {os.cpu_count()} cores)"
          + (f" ERROR: {err}" if err else ""))
    for name, r in per_router(before, after).items():
        if r is None:
            print(f"  {name:7s} not running")
            continue
        cpu, packets, us, unit = r
        print(f"  {name:7s} CPU {cpu:5.1f}%  {packets:9d} packets  {us:6.2f} µs CPU per {unit}")


BUCKETS = [
    ("crypto (AES-CBC, HMAC-SHA1)", re.compile(r"aes::|sha1::|hmac|digest::|dmvpn_esp::cipher|block_buffer|cbc|hybrid_array")),
    ("allocation (malloc/free)", re.compile(r"malloc|free|_int_|realloc|cfree|tcache|arena|alloc::alloc")),
    ("user copies (memcpy/memmove/memset)", re.compile(r"^__mem|^mem|__pi_mem")),
    ("channel and threads (user side)", re.compile(r"mpmc|mpsc|futex|pthread|std::sync|std::thread|syscall$|__lll|Mutex|Condvar")),
    ("node and codecs (dmvpn_*)", re.compile(r"dmvpn|core::|<.*as .*>|alloc::")),
]
KERNEL = [
    ("kernel: scheduler, context switches, futex", re.compile(
        r"schedule|switch_to|finish_task_switch|pick_next|futex|wake_up|enqueue|dequeue|update_curr|"
        r"select_task|ttwu|update_load|_raw_spin_unlock_irq$|psi_|hrtimer|cpuacct|set_next_entity")),
    ("kernel: syscall entry/exit", re.compile(r"entry_SYSCALL|do_syscall|syscall_exit|exit_to_user|irqentry|"
                                              r"syscall_return|fdget|__fget|restore_regs|its_return_thunk|__x64_sys")),
    ("kernel: network stack (sockets, IP, veth, bridge, TUN)", re.compile(r".")),
]


def profile(path, before, after, load, report):
    run_table("tcp under perf record", path, before, after, load)
    routers = per_router(before, after)
    pid_name = {str(r["pid"]): name for name, r in before["routers"].items()}
    shares = {name: {} for name in before["routers"]}
    totals = {name: 0 for name in before["routers"]}
    # perf script -F pid,ip,sym,dso: "PID  ADDRESS SYMBOL (DSO)", one line per sample
    line = re.compile(r"^\s*(\d+)\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)\s*$")
    for raw in open(report, errors="replace"):
        m = line.match(raw)
        if not m or m.group(1) not in pid_name:
            continue
        name, sym, dso = pid_name[m.group(1)], m.group(2), m.group(3)
        table = KERNEL if dso.startswith("[kernel") else BUCKETS
        bucket = next((b for b, rx in table if rx.search(sym)), "other user code (libc, std)")
        shares[name][bucket] = shares[name].get(bucket, 0) + 1
        totals[name] += 1
    for name, buckets in shares.items():
        r = routers.get(name)
        total = totals[name]
        if not r or not total:
            print(f"  {name}: no samples")
            continue
        _, _, us, unit = r
        print(f"  {name}: {us:.2f} µs CPU per {unit}, by {total} perf samples:")
        for bucket, pct in sorted(buckets.items(), key=lambda kv: -kv[1]):
            share = pct / total
            print(f"    {100 * share:5.1f}%  {us * share * 1000:7.0f} ns  {bucket}")


NBMA = {"192.0.2.1": "hub", "192.0.2.11": "spoke1", "192.0.2.12": "spoke2"}
RSS_BOUND_KB = 4096
FD_BOUND = 4
ESP_DROPS = ("NoInboundSa", "EspWrongPeer", "EspIntegrity", "EspReplay")
NOT_GRE = ESP_DROPS + ("Ike", "NoOutboundSa", "EspNotGre", "EspNotConfigured", "EspEncrypt")


def soak(out):
    ok = True
    samples = [json.loads(line) for line in open(f"{out}/samples.jsonl") if line.strip()]
    if len(samples) < 3:
        print("soak: fewer than 3 samples")
        return False
    warm = max(2, len(samples) // 4)
    minutes = (samples[-1]["t"] - samples[0]["t"]) / 60
    print(f"samples: {len(samples)} over {minutes:.1f} min; warm-up: the first {warm}")
    for name in samples[0]["routers"]:
        series = [s["routers"][name]["proc"] for s in samples]
        if any(p is None for p in series):
            print(f"  {name}: gone in some samples")
            ok = False
            continue
        base = series[warm - 1]
        after = series[warm:]
        rss_max, fds_max = max(p["rss_kb"] for p in after), max(p["fds"] for p in after)
        verdict = "ok"
        if rss_max > base["rss_kb"] + RSS_BOUND_KB or fds_max > base["fds"] + FD_BOUND:
            verdict = f"FAIL (bound: +{RSS_BOUND_KB} kB, +{FD_BOUND} fds)"
            ok = False
        print(f"  {name:7s} VmRSS kB start {series[0]['rss_kb']}, warm {base['rss_kb']}, max after {rss_max}, "
              f"end {series[-1]['rss_kb']}; fds start {series[0]['fds']}, warm {base['fds']}, max after {fds_max}, "
              f"end {series[-1]['fds']}; threads {series[0]['threads']} -> {series[-1]['threads']}: {verdict}")
    # Hostile packets against the drop counters. Round k of hostile.jsonl went out between
    # samples k and k+1. A spoke that lost its hub (EIGRP hold time under the loss) starts its
    # node over, and the node's counters with it: an interval with such a restart is left out.
    rounds = [json.loads(line) for line in open(f"{out}/hostile.jsonl") if line.strip()]
    total = sum(n for r in rounds for t in r.values() for n in t.values())
    print(f"hostile packets sent: {total} in {len(rounds)} rounds")
    for name in samples[0]["routers"]:
        sent, delta, skipped = {}, {}, 0
        for k in range(len(samples) - 1):
            c0, c1 = samples[k]["routers"][name]["counters"], samples[k + 1]["routers"][name]["counters"]
            mine = {}
            for cls, targets in (rounds[k] if k < len(rounds) else {}).items():
                for target, n in targets.items():
                    if NBMA.get(target) == name:
                        mine[cls] = mine.get(cls, 0) + n
            if c0 is None or c1 is None or c1["nbma_in"] < c0["nbma_in"]:
                skipped += 1
                continue
            for cls, n in mine.items():
                sent[cls] = sent.get(cls, 0) + n
            for r, n in c1["drops"].items():
                d = n - c0["drops"].get(r, 0)
                if d:
                    delta[r] = delta.get(r, 0) + d
        gre_sent = sum(n for cls, n in sent.items() if cls.startswith("gre_"))
        esp_sent = sum(n for cls, n in sent.items() if cls.startswith("esp_"))
        gre_drop = sum(n for r, n in delta.items() if r not in NOT_GRE)
        esp_drop = sum(delta.get(r, 0) for r in ESP_DROPS)
        verdict = "ok" if gre_drop >= gre_sent and esp_drop >= esp_sent else "FAIL"
        ok = ok and verdict == "ok"
        note = f" ({skipped} interval(s) with a node restart left out)" if skipped else ""
        print(f"  {name:7s} sent {', '.join(f'{c} {n}' for c, n in sorted(sent.items()))}{note}")
        print(f"          dropped (counter deltas) {', '.join(f'{r} {n}' for r, n in sorted(delta.items()))}")
        print(f"          GRE sent {gre_sent} <= GRE-path drops {gre_drop}; ESP sent {esp_sent} <= ESP drops "
              f"{esp_drop}: {verdict}")
    # traffic
    try:
        pings = [line.split()[1] for line in open(f"{out}/ping.log") if line.strip()]
    except OSError:
        pings = []
    print(f"ping during the soak: {pings.count('ok')} of {len(pings)} answered")
    moved, runs = 0, 0
    for name in sorted(os.listdir(out)):
        if name.startswith("iperf3-soak-") and name.endswith(".json"):
            runs += 1
            try:
                moved += json.load(open(f"{out}/{name}"))["end"]["sum_received"]["bytes"]
            except (OSError, ValueError, KeyError):
                pass
    print(f"iperf3 at 1 Mbit/s during the soak: {runs} runs, {moved / 1e6:.1f} MB received")
    gbps, retr, _, err = iperf(f"{out}/iperf3-final.json")
    print(f"iperf3 5 s after the loss was removed: {gbps * 1000:.1f} Mbit/s, {retr} retransmits"
          + (f" ERROR {err}" if err else ""))
    if gbps <= 0:
        ok = False
    if pings.count("ok") == 0 or moved == 0:
        ok = False
    return ok


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "sample":
        sample()
    elif cmd == "run":
        label, path, before, after, load = sys.argv[2:7]
        run_table(label, path, json.loads(before), json.loads(after), load)
    elif cmd == "profile":
        path, before, after, load, report = sys.argv[2:7]
        profile(path, json.loads(before), json.loads(after), load, report)
    elif cmd == "soak":
        sys.exit(0 if soak(sys.argv[2]) else 1)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
