"""Timing of MIDI playback through real JACK ports, measured by a separate polling process.

Starts a private JACK dummy server (``jackd -S --no-realtime -d dummy -r 48000 -p 64``), a
poller process with one JACK MIDI input, and plays a generated 60 s song into it:

  cyclictest the standard Linux scheduling-latency probe (rt-tests), when installed: a
             SCHED_FIFO 80 thread with locked memory waking every 1 ms for the song's length;
             its maximum is what this machine guarantees to the best-placed realtime thread
  machine    no MIDI at all: a bare realtime thread in its own process waking at every note
             time with the engine's wait strategy (what this machine's scheduling allows)
  reference  a plain sender in its own process: busy-waits each absolute deadline, sends
             with rtmidi (what the measurement setup itself allows)
  engine     musicapp's Transport in this process, nothing else running
  reference+ml  the reference while this process runs the generations (same CPU load)
  engine+ml  the engine while LSTM generations run back to back in another thread: the real
             generator (musicapp.ml.generate) with the shipped checkpoint, or an untrained one
             of the same size when none is shipped yet

Engine rows also give the send lateness inside the process (send time minus deadline, from
a second, recording output), which isolates the engine from the JACK chain.
Arrival times are JACK's cycle clock as reported by rtmidi in the poller (so poll latency
does not count). Timing error = arrival - file time, minus the median offset (a constant
latency is not jitter). Also prints the engine's CPU use while playing (whole process,
percent of one core). Usage: python benchmarks/bench_engine.py [--seconds 60] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import numpy as np

HERE = os.path.abspath(__file__)


# ----- the test song ------------------------------------------------------------------------
def make_song(seconds: float):
    """~seconds of 16ths melody plus chords every half bar at 120 BPM; seeded."""
    from musicapp.core.song import Note, Song, TempoChange, Track

    rng = random.Random(5)
    sixteenth = 120  # ticks at PPQ 480
    steps = int(seconds * 8)  # 8 sixteenths per second at 120 BPM
    melody, chords = [], []
    for s in range(steps):
        if rng.random() < 0.7:
            melody.append(Note(s * sixteenth, rng.randint(60, 84), sixteenth * rng.choice((1, 1, 2)) - 10,
                               rng.randint(60, 120)))
        if s % 8 == 0:
            root = rng.choice((48, 50, 53, 55, 57))
            chords += [Note(s * sixteenth, root + d, 8 * sixteenth - 20, 80) for d in (0, 4, 7)]
    return Song(tracks=(Track("melody", 0, 0, tuple(melody)), Track("chords", 1, 48, tuple(chords))),
                tempos=(TempoChange.from_bpm(0, 120),))


def expected_messages(song):
    from musicapp.engine.events import compile_song

    ev = compile_song(song)
    return [(s, m) for s, m in zip(ev.seconds, ev.messages) if m[0] & 0xF0 in (0x80, 0x90)]


# ----- poller process -----------------------------------------------------------------------
def run_poller(out_path: str, client: str = "bench-poller", wall: bool = False) -> None:
    """Poll a JACK input port ``client:in`` every 1 ms until SIGTERM, then write what came as
    JSON rows (JACK seconds, message), or (JACK seconds, ``perf_counter``, message) with
    ``wall``. Prints "ready" once the port exists."""
    import rtmidi

    midi = rtmidi.MidiIn(rtapi=rtmidi.API_UNIX_JACK, name=client, queue_size_limit=65536)
    midi.open_virtual_port("in")
    got: list = []
    t = 0.0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    print("ready", flush=True)

    def drain() -> bool:
        nonlocal t
        took = False
        while True:
            item = midi.get_message()
            if not item:
                return took
            msg, delta = item
            t += delta
            got.append((t, time.perf_counter(), msg) if wall else (t, msg))
            took = True

    while not stop.is_set():
        drain()
        time.sleep(0.001)
    # what reached the port while the signal was handled, or is still on its way through JACK
    # (a loaded machine delivers the last note-offs late): read until 50 ms pass without one
    quiet_since = time.perf_counter()
    while time.perf_counter() - quiet_since < 0.05:
        if drain():
            quiet_since = time.perf_counter()
        time.sleep(0.001)
    with open(out_path, "w") as fh:
        json.dump(got, fh)


class Poller:
    def __init__(self) -> None:
        fd, self.path = tempfile.mkstemp(suffix=".json")
        os.close(fd)
        self.proc = subprocess.Popen([sys.executable, HERE, "--poll", self.path], stdout=subprocess.PIPE,
                                     text=True)
        assert self.proc.stdout.readline().strip() == "ready"
        self.port = "bench-poller:in"

    def finish(self) -> list:
        time.sleep(0.2)
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(10)
        with open(self.path) as fh:
            data = json.load(fh)
        os.unlink(self.path)
        return [(t, tuple(m)) for t, m in data]


# ----- senders ------------------------------------------------------------------------------
def engine_footing(above: int = 0) -> None:
    """Put this thread on the engine thread's footing: SCHED_FIFO at its priority (``above``
    it by that many levels), where allowed."""
    from musicapp.engine.scheduler import SchedulerConfig

    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(SchedulerConfig().fifo_priority + above))
    except (AttributeError, OSError):
        pass


def run_reference(port: str, seconds: float) -> None:
    """Plain sender: absolute deadlines, pure busy-wait, rtmidi send. Own process, no load."""
    import rtmidi

    from musicapp.engine.ports import open_output_port

    engine_footing()
    out = open_output_port(port)
    events = expected_messages(make_song(seconds))
    t0 = time.perf_counter() + 0.2
    for sec, msg in events:
        deadline = t0 + sec
        while time.perf_counter() < deadline - 0.003:
            time.sleep(0.001)
        while time.perf_counter() < deadline:
            pass
        out.send(msg)
    time.sleep(0.1)
    out.close()
    _ = rtmidi


def lstm_load(stop: threading.Event, counter: list) -> tuple[str, threading.Thread]:
    """Start back-to-back generations in a thread; returns (what is generating, the thread)."""
    import torch

    try:
        from musicapp.ml.generate import MelodyGenerator, default_checkpoint

        checkpoint, what = default_checkpoint(), "shipped LSTM"
        if not checkpoint.is_file():
            checkpoint, what = untrained_checkpoint(), "real generator, untrained shipped-size LSTM"
        gen = MelodyGenerator(checkpoint)
        gen.load()
        from musicapp.core.song import Note

        seed = [Note(i * 240, 60 + (i * 5) % 12, 220) for i in range(16)]

        def work() -> None:
            k = 0
            while not stop.is_set():
                gen.continue_melody(seed, bars=4, variations=4, random_seed=k)
                counter[0] += 1
                k += 1

        th = threading.Thread(target=work, daemon=True)
        th.start()
        return f"{what} ({checkpoint.name}), 4 bars x 4 variations per call", th
    except Exception as err:  # the shipped model is optional here
        print(f"(real generator unavailable: {err}; using a stand-in LSTM)", file=sys.stderr)

    torch.manual_seed(0)
    emb, lstm, head = torch.nn.Embedding(130, 64), torch.nn.LSTM(64, 256, 2, batch_first=True), torch.nn.Linear(256, 130)

    def work() -> None:
        with torch.no_grad():
            while not stop.is_set():
                tok, state = torch.zeros(4, 1, dtype=torch.long), None
                for _ in range(64):  # one 4-bar phrase of 16ths, 4 variations, step by step
                    out, state = lstm(emb(tok), state)
                    probs = torch.softmax(head(out[:, -1]) / 0.9, dim=-1)
                    tok = torch.multinomial(probs, 1)
                counter[0] += 1

    th = threading.Thread(target=work, daemon=True)
    th.start()
    return "stand-in torch LSTM (2x256, 64 steps x 4 variations per call)", th


def engine_config(args):
    from dataclasses import replace

    from musicapp.engine.scheduler import SchedulerConfig

    cfg = SchedulerConfig(realtime_priority=not args.no_rt)
    if args.spin_ms is not None:
        cfg = replace(cfg, spin_s=args.spin_ms / 1000)
    if args.switch_ms is not None:
        cfg = replace(cfg, switch_interval_s=args.switch_ms / 1000)
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    return cfg


def untrained_checkpoint():
    """An untrained checkpoint of the shipped LSTM's size (same compute as the real one)."""
    from dataclasses import asdict
    from pathlib import Path

    import torch

    from musicapp.ml.checkpoint import CheckpointMeta, save_checkpoint
    from musicapp.ml.encoding import EncodingInfo
    from musicapp.ml.lstm import KIND, LSTMConfig, MelodyLSTM

    out = Path(tempfile.mkdtemp(prefix="bench_engine_"))
    torch.manual_seed(0)
    config = LSTMConfig()
    save_checkpoint(out / "lstm", MelodyLSTM(config).state_dict(),
                    CheckpointMeta(KIND, config.to_dict(), asdict(EncodingInfo())))
    return out / "lstm.json"


def run_waker(seconds: float) -> None:
    """The machine's own floor: wake at every note time, no MIDI, no Python threads besides this.

    Same footing as the engine thread (SCHED_FIFO where allowed, the same busy-wait tail); prints
    its lateness figures (ms) as JSON. Whatever this shows, no sender on this machine beats.
    """
    from musicapp.engine.scheduler import SchedulerConfig

    cfg = SchedulerConfig()
    engine_footing()
    wake = threading.Event()
    times = sorted({sec for sec, _ in expected_messages(make_song(seconds))})
    t0 = time.perf_counter() + 0.2
    late = []
    for sec in times:
        deadline = t0 + sec
        remaining = deadline - time.perf_counter()
        if remaining > cfg.spin_s:
            wake.wait(remaining - cfg.spin_s)
        while time.perf_counter() < deadline:
            pass
        late.append((time.perf_counter() - deadline) * 1000)
    a = np.array(late)
    print(json.dumps({"wakes": len(a), "p50_ms": float(np.percentile(a, 50)), "p99_ms": float(np.percentile(a, 99)),
                      "max_ms": float(a.max()), "over_2ms": int((a > 2).sum())}))


def run_cyclictest(seconds: float) -> dict | None:
    """Run ``cyclictest`` (rt-tests) for ``seconds``; its latency figures in ms, or None if absent."""
    import shutil

    if shutil.which("cyclictest") is None:
        return None
    out = subprocess.run(["cyclictest", "-m", "-p", "80", "-i", "1000", "-D", f"{int(seconds)}", "-q", "-t", "1",
                          "-h", "100000"], capture_output=True, text=True).stdout
    hist, peak = {}, None
    for line in out.splitlines():
        if line.startswith("# Max Latencies:"):
            peak = int(line.split(":")[1].split()[0])
        elif line and not line.startswith("#"):
            us, count = line.split()[:2]
            hist[int(us)] = int(count)
    if peak is None:
        return None
    total = sum(hist.values())
    over = sum(c for us, c in hist.items() if us >= 2000)
    return {"wakes": total, "max_ms": peak / 1000, "over_2ms": over,
            "p99_ms": _hist_quantile(hist, 0.99) / 1000}


def _hist_quantile(hist: dict, q: float) -> float:
    """The q-quantile (µs) of a histogram {µs: count}."""
    total, acc = sum(hist.values()), 0
    for us in sorted(hist):
        acc += hist[us]
        if acc >= q * total:
            return float(us)
    return float(max(hist))


def run_engine(port: str, seconds: float, load: bool, config=None) -> dict:
    from musicapp.engine.scheduler import SchedulerConfig
    from musicapp.engine.transport import RecordingOutput, Transport, open_output_port

    song = make_song(seconds)
    stop, counter, what, worker = threading.Event(), [0], "", None
    if load:
        what, worker = lstm_load(stop, counter)
        time.sleep(2.0)  # let the load reach steady state
    done = threading.Event()
    stamps = RecordingOutput("send times")
    tr = Transport(song=song, config=config or SchedulerConfig())
    tr.set_outputs([open_output_port(port), stamps])
    tr.add_listener(lambda e: e.kind == "ended" and done.set())
    engine_tid = tr._sched._thread.native_id
    cpu0, thread0, wall0 = time.process_time(), thread_cpu(engine_tid), time.perf_counter()
    tr.play(0)
    playhead = tr._sched.playhead
    done.wait(seconds + 30)
    wall = time.perf_counter() - wall0
    cpu, thread = time.process_time() - cpu0, thread_cpu(engine_tid) - thread0
    tr.close()
    stop.set()
    if worker is not None:
        worker.join()
    sent = [t for t, m in stamps.messages if m[0] & 0xF0 in (0x80, 0x90)]
    due = [playhead.anchor_wall + s - playhead.anchor_seconds for s, _ in expected_messages(song)]
    late = (np.array(sent) - np.array(due)) * 1000
    return {"cpu_percent": 100 * cpu / wall, "thread_percent": 100 * thread / wall,
            "late_p99_ms": float(np.percentile(late, 99)), "late_max_ms": float(late.max()),
            "generations": counter[0], "load": what}


def thread_cpu(tid: int) -> float:
    """CPU seconds (user + system) used so far by thread ``tid`` of this process."""
    with open(f"/proc/self/task/{tid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ----- analysis -----------------------------------------------------------------------------
def analyse(expected, received) -> dict:
    got = [(t, m) for t, m in received if m[0] & 0xF0 in (0x80, 0x90)]
    lost = len(expected) - len(got)
    if [m for _, m in got] != [m for _, m in expected]:
        got = _match(expected, got)
    else:
        got = list(zip([s for s, _ in expected], [t for t, _ in got]))
    err = np.array([t - s for s, t in got])
    err -= np.median(err)
    a = np.abs(err) * 1000
    return {"messages": len(expected), "lost": lost, "p50_ms": float(np.percentile(a, 50)),
            "p99_ms": float(np.percentile(a, 99)), "max_ms": float(a.max())}


def _match(expected, got):
    """Pair each received message with the first unused expected one with equal bytes."""
    pairs, used = [], set()
    for t, m in got:
        for i, (s, em) in enumerate(expected):
            if i not in used and em == m:
                used.add(i)
                pairs.append((s, t))
                break
    return pairs


# ----- main ---------------------------------------------------------------------------------
def start_jack(sync: bool, realtime: bool) -> subprocess.Popen:
    name = f"musicapp-bench-{uuid.uuid4().hex[:6]}"
    cmd = ["jackd", *(["-S"] if sync else []), "--realtime" if realtime else "--no-realtime", "-n", name, "-d", "dummy", "-r", "48000",
           "-p", "64"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.environ["JACK_DEFAULT_SERVER"] = name
    from musicapp.engine.errors import NoMidiBackendError
    from musicapp.engine.ports import _make

    for _ in range(150):
        try:
            _make("out", api=3, client="probe").delete()
            return proc
        except NoMidiBackendError:
            time.sleep(0.1)
    raise SystemExit("jackd did not start")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--only", action="append", help="cyclictest, machine, reference, engine, reference+ml, engine+ml")
    ap.add_argument("--async-jack", action="store_true", help="JACK without -S")
    ap.add_argument("--rt-jack", action="store_true", help="run jackd with --realtime (needs rights)")
    ap.add_argument("--no-rt", action="store_true", help="engine thread without SCHED_FIFO")
    ap.add_argument("--spin-ms", type=float, default=None, help="busy-wait tail before deadlines (ms)")
    ap.add_argument("--switch-ms", type=float, default=None, help="sys.setswitchinterval (ms)")
    ap.add_argument("--torch-threads", type=int, default=0, help="torch.set_num_threads for the load")
    ap.add_argument("--poll", help=argparse.SUPPRESS)
    ap.add_argument("--reference", help=argparse.SUPPRESS)
    ap.add_argument("--waker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.poll:
        return run_poller(args.poll)
    if args.reference:
        return run_reference(args.reference, args.seconds)
    if args.waker:
        return run_waker(args.seconds)
    jack = start_jack(not args.async_jack, args.rt_jack)
    expected = expected_messages(make_song(args.seconds))
    print(f"song: {args.seconds:.0f} s, {len(expected)} note messages; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; switch interval "
          f"{sys.getswitchinterval() * 1e3:.2f} ms before the engine starts")
    try:
        for name in args.only or ["cyclictest", "machine", "reference", "engine", "reference+ml", "engine+ml"]:
            if name == "cyclictest":
                c = run_cyclictest(args.seconds)
                if c is None:
                    print("cyclictest not installed (apt-get install rt-tests): row skipped", flush=True)
                else:
                    print(f"cyclictest wake lateness p99 {c['p99_ms']:.3f} ms, max {c['max_ms']:.3f} ms, "
                          f"{c['over_2ms']}/{c['wakes']} wakes over 2 ms (SCHED_FIFO 80, mlockall, 1 ms "
                          f"interval); load average {os.getloadavg()[0]:.1f}", flush=True)
                continue
            if name == "machine":
                out = subprocess.run([sys.executable, HERE, "--waker", "--seconds", str(args.seconds)], check=True,
                                     capture_output=True, text=True).stdout
                w = json.loads(out.strip().splitlines()[-1])
                print(f"machine    wake lateness p50 {w['p50_ms']:.3f} ms, p99 {w['p99_ms']:.3f} ms, max "
                      f"{w['max_ms']:.3f} ms, {w['over_2ms']}/{w['wakes']} wakes over 2 ms (a bare realtime "
                      f"thread in its own process, no MIDI); load average {os.getloadavg()[0]:.1f}", flush=True)
                continue
            poller = Poller()
            info: dict = {}
            if name.startswith("reference"):
                stop, worker = threading.Event(), None
                if name == "reference+ml":
                    _, worker = lstm_load(stop, [0])
                    time.sleep(2.0)
                subprocess.run([sys.executable, HERE, "--reference", poller.port, "--seconds",
                                str(args.seconds)], check=True)
                stop.set()
                if worker is not None:
                    worker.join()
            else:
                info = run_engine(poller.port, args.seconds, load=(name == "engine+ml"),
                                  config=engine_config(args))
            res = analyse(expected, poller.finish())
            extra = (f", cpu: engine thread {info['thread_percent']:.1f}%, whole process "
                     f"{info['cpu_percent']:.1f}% of a core" if info else "")
            if info:
                extra += (f"; engine send lateness p99 {info['late_p99_ms']:.3f} ms, "
                          f"max {info['late_max_ms']:.3f} ms")
            if info.get("load"):
                extra += f", {info['generations']} generations of {info['load']}"
            print(f"{name:10s} |error| p50 {res['p50_ms']:.3f} ms, p99 {res['p99_ms']:.3f} ms, "
                  f"max {res['max_ms']:.3f} ms, lost {res['lost']}/{res['messages']}{extra}; "
                  f"load average {os.getloadavg()[0]:.1f}", flush=True)
    finally:
        jack.terminate()
        try:
            jack.wait(20)
        except subprocess.TimeoutExpired:
            jack.kill()
            jack.wait(5)


if __name__ == "__main__":
    main()
