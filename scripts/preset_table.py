"""Prints the README's preset table (or FID table) from metrics.json files.

Every number in the tables is read from `presets/*/metrics.json` (bundled
presets) and `benchmarks/runs/*/metrics.json` (baselines trained by the same
recipes), each written by `hadamard-zoo train NAME`. `--fid` prints the
generators' table (FID, baseline, floor) instead. With `--check`, exits 1
if README.md does not contain both tables as printed.

Usage: .venv/bin/python scripts/preset_table.py [--fid] [--check]
"""

import json
import pathlib
import sys

REPO = pathlib.Path(__file__).resolve().parents[1]
BEGIN, END = "<!-- preset-table:begin -->", "<!-- preset-table:end -->"
FID_BEGIN, FID_END = "<!-- fid-table:begin -->", "<!-- fid-table:end -->"


def _runs():
    runs = {}
    for root in (REPO / "presets", REPO / "benchmarks" / "runs"):
        for path in sorted(root.glob("*/metrics.json")):
            metrics = json.loads(path.read_text())
            runs[metrics["preset"]] = metrics
    return runs


def _size(name):
    directory = REPO / "presets" / name
    if not directory.is_dir():
        return "-"
    size = sum(f.stat().st_size for f in directory.rglob("*") if f.is_file())
    return f"{size / 1024:.0f} KiB"


def _metric(metrics):
    """Accuracy as a percentage; ranking metrics by name, as fractions;
    FID with its floor."""
    if metrics["metric"] == "accuracy":
        return f"{metrics['value'] * 100:.2f}% accuracy"
    if metrics["metric"] == "fid":
        # Classifier-feature FID, lower is better; the floor is real
        # against real held-out images at the same sample size.
        text = f"FID {metrics['value']:.2f} (floor {metrics['floor']:.2f})"
        if "class_accuracy" in metrics:
            text += f", class accuracy {metrics['class_accuracy'] * 100:.1f}%"
        return text
    if metrics["metric"] == "perplexity":
        return (
            f"perplexity {metrics['value']:.2f} "
            f"(valid {metrics['valid_perplexity']:.2f})"
        )
    names = {"auc_pr": "AUC-PR", "mrr": "MRR"}
    text = f"{names[metrics['metric']]} {metrics['value']:.3f}"
    ranking = metrics.get("ranking", {})
    if metrics["metric"] != "mrr" and "mrr" in ranking:
        text += f", MRR {ranking['mrr']:.3f}"
    return text


def _baselines_of(runs, name):
    """The runs trained as baselines of preset `name`."""
    return [m for m in runs.values() if m.get("baseline_of") == name]


def table():
    runs = _runs()
    rows = [
        "| preset / baseline | dataset | params | metric (split) "
        "| training time | size |",
        "|---|---|---:|---:|---:|---:|",
    ]
    shipped = [m for m in runs.values() if not m.get("baseline_of")]
    for metrics in sorted(shipped, key=lambda m: m["preset"]):
        group = [metrics] + _baselines_of(runs, metrics["preset"])
        for m in group:
            label = f"`{m['preset']}`"
            if m.get("baseline_of"):
                label = f"↳ baseline `{m['preset']}`"
            minutes = m["train_seconds"] / 60
            rows.append(
                f"| {label} | {m['dataset']} | {m['parameters']:,} "
                f"| {_metric(m)} ({m.get('split', 'test')}) "
                f"| {minutes:.1f} min "
                f"| {_size(m['preset'])} |"
            )
    return "\n".join(rows)


def fid_table():
    """One row per bundled generator: its FID next to its baseline's."""
    runs = _runs()
    rows = [
        "| dataset | generator | FID | DCGAN baseline (same recipe) "
        "| floor (real vs real) | classifier accuracy on samples |",
        "|---|---|---:|---:|---:|---:|",
    ]
    generators = [
        m
        for m in runs.values()
        if m["metric"] == "fid" and not m.get("baseline_of")
    ]
    for m in sorted(generators, key=lambda m: (m["dataset"], m["preset"])):
        baselines = _baselines_of(runs, m["preset"])
        baseline = "-"
        if baselines:
            b = baselines[0]
            baseline = f"{b['value']:.2f} (`{b['preset']}`)"
        accuracy = "-"
        if "class_accuracy" in m:
            accuracy = (
                f"{m['class_accuracy'] * 100:.1f}% "
                f"(real: {m['real_class_accuracy'] * 100:.1f}%)"
            )
        rows.append(
            f"| {m['dataset']} | `{m['preset']}` | {m['value']:.2f} "
            f"| {baseline} | {m['floor']:.2f} | {accuracy} |"
        )
    return "\n".join(rows)


def _block(readme, begin, end):
    return readme.split(begin, 1)[-1].split(end, 1)[0].strip()


def main(argv):
    if "--check" in argv:
        readme = (REPO / "README.md").read_text()
        stale = 0
        for what, begin, end, text in (
            ("preset table", BEGIN, END, table()),
            ("FID table", FID_BEGIN, FID_END, fid_table()),
        ):
            if _block(readme, begin, end) != text:
                print(f"README.md's {what} is stale; paste this:\n{text}")
                stale = 1
        return stale
    print(fid_table() if "--fid" in argv else table())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
