"""The "instant everywhere" targets, each printed beside its baseline measured in the same run.

    python bench/bench_targets.py --base /path/to/baseline-checkout [--models /work/bench-models]
                                  [--photos 100000] [--queries 50] [--rounds 3]

Runs every measurement once per checkout (this one and ``--base``, a worktree of the commit to compare
with), interleaved round by round so both see the same machine load, each in a fresh Python process
that imports PhotoClip from that checkout:

- warm in-process query through ``Library.search`` (parse, text tower, vectors, words, filters, fusion)
  over ``--photos`` photos, p50/p95, beside the text tower's own time on equally new texts and the
  whole path without the tower (a query whose text vector is at hand), medians over the rounds;
- ``photoclip search`` as a command over ``--photos`` and over 200 photos: wall time and peak RSS, beside
  the floor (a bare Python importing ONNX Runtime, loading the same text tower and running it once);
- ``photoclip --version``;
- a new library indexing ``--index-photos`` photos, twice per checkout with one user cache: seconds
  until its first photo is searchable and until ``index`` is done (the second library finds the tag
  prompts' vectors the first one made, where the checkout shares them);
- the int8 text tower against the fp32 one: cosine, top-1 and top-10 agreement, speed.

The libraries are filled with CLIP-like vectors (bench_index.ClipLike) for a random-weight ViT-B/32 bundle
(``photoclip models export --arch vit-b-32 --random-init``) and get a saved graph first, as a library
the app has opened before has. Each checkout works on its own copy.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The environment as given: importing photoclip sets defaults (OPENBLAS_NUM_THREADS) a baseline lacks.
ORIGINAL_ENV = dict(os.environ)
MODEL = "vit-b-32-random"
QUERY = "a dog on the beach"


# -- the measurements, each run in a child process with ``--code`` first on sys.path ----------------

def _child_warm_query(library: Path, models: Path, queries: int, text_precision: str = "fp32") -> dict:
    import importlib

    import numpy as np

    # photoclip first, from this side's checkout: bench_query puts its own checkout on sys.path
    library_module = importlib.import_module("photoclip.library")
    bench_query = importlib.import_module("bench_query")
    SETTINGS, SUBJECTS = bench_query.SETTINGS, bench_query.SUBJECTS

    os.environ["PHOTOCLIP_MODELS"] = str(models)
    lib = library_module.Library.open(library)
    if text_precision != "fp32":
        lib.settings.text_precision = text_precision
    engine = lib.engine
    lib.search("warm up")
    lib.searcher.index.wait_ready(600)
    extra = ["with friends", "in the park", "on a boat", "under a tree", "by the window", "in spring"]
    phrases = [f"{s} {t} {e}" for s, t, e in itertools.product(SUBJECTS, SETTINGS, extra)]
    phrases = phrases[::max(1, len(phrases) // queries)][:queries]
    tower, total, rest = [], [], []
    for i, phrase in enumerate(phrases):
        t = time.perf_counter()
        engine.embed_texts([f"{phrase} number {i}"])  # as new to the tower as the query below
        tower.append(time.perf_counter() - t)
        t = time.perf_counter()
        lib.search(phrase, top=50)
        total.append(time.perf_counter() - t)
        # the same words again with their text vector at hand: everything but the tower
        t = time.perf_counter()
        lib.search(f"{phrase} number {i}", top=50)
        rest.append(time.perf_counter() - t)
    mode = lib.searcher.index.stats().mode
    lib.close()

    def pct(values: list[float], p: float) -> float:
        return round(float(np.percentile(np.asarray(values) * 1000.0, p)), 1)

    return {"mode": mode, "tower_p50": pct(tower, 50), "tower_p95": pct(tower, 95),
            "total_p50": pct(total, 50), "total_p95": pct(total, 95), "rest_p50": pct(rest, 50),
            "rest_p95": pct(rest, 95)}


def _child_floor(bundle: Path) -> dict:
    t = time.perf_counter()
    import numpy as np
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(bundle / "text.onnx"), sess_options=options,
                                   providers=["CPUExecutionProvider"])
    ids = np.zeros((1, 8), dtype=np.int64)
    ids[0, 0], ids[0, 7] = 49406, 49407
    feeds = {i.name: ids for i in session.get_inputs() if i.name == "input_ids"}
    feeds.update({i.name: np.ones_like(ids) for i in session.get_inputs() if i.name == "attention_mask"})
    session.run(None, feeds)
    return {"seconds": time.perf_counter() - t}


def _child_parity(library: Path, models: Path) -> dict:
    """The int8 text tower against the fp32 one: cosine of their vectors, and how often the top results
    over the library agree."""
    import numpy as np
    from bench_query import SETTINGS, SUBJECTS  # type: ignore[import-not-found]

    from photoclip.engine import ClipEngine
    from photoclip.index.vectorindex import VectorIndex
    from photoclip.store.catalog import Catalog

    bundle = models / MODEL
    fp32 = ClipEngine.load(bundle, device="cpu", warn_random=False)
    int8 = ClipEngine.load(bundle, device="cpu", warn_random=False, text_precision="int8")
    texts = [f"{s} {t}" for s, t in itertools.product(SUBJECTS, SETTINGS)]
    a, b = fp32.embed_texts(texts), int8.embed_texts(texts)
    cos = np.sum(a * b, axis=1)
    catalog = Catalog(library / "catalog.sqlite3")
    index = VectorIndex(catalog, MODEL, library, build_graph=False)
    index.sync()
    matrix = index._matrix
    assert matrix is not None
    data = np.asarray(matrix.data[: matrix.n])
    top1, overlap = [], []
    for qa, qb in zip(a, b, strict=True):
        ra, rb = np.argsort(-(data @ qa))[:10], np.argsort(-(data @ qb))[:10]
        top1.append(ra[0] == rb[0])
        overlap.append(len(set(ra.tolist()) & set(rb.tolist())) / 10)
    index.close()
    catalog.close()
    speed = {}
    for name, engine in (("fp32", fp32), ("int8", int8)):
        ts = []
        for i, text in enumerate(texts[:40]):
            t = time.perf_counter()
            engine.embed_texts([f"{text} again {i}"])
            ts.append(time.perf_counter() - t)
        speed[name] = round(float(np.median(ts)) * 1000, 1)
    return {"texts": len(texts), "cos_min": round(float(cos.min()), 5), "cos_mean": round(float(cos.mean()), 5),
            "top1_agree": round(float(np.mean(top1)), 3), "top10_overlap": round(float(np.mean(overlap)), 3),
            "tower_ms_p50": speed}


def _child_first_index(photos: Path, models: Path, library: Path) -> dict:
    """A new library indexing ``photos`` (no words, no places): seconds until its first photo is
    searchable, and until the command is done (embedding, then tags: the tag prompts are embedded then,
    unless another library on this computer already did)."""
    import threading

    from photoclip.library import Library

    os.environ["PHOTOCLIP_MODELS"] = str(models)
    start = time.perf_counter()
    lib = Library.open(library)
    lib.settings.ocr = lib.settings.places = False
    first = threading.Event()
    first_at: list[float] = []

    def on_event(event: object) -> None:
        if getattr(event, "kind", "") == "photos" and getattr(event, "ids", ()) and not first.is_set():
            first_at.append(time.perf_counter() - start)
            first.set()

    lib.subscribe(on_event)
    lib.add_folder(photos)
    run = lib.index(enrich=False)
    total = time.perf_counter() - start
    assert lib.search("a photo", top=1, show_all=True).hits
    lib.close()
    return {"first_searchable_s": round(first_at[0], 2) if first_at else None, "index_s": round(total, 2),
            "embedded": run.embed.embedded if run.embed else 0, "tagged": run.tagged}


def _child_prepare(work: str, models_src: str, count: int) -> dict:
    models, library = _prepare(Path(work), Path(models_src), count)
    return {"models": str(models), "library": str(library)}


def _prepared(code: Path, work: Path, models_src: Path, photos: int) -> tuple[Path, Path]:
    """The libraries are written by the oldest side's code: a newer side migrates its copy when it first opens
    it (in the unmeasured first search), while an older one refuses a newer catalog."""
    got = _run_child(code, "prepare", work=str(work), models_src=str(models_src), count=photos)
    return Path(got["models"]), Path(got["library"])


CHILDREN = {"warm_query": _child_warm_query, "floor": _child_floor, "parity": _child_parity,
            "first_index": _child_first_index, "prepare": _child_prepare}


def _run_child(code: Path, name: str, env_extra: dict[str, str] | None = None, **kwargs: object) -> dict:
    env = {**ORIGINAL_ENV, "PYTHONPATH": os.pathsep.join([str(code), str(code / "bench"), str(HERE)]),
           **(env_extra or {})}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", name, "--code", str(code),
                          "--kwargs", json.dumps(kwargs)], env=env, capture_output=True, text=True, check=False,
                         cwd=tempfile.gettempdir())
    if out.returncode != 0:
        raise RuntimeError(f"{name} failed under {code}:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _timed_command(code: Path, args: list[str], env_extra: dict[str, str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `python -m photoclip ...` process."""
    env = {**ORIGINAL_ENV, "PYTHONPATH": str(code), **env_extra}
    t = time.perf_counter()
    # from a neutral folder: `python -m` puts the working folder first on sys.path, ahead of PYTHONPATH
    proc = subprocess.Popen([sys.executable, "-m", "photoclip", *args], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"photoclip {' '.join(args)} failed under {code} ({proc.returncode})")
    return wall, usage.ru_maxrss / 1024.0  # KB on Linux


# -- preparing the libraries ---------------------------------------------------------------------------

def _prepare(work: Path, models_src: Path, photos: int) -> tuple[Path, Path]:
    """A models folder holding the bundle and a library of ``photos`` vectors with a saved graph."""
    # photoclip first, from this side's checkout: bench_query puts its own checkout on sys.path
    from photoclip.engine import ModelStore
    from photoclip.index.vectorindex import VectorIndex
    from photoclip.search.keywords import KeywordIndex
    from photoclip.store.catalog import Catalog

    sys.path.insert(0, str(HERE))
    from bench_query import fill  # type: ignore[import-not-found]

    models = work / "models"
    if not (models / MODEL).exists():
        models.mkdir(parents=True, exist_ok=True)
        (models / MODEL).symlink_to(models_src / MODEL)
        ModelStore(models).set_active(MODEL)
    library = work / f"library-{photos}"
    if not (library / "catalog.sqlite3").exists():
        library.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(library / "catalog.sqlite3")
        fill(catalog, MODEL, photos, 512)
        KeywordIndex(catalog).refresh()
        index = VectorIndex(catalog, MODEL, library, background=False)
        index.sync()  # builds and saves the graph when the library is big enough for one
        index.close()
        catalog.close()
    return models, library


def _photos(folder: Path, n: int) -> Path:
    """``n`` photo-like JPEGs of 1600 x 1200 (kept between runs)."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        path = folder / f"IMG_{i:04d}.jpg"
        if not path.exists():
            rng = np.random.default_rng(i)
            small = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
            Image.fromarray(small).resize((1600, 1200), Image.Resampling.BICUBIC).save(path, quality=90)
    return folder


def _copy(library: Path, target: Path) -> Path:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(library, target)
    return target


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--base", type=Path, help="a checkout of the baseline commit")
    p.add_argument("--models", type=Path, default=Path("/work/bench-models"))
    p.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "photoclip-bench-targets")
    p.add_argument("--photos", type=int, default=100_000)
    p.add_argument("--small", type=int, default=200)
    p.add_argument("--queries", type=int, default=50)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--index-photos", type=int, default=40, help="photos a new library indexes (0: skip)")
    p.add_argument("--child")
    p.add_argument("--code", type=Path)
    p.add_argument("--kwargs", default="{}")
    args = p.parse_args(argv)
    if args.child:
        kwargs = json.loads(args.kwargs)
        result = CHILDREN[args.child](**{k: Path(v) if k in ("library", "models", "bundle", "photos") else v
                                         for k, v in kwargs.items()})
        print(json.dumps(result))
        return 0
    return _compare(args)


def _compare(args: argparse.Namespace) -> int:
    import numpy as np

    head = HERE.parent
    sides = {"before": args.base, "after": head} if args.base else {"after": head}
    oldest = args.base or head
    work = args.work / f"made-by-{oldest.resolve().name}"
    models, big = _prepared(oldest, work, args.models, args.photos)
    _, small = _prepared(oldest, work, args.models, args.small)
    libs = {side: {n: _copy(src, args.work / f"{side}-{n}") for n, src in (("big", big), ("small", small))}
            for side in sides}
    env = {"PHOTOCLIP_MODELS": str(models)}
    got: dict[str, dict[str, list]] = {side: {} for side in sides}

    def add(side: str, key: str, value: object) -> None:
        got[side].setdefault(key, []).append(value)

    for code in sides.values():  # bytecode as pip compiles it when installing a wheel (on both sides alike)
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(code / "photoclip")], check=True,
                       env={**ORIGINAL_ENV, "PYTHONDONTWRITEBYTECODE": ""})
    for side, code in sides.items():  # a first search per side writes what later ones reuse (as a user's would)
        for lib in libs[side].values():
            _timed_command(code, ["--library", str(lib), "search", QUERY], env)
    for round_no in range(args.rounds):
        for side, code in (sides.items() if round_no % 2 == 0 else reversed(list(sides.items()))):
            add(side, "floor", _run_child(code, "floor", bundle=str(args.models / MODEL))["seconds"])
            add(side, "version", _timed_command(code, ["--version"], env))
            for n, lib in libs[side].items():
                add(side, f"search_{n}", _timed_command(code, ["--library", str(lib), "search", QUERY], env))
            # every round: the figures are medians over the rounds
            add(side, "warm", _run_child(code, "warm_query", library=str(libs[side]["big"]), models=str(models),
                                         queries=args.queries))
            if side == "after":
                add(side, "warm_int8", _run_child(code, "warm_query", library=str(libs[side]["big"]),
                                                  models=str(models), queries=args.queries,
                                                  text_precision="int8"))
    parity = _run_child(head, "parity", library=str(libs["after"]["big"]), models=str(models))
    if args.index_photos:  # first run of new libraries: two per side, one user cache per side
        photo_dir = _photos(args.work / "photos", args.index_photos)
        for side, code in sides.items():
            cache = args.work / f"cache-{side}"
            shutil.rmtree(cache, ignore_errors=True)
            for n in (1, 2):
                lib = args.work / f"new-{side}-{n}"
                shutil.rmtree(lib, ignore_errors=True)
                add(side, f"index_{n}", _run_child(code, "first_index", {"XDG_CACHE_HOME": str(cache)},
                                                   photos=str(photo_dir), models=str(models), library=str(lib)))
    load = os.getloadavg()

    def med(side: str, key: str, part: int | None = None) -> float:
        values = got[side][key]
        return float(np.median([v[part] if part is not None else v for v in values]))

    floor = float(np.median([v for side in sides for v in got[side]["floor"]]))  # the same code on both sides
    rows = []
    def warm_median(runs: list[dict]) -> dict:
        return {k: (float(np.median([r[k] for r in runs])) if k != "mode" else runs[-1][k]) for k in runs[0]}

    for side in sides:
        warm = warm_median(got[side]["warm"])
        rows.append({
            "side": side,
            "warm_query_ms_p50_p95": [warm["total_p50"], warm["total_p95"]],
            "text_tower_ms_p50_p95": [warm["tower_p50"], warm["tower_p95"]],
            "warm_query_target_p95_ms": round(warm["tower_p95"] + 5.0, 1),
            "warm_query_without_tower_ms_p50_p95": [warm["rest_p50"], warm["rest_p95"]],
            "index_mode": warm["mode"],
            f"search_cmd_{args.photos}_s_mb": [round(med(side, "search_big", 0), 2), round(med(side, "search_big", 1))],
            f"search_cmd_{args.small}_s_mb": [round(med(side, "search_small", 0), 2),
                                              round(med(side, "search_small", 1))],
            "floor_s": round(floor, 2),
            "search_cmd_targets_s": {f"{args.small}": round(1.3 * floor, 2), f"{args.photos}": round(floor + 0.3, 2),
                                     "peak_rss_mb": 800},
            "version_s": round(med(side, "version", 0), 2), "version_target_s": 0.2,
        })
        for n in (1, 2):
            if f"index_{n}" in got[side]:
                rows[-1][f"new_library_{n}_index"] = got[side][f"index_{n}"][0]
        if "warm_int8" in got[side]:
            w8 = warm_median(got[side]["warm_int8"])
            rows[-1]["int8_text_tower"] = {"warm_query_ms_p50_p95": [w8["total_p50"], w8["total_p95"]],
                                           "text_tower_ms_p50_p95": [w8["tower_p50"], w8["tower_p95"]],
                                           "target_p95_ms": round(w8["tower_p95"] + 5.0, 1)}
    print(json.dumps({"load_avg": [round(x, 2) for x in load], "photos": args.photos, "rounds": args.rounds,
                      "results": rows, "int8_text_tower_parity": parity}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
