#!/usr/bin/python3
"""Draws a training run's curves (moodtunes-train-expression's log.jsonl) as
an SVG image: training accuracy (on augmented images), PublicTest accuracy
of the weights and of their moving average (mirrored), and the learning
rate.  No plotting library needed.  Usage:
    bench/training-curve.py WORKDIR/log.jsonl OUTPUT.svg [--title TEXT]
"""
import argparse
import json
import sys

WIDTH, HEIGHT = 780, 440
LEFT, RIGHT, TOP, BOTTOM = 60, 200, 40, 70
SERIES = [
    ("train_accuracy", "training (augmented)", "#3584e4"),
    ("publictest_mirror", "PublicTest, mirrored", "#e01b24"),
    ("publictest_ema_mirror", "PublicTest, EMA, mirrored", "#2ec27e"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("log")
    parser.add_argument("output")
    parser.add_argument("--title", default="Expression network training")
    args = parser.parse_args()
    with open(args.log, encoding="utf-8") as f:
        entries = [json.loads(line) for line in f if line.strip()]
    if not entries:
        sys.exit(f"{args.log}: no epochs logged")

    n = entries[-1]["epoch"]
    low = 0.2
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    max_lr = max(e["lr"] for e in entries) or 1

    def x(epoch):
        return LEFT + plot_w * (epoch - 1) / max(1, n - 1)

    def y(value):
        return TOP + plot_h * (1 - (min(max(value, low), 1) - low) / (1 - low))

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
           f'font-family="sans-serif" font-size="12">',
           f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
           f'<text x="{LEFT}" y="22" font-size="14">{args.title}</text>']
    for tick in range(2, 11):
        v = tick / 10
        out.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y(v) + 4:.1f}" text-anchor="end">{int(v * 100)}%</text>')
    step = max(1, n // 10)
    for epoch in range(1, n + 1, step):
        out.append(f'<text x="{x(epoch):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{epoch}</text>')
    out.append(f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h + 34}" text-anchor="middle">epoch</text>')
    lr_points = " ".join(f"{x(e['epoch']):.1f},{TOP + plot_h * (1 - e['lr'] / max_lr):.1f}" for e in entries)
    out.append(f'<polyline points="{lr_points}" fill="none" stroke="#999" stroke-dasharray="4 3"/>')
    legend = SERIES + [("lr", f"learning rate (peak {max_lr:g})", "#999")]
    for i, (key, label, colour) in enumerate(legend):
        if key != "lr":
            points = " ".join(f"{x(e['epoch']):.1f},{y(e[key]):.1f}" for e in entries if key in e)
            out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        ly = TOP + 10 + 20 * i
        out.append(f'<line x1="{WIDTH - RIGHT + 10}" x2="{WIDTH - RIGHT + 30}" y1="{ly}" y2="{ly}" '
                   f'stroke="{colour}" stroke-width="2"/>')
        out.append(f'<text x="{WIDTH - RIGHT + 35}" y="{ly + 4}" font-size="10">{label}</text>')
    # Runs with --eval-every measure PublicTest only on some epochs.
    measured = [e for e in entries if "publictest_mirror" in e] or [{"epoch": 0, "publictest_mirror": 0}]
    best = max(measured, key=lambda e: e["publictest_mirror"])
    out.append(f'<text x="{LEFT}" y="{HEIGHT - 12}" font-size="10">last epoch {n}: PublicTest '
               f'{entries[-1].get("publictest_mirror", 0) * 100:.2f}% (EMA {entries[-1].get("publictest_ema_mirror", 0) * 100:.2f}%); '
               f'best {best["publictest_mirror"] * 100:.2f}% at epoch {best["epoch"]}; '
               f'{sum(e["seconds"] for e in entries) / 60:.0f} min of training</text>')
    out.append("</svg>")
    with open(args.output, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
