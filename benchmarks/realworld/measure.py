"""Measure bnlint on the real-world corpus against the truth from real Keras.

Each entry runs ``bnlint summarize --format json`` exactly as a user would —
``FILE.py::target --arg NAME=EXPR ... --define NAME=VALUE ...`` (or the whole script; for an
entry with ``run_until``, the script's prefix that the truth ran, written beside it), from the
source's root directory, with ``--keras-version 2`` for tf-keras entries — using the bnlint
tree given by ``--bnlint-root`` (its directory goes first on ``PYTHONPATH``; default: this
worktree). Its JSON is compared with ``truth/<id>.json`` and the entry is classified:

- **exact**: totals, every layer (name, class, order, params, output shapes, weights) and
  every get_weights() entry (shape, order, trainable) equal Keras's;
- **partly**: the model is found, some layers are not exact (the fraction of exact layers is
  reported) and no number printed as exact is wrong;
- **lost**: no model is reported for the entry (for scripts: for a model variable of the truth);
- **WRONG**: a number printed as exact (a total, a layer's params, an output shape, a
  weight's shape) that Keras disagrees with;
- **error**: a traceback, a crash, a timeout or output that is not JSON.

It also checks that every model that is not exact carries a note naming a line, and times
the whole run. A table and the summary figures are printed and written to ``results.md``
(``--out``); ``--json FILE`` also writes the per-entry details.

    python benchmarks/realworld/measure.py                        # this worktree's bnlint
    python benchmarks/realworld/measure.py --bnlint-root /work/main --out /tmp/results.md
    python benchmarks/realworld/measure.py ID ...                 # some entries, details
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpus import (
    DEFAULT_MIRROR,
    HERE,
    ROOT,
    TRUTH,
    NotAvailable,
    cut_text,
    entry_files,
    load_manifest,
)

ORDER = ["error", "WRONG", "lost", "partly", "exact"]
LINE_REF = re.compile(r"\bline \d+|\.py:\d+|\.ipynb:")


def bnlint_command(entry: dict[str, Any], path: Path, root: Path) -> list[str]:
    rel = str(path.relative_to(root))
    target = entry.get("target")
    cmd = [sys.executable, "-m", "bnlint.entry", "summarize",
           f"{rel}::{target}" if target else rel, "--format", "json"]
    for k, v in entry.get("args", {}).items():
        cmd += ["--arg", f"{k}={v}"]
    for k, v in {**entry.get("defines", {}), **entry.get("bnlint_defines", {})}.items():
        cmd += ["--define", f"{k}={v}"]
    if entry.get("keras", 3) == 2:
        cmd += ["--keras-version", "2"]
    return cmd


def _exact_shape(shape: Any) -> bool:
    return isinstance(shape, list) and all(d is None or isinstance(d, int) for d in shape)


def _weights(ws: list[dict[str, Any]]) -> list[tuple[str, list, bool]]:
    return [(w["name"], w["shape"], bool(w["trainable"])) for w in ws]


def compare_model(got: dict[str, Any], want: dict[str, Any]) -> dict[str, Any]:
    """Compare one bnlint model with Keras's facts."""
    wrong: list[str] = []
    for key in ("total_params", "trainable_params", "non_trainable_params"):
        v = got.get(key)
        if isinstance(v, int) and v != want[key]:
            wrong.append(f"{key} {v} (Keras {want[key]})")
    by_name = {la["name"]: la for la in got["layers"]}
    exact_layers = 0
    inexact: list[str] = []
    for i, tl in enumerate(want["layers"]):
        # The same position and name; else the same name and class; else, when both lists
        # are as long, the same position and class (a layer named differently).
        at = got["layers"][i] if i < len(got["layers"]) else None
        gl = by_name.get(tl["name"])
        if at is not None and at["name"] == tl["name"]:
            gl = at
        elif gl is not None and gl["class_name"] != tl["class_name"]:
            gl = None
        if gl is None and at is not None and at["class_name"] == tl["class_name"] and \
                len(got["layers"]) == len(want["layers"]):
            gl = at
        if gl is None:
            inexact.append(f"{tl['name']}: missing")
            continue
        problems = []
        if gl.get("unknown"):
            problems.append(f"unknown ({gl['unknown'][:80]})")
        else:
            if isinstance(gl["params"], int) and gl["params"] != tl["params"]:
                wrong.append(f"layer {tl['name']} params {gl['params']} (Keras {tl['params']})")
            elif gl["params"] != tl["params"]:
                problems.append(f"params {gl['params']!r}")
            shapes = gl.get("output_shapes") or []
            if tl["output_shapes"] is not None and shapes != tl["output_shapes"]:
                # A layer shared with another graph: Keras's first node may be that graph's
                # (another batch size); a difference in the batch dimension alone is not a
                # wrong number of this model.
                batch_only = len(shapes) == len(tl["output_shapes"]) and all(
                    len(a) == len(b) and a[1:] == b[1:]
                    for a, b in zip(shapes, tl["output_shapes"], strict=True))
                if shapes and all(_exact_shape(s) for s in shapes) and not batch_only:
                    wrong.append(f"layer {tl['name']} output {shapes} (Keras {tl['output_shapes']})")
                else:
                    problems.append("output shape not known")
            gw, tw = _weights(gl["weights"]), _weights(tl["weights"])
            if gw != tw:
                if len(gw) == len(tw) and any(
                        _exact_shape(g[1]) and g[1] != t[1] for g, t in zip(gw, tw, strict=True)):
                    wrong.append(f"layer {tl['name']} weight shapes {[g[1] for g in gw]} "
                                 f"(Keras {[t[1] for t in tw]})")
                problems.append("weights differ")
        if gl["class_name"] != tl["class_name"]:
            problems.append(f"class {gl['class_name']} (Keras {tl['class_name']})")
        if gl["name"] != tl["name"]:
            problems.append(f"name {gl['name']} (Keras {tl['name']})")
        if problems:
            inexact.append(f"{tl['name']}: " + ", ".join(problems))
        else:
            exact_layers += 1
    names_ok = [la["name"] for la in got["layers"]] == [la["name"] for la in want["layers"]]
    totals_ok = all(got.get(k) == want[k] for k in
                    ("total_params", "trainable_params", "non_trainable_params"))
    all_w = [w for la in got["layers"] for w in la["weights"]] + list(got.get("weights") or [])
    if all(isinstance(w.get("index"), int) for w in all_w):
        all_w.sort(key=lambda w: w["index"])
        order_ok = _weights(all_w) == _weights(want["weights"])
    else:
        order_ok = False
    n = len(want["layers"])
    exact = (not wrong and totals_ok and names_ok and order_ok and exact_layers == n)
    return {"class": "WRONG" if wrong else "exact" if exact else "partly",
            "exact_layers": exact_layers, "layers": n, "wrong": wrong,
            "inexact": inexact[:5], "totals_ok": totals_ok, "names_ok": names_ok,
            "order_ok": order_ok}


def has_line_note(got: dict[str, Any], stderr: str) -> bool:
    texts = list(got.get("notes") or []) + [la.get("unknown") or "" for la in got["layers"]]
    texts.append(stderr)
    return any(LINE_REF.search(t) for t in texts)


def pick_model(models: list[dict[str, Any]], entry: dict[str, Any], key: str,
               want: dict[str, Any]) -> dict[str, Any] | None:
    if key == "<target>":
        leaf = entry["target"].split(".")[-1]
        for m in models:
            if m.get("variable") in (entry["target"], leaf):
                return m
        for m in models:
            if m.get("name") == want["name"]:
                return m
        return models[-1] if models else None
    # A name rebound in the program: the model Keras had under it at the cut (same name).
    # A name bound to another model (another Keras name) is not this model: lost.
    for m in models:
        if m.get("variable") == key and m.get("name") == want["name"]:
            return m
    return None


def measure_entry(manifest: dict[str, Any], entry: dict[str, Any], mirror: Path,
                  bnlint_root: Path, timeout: float) -> dict[str, Any]:
    res: dict[str, Any] = {"id": entry["id"], "source": entry["source"]}
    truth_file = TRUTH / f"{entry['id']}.json"
    if not truth_file.is_file():
        return {**res, "class": "no truth"}
    truth = json.loads(truth_file.read_text())
    try:
        path, roots = entry_files(manifest, entry, mirror)
    except NotAvailable as exc:
        return {**res, "class": "not available", "why": str(exc)}
    cut = None
    if entry.get("run_until"):
        # The truth is Keras's state after the script's prefix up to `run_until` (training
        # and what follows are not run): bnlint reads that same prefix, from a file beside
        # the script (so its imports resolve alike), removed afterwards.
        # (a notebook: its cells joined into one program, as bnlint and the truth read it)
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".ipynb":
            from bnlint.readers.notebook import join_cells, notebook_cells

            text, _ = join_cells(notebook_cells(json.loads(text)))
        # one file per entry: entries sharing a script may run at the same time
        safe_id = re.sub(r"\W", "_", entry["id"])
        cut = path.with_name(f"{path.stem}_bnlint_cut_{safe_id}.py")
        cut.write_text(cut_text(entry, text), encoding="utf-8")
        path = cut
    cmd = bnlint_command(entry, path, roots[0])
    # the entry's dependencies are on sys.path for the truth: on PYTHONPATH here, where
    # bnlint finds them as Python would (read from disk, never imported)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, [bnlint_root, *roots[1:]])),
               PYTHONWARNINGS="ignore")
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=roots[0], env=env,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**res, "class": "error", "why": f"timeout after {timeout:.0f} s",
                "seconds": time.perf_counter() - t0}
    finally:
        if cut is not None:
            cut.unlink(missing_ok=True)
    res["seconds"] = time.perf_counter() - t0
    res["command"] = " ".join(cmd[3:])
    if "Traceback (most recent call last)" in proc.stderr:
        tail = proc.stderr.strip().splitlines()[-1][:200]
        return {**res, "class": "error", "why": f"traceback: {tail}"}
    try:
        doc = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return {**res, "class": "error",
                "why": f"exit {proc.returncode}, no JSON: {proc.stderr.strip()[-200:]}"}
    models = doc.get("models", [])
    per = []
    for key, want in truth["models"].items():
        got = pick_model(models, entry, key, want)
        if got is None:
            per.append({"model": key, "class": "lost", "exact_layers": 0,
                        "layers": len(want["layers"]), "wrong": [],
                        "line_note": bool(LINE_REF.search(proc.stderr))})
            continue
        cmp = compare_model(got, want)
        cmp["model"] = key
        cmp["line_note"] = cmp["class"] == "exact" or has_line_note(got, proc.stderr)
        if cmp["class"] != "exact":
            cmp["notes"] = (list(got.get("notes") or [])
                            + [ln for ln in proc.stderr.splitlines() if "note" in ln])[:4]
        per.append(cmp)
    res["models"] = per
    res["class"] = min((m["class"] for m in per), key=ORDER.index)
    notes = [ln.split(": note: ", 1)[1] for ln in proc.stderr.splitlines() if ": note: " in ln]
    res["stderr_notes"] = notes[:8]
    if res["class"] == "lost":
        last = (proc.stderr.strip().splitlines() or ["(nothing printed)"])[-1]
        res["why"] = (f"{notes[0][:120]} … " if notes and notes[0] not in last else "") + last
    res["exact_layers"] = sum(m["exact_layers"] for m in per)
    res["layers"] = sum(m["layers"] for m in per)
    res["line_note"] = all(m["line_note"] for m in per)
    return res


def version_of(bnlint_root: Path) -> str:
    try:
        out = subprocess.run(["git", "-C", str(bnlint_root), "log", "-1", "--format=%h %cs"],
                             capture_output=True, text=True, timeout=10).stdout.strip()
    except OSError:
        out = ""
    return out or "?"


def render(results: list[dict[str, Any]], manifest: dict[str, Any], wall: float,
           bnlint_root: Path) -> str:
    counts = Counter(r["class"] for r in results)
    measured = [r for r in results if r["class"] in ORDER]
    n = len(measured)
    def origin(key: str) -> str:
        src = manifest["sources"][key]
        return src.get("github") or src["pypi"].split("==")[0]

    sources = {origin(r["source"]) for r in measured}
    all_sources = {origin(k) for k in manifest["sources"]}
    pct = (lambda k: f"{100 * counts[k] / n:.1f}%") if n else (lambda k: "-")
    partly = [r for r in measured if r["class"] == "partly"]
    frac = (sum(r["exact_layers"] for r in partly) / max(1, sum(r["layers"] for r in partly)))
    no_note = [r["id"] for r in measured if r["class"] in ("partly", "lost", "WRONG")
               and not r.get("line_note")]
    secs = sorted(r.get("seconds", 0.0) for r in measured)
    out = [
        "# Real-world corpus: bnlint against real Keras",
        "",
        f"Measured {time.strftime('%Y-%m-%d')} with `benchmarks/realworld/measure.py` on "
        f"bnlint at `{version_of(bnlint_root)}`; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}.",
        "",
        f"- entries measured: **{n}** from **{len(sources)}** sources "
        f"(manifest: {len(manifest['entries'])} entries, "
        f"{len(all_sources)} sources — PyPI packages and GitHub repositories; {len(manifest.get('dropped', []))} dropped "
        f"because they fail under Keras)",
        f"- not available here: {counts['not available']}; without truth: {counts['no truth']}",
        f"- **exact {counts['exact']} ({pct('exact')})**, partly known {counts['partly']} "
        f"({pct('partly')}; {100 * frac:.1f}% of their layers exact), lost {counts['lost']} "
        f"({pct('lost')}), **WRONG {counts['WRONG']}**, error {counts['error']}",
        f"- non-exact models without a note naming a line: {len(no_note)}"
        + (f" ({', '.join(no_note[:12])}{', ...' if len(no_note) > 12 else ''})"
           if no_note else ""),
        f"- time: whole run {wall:.1f} s wall; per entry median "
        f"{secs[len(secs) // 2] if secs else 0:.2f} s, max {secs[-1] if secs else 0:.2f} s, "
        f"sum {sum(secs):.1f} s",
        "",
        "| id | source | result | layers exact | s | first problem |",
        "|---|---|---|---:|---:|---|",
    ]
    for r in results:
        first = ""
        if r["class"] in ("error", "lost", "not available"):
            first = r.get("why", "")
        elif r["class"] != "exact":
            for m in r.get("models", []):
                if m.get("wrong"):
                    first = "WRONG: " + m["wrong"][0]
                    break
                if m.get("inexact"):
                    first = m["inexact"][0]
                    break
                if not m.get("totals_ok", True):
                    first = "totals not exact"
                    break
                if not m.get("order_ok", True):
                    first = "get_weights order/trainable differs"
                    break
        first = first.replace("|", "\\|").replace("\n", " ")[:160]
        layers = f"{r.get('exact_layers', 0)}/{r.get('layers', 0)}" if "layers" in r else ""
        out.append(f"| {r['id']} | {r['source']} | {r['class']} | {layers} | "
                   f"{r.get('seconds', 0):.2f} | {first} |")
    out.append("")
    causes = cause_table(measured)
    if causes:
        out += ["## The most common first notes of the entries that are not exact", "",
                "The first note bnlint printed for each such entry, with names, numbers and "
                "quoted code replaced by placeholders, grouped:", "",
                "| entries | note | examples |", "|---:|---|---|"]
        bar = "\\|"
        out += [f"| {len(ids)} | {pattern.replace('|', bar)} | {', '.join(ids[:4])} |"
                for pattern, ids in causes[:15]]
        out.append("")
    return "\n".join(out)


def cause_pattern(note: str) -> str:
    """A note with its specifics (quoted code, names, numbers, file names) replaced."""
    note = re.sub(r"`[^`]*`", "`…`", note)
    note = re.sub(r"'[^']*'", "'…'", note)
    note = re.sub(r"[\w./-]+\.(py|ipynb)", "FILE", note)
    note = re.sub(r"\d+", "N", note)
    return note.strip()[:140]


def cause_table(results: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    groups: dict[str, list[str]] = {}
    for r in results:
        if r["class"] in ("exact", "error"):
            continue
        notes = r.get("stderr_notes") or []
        if not notes:
            notes = [n for m in r.get("models", []) for n in m.get("notes", [])]
        key = cause_pattern(notes[0]) if notes else "(no note)"
        groups.setdefault(key, []).append(r["id"])
    return sorted(groups.items(), key=lambda kv: -len(kv[1]))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("ids", nargs="*")
    ap.add_argument("--bnlint-root", type=Path, default=ROOT)
    ap.add_argument("--mirror", type=Path, default=DEFAULT_MIRROR)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("-j", "--jobs", type=int, default=1)
    ap.add_argument("--out", type=Path, default=HERE / "results.md")
    ap.add_argument("--json", type=Path, default=None)
    ns = ap.parse_args(argv)
    manifest = load_manifest()
    entries = [e for e in manifest["entries"] if not ns.ids or e["id"] in ns.ids]
    bnlint_root = ns.bnlint_root.resolve()
    t0 = time.perf_counter()
    with ThreadPoolExecutor(ns.jobs) as pool:
        results = list(pool.map(lambda e: measure_entry(manifest, e, ns.mirror, bnlint_root,
                                                        ns.timeout), entries))
    wall = time.perf_counter() - t0
    text = render(results, manifest, wall, bnlint_root)
    print(text)
    if ns.ids:
        for r in results:
            print(json.dumps(r, indent=1))
    else:
        ns.out.write_text(text)
    if ns.json:
        ns.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
