"""Jam timing and musical figures through real JACK ports: a scripted player, a polling probe.

Starts a private JACK dummy server (``jackd -S --no-realtime -d dummy -r 48000 -p 64``;
``--realtime`` with ``--rt-jack``), then
three processes talk through it:

  player  its own process with a JACK output port: plays a script of 2-bar calls (random
          keys kept for 5 exchanges, random registers, 16th-grid rhythms with +-8 ms human
          jitter) on the jam's grid; every 5th exchange it cuts into the answer (beat 2.5 of
          the answer's first bar) and that becomes its next call
  jam     this process: ``engine.jam.JamSession`` on a ``Transport`` (count-in, metronome)
          with the shipped LSTM answering (``musicapp.jamming``), as ``musicapp jam`` runs it
  probe   its own process with one JACK input, connected to the jam's output; records every
          message with JACK's cycle clock

Figures: answer notes' timing error against their grid times (JACK clock; the grid is fitted
to the metronome clicks, i.e. minus the median offset), the first answer note's lateness
against its grid time, how long before the bar line each answer was ready, answers' notes in
the player's key, similarity of answer to call, and notes left sounding after every cut and
after the final stop (in the middle of an answer).

Where a late note comes from: the engine's own send times (a recording output beside the
port) against the grid, and a fourth process, the *bare waker* (a SCHED_FIFO thread sleeping to
an absolute deadline every 1 ms, nothing else; one pinned to each CPU), whose wake-ups later
than 2 ms are stalls every thread on that CPU saw; and the share of CPU time the host took
from the VM during the run (``steal`` in ``/proc/stat``). Each answer note more than 2 ms off is counted as
sent late by the engine or not, and as inside such a stall or not.
Usage: python benchmarks/bench_jam.py [--exchanges 50] [--tempo 120] [--bars 2] [--rt-jack]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np

HERE = os.path.abspath(__file__)
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(os.path.dirname(HERE)))

from bench_engine import run_poller, start_jack  # noqa: E402  (same private server as the engine bench)

PPQ = 480
CUT_EVERY = 5  # every 5th exchange the player cuts into the answer
KEY_EVERY = 5  # the player changes key every 5 exchanges
MAJOR, MINOR = (0, 2, 4, 5, 7, 9, 11), (0, 2, 3, 5, 7, 8, 10)


# ----- the player's script ------------------------------------------------------------------
def make_script(exchanges: int, bars: int, seed: int = 7):
    """(events [(tick, msg)], calls [dict]) for the whole run; calls start at bar 1."""
    rng = random.Random(seed)
    bar = 4 * PPQ
    events, calls = [], []
    start_bar = 1
    offset = 0  # ticks into the call where its first note is (after a cut-in: 1.5 beats)
    for i in range(exchanges):
        if i % KEY_EVERY == 0:
            tonic, minor = rng.randrange(12), rng.random() < 0.4
            base = rng.randrange(57, 74)  # the tonic between A3 and C#5; calls reach a 4th below
            root = base - (base - tonic) % 12
        scale = MINOR if minor else MAJOR
        call_start = start_bar * bar
        t, end = call_start + offset, call_start + bars * bar - PPQ // 4
        degree = rng.choice((0, 0, 2, 4))
        notes = []
        while t < end:
            dur = rng.choice((120, 240, 240, 240, 480, 480, 720)) if t + 120 < end else 120
            dur = min(dur, end - t)
            if rng.random() < 0.88 or not notes:
                octave, d = divmod(degree, 7)
                pitch = root + 12 * octave + scale[d]
                notes.append((t, pitch, dur))
            t += dur
            degree = max(-3, min(9, degree + rng.choice((-2, -1, -1, 1, 1, 2, 0, 3, -3))))
        for start, pitch, dur in notes:
            events.append((start, (0x90, pitch, rng.randint(70, 110))))
            events.append((start + int(dur * 0.8), (0x80, pitch, 0)))
        cut = i % CUT_EVERY == CUT_EVERY - 1 and i < exchanges - 1
        calls.append({"start": call_start, "tonic": tonic, "minor": minor, "cut": cut,
                      "notes": [(s, p) for s, p, _ in notes]})
        answer = call_start + bars * bar
        if cut:  # cut in on beat 2.5 of the answer's first bar: that bar begins the next call
            start_bar, offset = answer // bar, PPQ * 3 // 2
        else:
            start_bar, offset = answer // bar + bars, 0
    final_stop = (start_bar * bar) - bars * bar + PPQ * 5  # mid-way through the last answer
    return sorted(events, key=lambda e: (e[0], e[1][0] == 0x90)), calls, final_stop


def run_player() -> None:
    """Player process: reads the script and the grid from stdin, plays it on its own port."""
    from musicapp.engine.ports import VirtualOutput

    out = VirtualOutput("out", client="bench-player")  # the keyboard: "bench-player:out"
    print("ready", flush=True)
    job = json.loads(sys.stdin.readline())
    wall0, spt, rng = job["wall0"], job["sec_per_tick"], random.Random(3)
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(3))
    except (AttributeError, OSError):
        pass
    for tick, msg in job["events"]:
        deadline = wall0 + tick * spt + (rng.uniform(-0.008, 0.008) if msg[0] == 0x90 else 0.0)
        while time.perf_counter() < deadline - 0.003:
            time.sleep(0.001)
        while time.perf_counter() < deadline:
            pass
        out.send(tuple(msg))
    time.sleep(0.2)
    out.close()


def run_probe(path: str) -> None:
    """The probe process: the engine bench's poller, each message also stamped with
    ``perf_counter``."""
    run_poller(path, client="bench-probe", wall=True)


def run_waker(path: str, cpu: int | None) -> None:
    """The machine's own floor during the run: a SCHED_FIFO thread (where allowed) one priority
    above the engine's (below JACK's), pinned to ``cpu``, sleeping to an absolute deadline every 1 ms,
    no MIDI, no spin. Until SIGTERM; writes ``{"wakes": n, "late": [[deadline, ms late], ...]}``
    (wakes over 1 ms late, ``perf_counter`` seconds) to ``path``. A stall it sees is one every
    thread on that CPU saw (a virtual CPU taken away by the host, or a higher-priority thread)."""
    from bench_engine import engine_footing

    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})
    engine_footing(above=1)  # above the engine's and the player's threads: their busy-wait tails never delay it
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    print("ready", flush=True)
    late, wakes, deadline = [], 0, time.perf_counter()
    while not stop:
        deadline += 0.001
        remaining = deadline - time.perf_counter()
        if remaining > 0:
            time.sleep(remaining)
        now = time.perf_counter()
        wakes += 1
        if now - deadline > 0.001:
            late.append((deadline, (now - deadline) * 1000))
            deadline = now  # no burst of catch-up wakes after a stall
    with open(path, "w") as fh:
        json.dump({"wakes": wakes, "late": late}, fh)


def cpu_steal() -> tuple[int, int] | None:
    """(steal, total) jiffies of all CPUs so far (``/proc/stat``), None where unavailable."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(v) for v in fh.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def child(*args: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, HERE, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


# ----- analysis -----------------------------------------------------------------------------
def jack_offset(received, click_walls: np.ndarray) -> float:
    """JACK time minus perf_counter wall, fitted on the metronome clicks (median)."""
    clicks = [(t, pc) for t, pc, m in received if m[0] == 0x99]
    rough = float(np.median([t - pc for t, pc in clicks]))
    diffs = []
    for t, _ in clicks:
        i = int(np.argmin(np.abs(click_walls + rough - t)))
        diffs.append(t - click_walls[i])
    return float(np.median(diffs))


def stuck(messages) -> int:
    count: dict = {}
    for m in messages:
        kind, key = m[0] & 0xF0, (m[0] & 0x0F, m[1] if len(m) > 1 else 0)
        if kind == 0x90 and m[2] > 0:
            count[key] = count.get(key, 0) + 1
        elif kind in (0x80, 0x90) and count.get(key):
            count[key] -= 1
    return sum(count.values())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--exchanges", type=int, default=50)
    ap.add_argument("--tempo", type=float, default=120.0)
    ap.add_argument("--bars", type=int, default=2)
    ap.add_argument("--rt-jack", action="store_true", help="run jackd with --realtime (needs rights)")
    ap.add_argument("--player", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--probe", help=argparse.SUPPRESS)
    ap.add_argument("--waker", help=argparse.SUPPRESS)
    ap.add_argument("--cpu", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.waker:
        return run_waker(args.waker, args.cpu)
    if args.player:
        return run_player()
    if args.probe:
        return run_probe(args.probe)

    from musicapp.commands.jam import clock_song
    from musicapp.core.scales import in_scale
    from musicapp.core.song import Key
    from musicapp.engine.jam import JamConfig, JamSession
    from musicapp.engine.jam_parts import similarity
    from musicapp.engine.outputs import RecordingOutput
    from musicapp.engine.transport import Transport, open_input_port, open_output_port
    from musicapp.jamming import find_model, jam_generate

    print(f"load average before: {os.getloadavg()[0]:.2f}")
    jack = start_jack(sync=True, realtime=args.rt_jack)
    probe_path = f"/tmp/bench-jam-probe-{os.getpid()}.json"
    probe = child("--probe", probe_path)
    player = child("--player")
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    waker_paths = [f"/tmp/bench-jam-waker-{os.getpid()}-{c}.json" for c in cpus]
    wakers = [child("--waker", path, "--cpu", str(c)) for c, path in zip(cpus, waker_paths)]
    steal0 = cpu_steal()
    stamps = RecordingOutput("send times")  # when the engine handed each message to the port
    try:
        generate = jam_generate(find_model(None))
        source = open_input_port("bench-player:out")
        song = clock_song(args.tempo)
        transport = Transport(open_output_port("bench-probe:in"), song)
        transport.add_output(stamps)
        session = JamSession(transport, source, generate,
                             JamConfig(bars=args.bars, thru_channel=0, answer_channel=1))
        events, calls, final_stop = make_script(args.exchanges, args.bars)
        transport.set_metronome(True)
        transport.set_open_end(True)
        transport.set_count_in(1)
        transport.play(0)
        session.start()
        time.sleep(0.05)
        wall0, spt = transport.wall_at(0), song.tick_to_seconds(1) - song.tick_to_seconds(0)
        player.stdin.write(json.dumps({"wall0": wall0, "sec_per_tick": spt, "events": events}) + "\n")
        player.stdin.flush()
        stop_at = transport.wall_at(final_stop)
        print(f"{args.exchanges} exchanges of {args.bars}-bar calls at {args.tempo:g} BPM: "
              f"{stop_at - time.perf_counter():.0f} s ...", flush=True)
        while time.perf_counter() < stop_at:
            time.sleep(0.05)
        click_walls = np.array([transport.wall_at(t) for t in range(-4 * PPQ, final_stop + 4 * PPQ, PPQ)])
        session.stop()
        transport.close()
        source.close()
        exchanges = session.exchanges()
    finally:
        if player.poll() is None:
            player.stdin.close()
        player.wait(30)
        time.sleep(0.3)
        probe.send_signal(signal.SIGTERM)
        probe.wait(30)
        for waker in wakers:
            waker.send_signal(signal.SIGTERM)
            waker.wait(30)
        steal = cpu_steal()
        jack.terminate()
        jack.wait(20)
    received = [(t, pc, tuple(m)) for t, pc, m in json.load(open(probe_path))]
    os.unlink(probe_path)
    woke = []
    for path in waker_paths:
        with open(path) as fh:
            woke.append(json.load(fh))
        os.unlink(path)
    stalls = [(d, ms) for w in woke for d, ms in w["late"] if ms > 2.0]
    offset = jack_offset(received, click_walls)
    to_jack = lambda tick: wall0 + tick * spt + offset  # noqa: E731  (the grid in JACK time)

    answer_ons = [(t, m[1]) for t, _, m in received if m[0] == 0x91 and m[2] > 0]
    sent_ons = [(w, m[1]) for w, m in stamps.messages if m[0] == 0x91 and m[2] > 0]
    errors, first_late, missing = [], [], 0
    own, late_notes = [], []  # the engine's own send lateness (ms); (grid wall, error ms, own ms)
    for ex in exchanges:
        for k, n in enumerate(ex.answer):
            want = to_jack(n.start)
            near = [t for t, p in answer_ons if p == n.pitch and abs(t - want) < 0.1]
            if not near:
                missing += 1
                continue
            got = min(near, key=lambda t: abs(t - want))
            errors.append(got - want)
            grid_wall = wall0 + n.start * spt
            sent = [w for w, p in sent_ons if p == n.pitch and abs(w - grid_wall) < 0.1]
            mine = (min(sent, key=lambda w: abs(w - grid_wall)) - grid_wall) * 1000 if sent else float("nan")
            own.append(mine)
            if abs(got - want) * 1000 > 2.0:
                late_notes.append((grid_wall, abs(got - want) * 1000, mine))
            if k == 0:  # against the grid time it had before any late shift
                first_late.append(got - to_jack(n.start - ex.shift))
    errors = np.abs(np.array(errors)) * 1000
    answered = [e for e in exchanges if e.planned]
    ready = np.array([e.ready_s for e in answered]) * 1000
    on_time = sum(1 for e in answered if e.shift == 0 and e.ready_s > 0)
    # key: the player's own key (the script's), and what the session detected
    in_key = total = in_detected = 0
    sims, copies = [], 0
    for ex, c in zip(exchanges, calls):
        truth = Key(c["tonic"], "minor" if c["minor"] else "major")
        in_key += sum(in_scale(n.pitch, truth) for n in ex.planned)
        in_detected += sum(in_scale(n.pitch, ex.key) for n in ex.planned) if ex.key else 0
        total += len(ex.planned)
        if ex.planned:
            sim = similarity(ex.call, ex.call_start, ex.planned, ex.answer_start)
            sims.append(sim)
            copies += sim > 0.5
    # after each cut: answer notes still sounding 20 ms after the cutting key reached the probe
    stuck_after_cut, cuts = 0, 0
    thru_ons = [t for t, _, m in received if m[0] == 0x90 and m[2] > 0]
    for ex in exchanges:
        if not ex.interrupted:
            continue
        cuts += 1
        later = [t for t in thru_ons if t > to_jack(ex.answer_start)]
        if later:
            cut_t = later[0]
            stuck_after_cut += stuck([m for t, _, m in received if t <= cut_t + 0.02 and m[0] & 0x0F == 1])
    final_stuck = stuck([m for _, _, m in received])

    def row(name, target, value):
        print(f"  {name:<68} {target:>12}  {value}")

    print(f"\nload average after: {os.getloadavg()[0]:.2f}; machine: {os.cpu_count()} CPUs")
    print("exchanges:", [(e.call_start // (4 * PPQ), len(e.call), len(e.planned), e.shift) for e in exchanges])
    print(f"exchanges answered {len(answered)}, cut by the player {cuts}, answer notes matched "
          f"{len(errors)} (missing {missing})")
    row("answer notes' timing error vs grid, p50 / p99 / max (ms)", "p99 <= 2",
        f"{np.percentile(errors, 50):.2f} / {np.percentile(errors, 99):.2f} / {errors.max():.2f}")
    late = np.array(first_late) * 1000
    row("first answer note late vs its grid time, max (ms; a 16th is "
        f"{15000 / args.tempo:.0f} ms)", f"<= {15000 / args.tempo:.0f}", f"{late.max():.2f}")
    row("generation ready before the bar line (share of exchanges)", ">= 99%",
        f"{100 * on_time / len(answered):.1f}% ({on_time}/{len(answered)})")
    row("  ... margin before the bar line, min / p50 (ms)", "",
        f"{ready.min():.0f} / {np.percentile(ready, 50):.0f}")
    own_a = np.abs(np.array(own))
    row("  ... the engine's own send time vs grid, p50 / p99 / max (ms)", "",
        f"{np.nanpercentile(own_a, 50):.2f} / {np.nanpercentile(own_a, 99):.2f} / {np.nanmax(own_a):.2f}")
    sent_late = sum(1 for _, _, mine in late_notes if abs(mine) > 1.0)
    in_stall = sum(1 for g, err, _ in late_notes
                   if any(d - 0.002 <= g <= d + ms / 1000 + 0.002 for d, ms in stalls))
    row("  ... notes off by > 2 ms: all / sent > 1 ms late / in a stall a waker saw", "",
        f"{len(late_notes)} / {sent_late} / {in_stall}")
    per_cpu = []
    for c, w in zip(cpus, woke):
        n = sum(1 for _, ms in w["late"] if ms > 2.0)
        per_cpu.append(f"cpu{c} {n / max(w['wakes'] / 60000, 1e-9):.0f} "
                       f"(max {max((ms for _, ms in w['late']), default=0.0):.1f})")
    row("  ... bare wakers (1 kHz, one per CPU): wakes > 2 ms late a minute (max ms)", "",
        ", ".join(per_cpu))
    if steal0 is not None and steal is not None:
        row("  ... CPU time the host took from this VM during the run (steal)", "",
            f"{100 * (steal[0] - steal0[0]) / max(steal[1] - steal0[1], 1):.1f}%")
    row("answer notes in the player's key", ">= 95%", f"{100 * in_key / total:.1f}% ({in_key}/{total})")
    row("  ... in the key the session detected", "", f"{100 * in_detected / total:.1f}%")
    row("answer vs call similarity (shared onset+pitch), mean; copies (> 0.5)", "no copy",
        f"{np.mean(sims):.2f}; {copies}")
    row("answer notes sounding 20 ms after each cut (sum over cuts)", "0", stuck_after_cut)
    row("notes left sounding after the final stop (mid-answer), all channels", "0", final_stuck)


if __name__ == "__main__":
    main()
