#!/usr/bin/python3
"""moodtunes-train-expression: trains Moodtunes' own expression network on
FER2013 Training and exports it to Darknet (.cfg + .weights + .names).

A tool of the project, never a dependency of the app: PyTorch on the CPU
(Debian's python3-torch, `bash build-aux/setup-deps.sh --train`).

The network is VGG-style: per stage two 3x3 convolutions with batch norm and
ReLU, then 2x2 max pooling (48 -> 24 -> 12 -> 6 -> 3), global average
pooling and one fully connected layer to the seven moods.  Every layer maps
onto a Darknet layer the app's validator and fast kernels know; batch norm
is folded into the convolutions on export.

Training is resumable: every epoch writes WORKDIR/checkpoint.pt (model,
optimizer, schedule, random states) and appends a line to WORKDIR/log.jsonl,
so a run stopped at any point continues where it was with the same result
as an unbroken run.  Choices are made on PublicTest only.

Usage:
  moodtunes-train-expression.py train  --data ../shared/data/fer2013 --workdir DIR
        [--epochs 60] [--widths 32,64,128,256] [--seed 1] [--threads 2] [--limit N]
        [--stop-after N]
  moodtunes-train-expression.py export --workdir DIR --output models/NAME [--ema]
        [--reference FILE --reference-count 64]
  moodtunes-train-expression.py evaluate --workdir DIR --data ... [--ema]
"""
import argparse
import datetime
import json
import math
import os
import random
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

# The app's mood order (src/common/mt-mood.h), which is also the .names order.
MOODS = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]
SIDE = 48
# Input normalization: (luma - MEAN) * SCALE, written into the manifest.
MEAN = 128.0
SCALE = 1.0 / 64.0


def log(*args):
    print(*args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- data

def load_split(data_dir, split, cache_dir, limit=0):
    """The split's images as uint8 [N, 48, 48] and labels [N], sorted by path
    so that every run sees the same order; cached as .npz in @cache_dir."""
    from PIL import Image

    folder = os.path.join(data_dir, split)
    if not os.path.isdir(folder):
        raise SystemExit(f"{folder} not found: --data must hold FER2013's train/ and publictest/")
    cache = os.path.join(cache_dir, f"{split}-{limit}.npz") if cache_dir else None
    if cache and os.path.exists(cache):
        with np.load(cache) as z:
            return z["images"], z["labels"]
    paths = []
    for label, mood in enumerate(MOODS):
        sub = os.path.join(folder, mood)
        names = sorted(os.listdir(sub))
        if limit:
            names = names[:limit]
        paths += [(os.path.join(sub, n), label) for n in names]
    images = np.zeros((len(paths), SIDE, SIDE), np.uint8)
    labels = np.zeros(len(paths), np.int64)
    for i, (path, label) in enumerate(paths):
        with Image.open(path) as im:
            im = im.convert("L")
            if im.size != (SIDE, SIDE):
                raise SystemExit(f"{path}: {im.size}, not {SIDE}x{SIDE}")
            images[i] = np.asarray(im)
        labels[i] = label
    if cache:
        np.savez(cache, images=images, labels=labels)
    return images, labels


def to_input(images):
    """uint8 [N, H, W] -> float [N, 1, H, W] normalized as the app feeds it."""
    x = torch.from_numpy(images).float().unsqueeze(1)
    return (x - MEAN) * SCALE


def augment(x, gen):
    """Random rotation, scale, shift and mirror in one resampling (edges
    clamped, as the app's crops are), contrast and brightness jitter and
    random erasing, on a normalized batch."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(15)
    scale = 1 + (torch.rand(n, generator=gen) * 2 - 1) * 0.15
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * 0.12
    flip = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = cos * flip
    theta[:, 0, 1] = -sin
    theta[:, 1, 0] = sin * flip
    theta[:, 1, 1] = cos
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    contrast = 1 + (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1) * 0.3
    bright = (torch.rand(n, 1, 1, 1, generator=gen) * 2 - 1) * 0.3
    x = x * contrast + bright
    # Random erasing: one rectangle of 2-20% of the face in half the images.
    for i in torch.nonzero(torch.rand(n, generator=gen) < 0.5).flatten().tolist():
        area = SIDE * SIDE * (0.02 + 0.18 * torch.rand(1, generator=gen).item())
        ratio = math.exp((torch.rand(1, generator=gen).item() * 2 - 1) * math.log(3))
        h = min(SIDE, int(round(math.sqrt(area * ratio))))
        w = min(SIDE, int(round(math.sqrt(area / ratio))))
        top = int(torch.randint(0, SIDE - h + 1, (1,), generator=gen))
        left = int(torch.randint(0, SIDE - w + 1, (1,), generator=gen))
        x[i, :, top:top + h, left:left + w] = torch.randn(1, h, w, generator=gen)
    return x


# ---------------------------------------------------------------- network

class ExpressionNet(nn.Module):
    def __init__(self, widths, dropout=0.3):
        super().__init__()
        layers, c = [], 1
        for w in widths:
            for _ in range(2):
                layers += [nn.Conv2d(c, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
                c = w
            layers.append(nn.MaxPool2d(2, 2))
        self.features = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(c, len(MOODS))
        self.widths = list(widths)

    def forward(self, x):
        x = self.features(x)
        x = x.mean(dim=(2, 3))
        return self.fc(self.dropout(x))


def check_widths(widths):
    if not 1 <= len(widths) <= 4 or any(w < 1 or w > 1024 for w in widths):
        raise SystemExit("--widths: one to four stage widths of 1-1024 (48 halves at each stage)")
    return widths


# ---------------------------------------------------------------- evaluation

@torch.no_grad()
def predict(model, images, mirror=True, batch=512):
    model.eval()
    out = []
    for i in range(0, len(images), batch):
        x = to_input(images[i:i + batch])
        p = F.softmax(model(x), dim=1)
        if mirror:
            p = 0.5 * (p + F.softmax(model(torch.flip(x, dims=[3])), dim=1))
        out.append(p)
    return torch.cat(out).numpy()


def accuracy(probabilities, labels):
    return float((probabilities.argmax(1) == labels).mean())


# ---------------------------------------------------------------- training

def set_seed(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def make_model_and_optimizer(config, steps_per_epoch):
    model = ExpressionNet(config["widths"], config["dropout"])
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim == 1 else decay).append(p)
    optimizer = torch.optim.SGD([{"params": decay, "weight_decay": config["weight_decay"]},
                                 {"params": no_decay, "weight_decay": 0.0}],
                                lr=config["lr"], momentum=0.9, nesterov=True)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config["lr"], epochs=config["epochs"], steps_per_epoch=steps_per_epoch,
        pct_start=0.15, div_factor=20, final_div_factor=200)
    return model, optimizer, schedule


def ema_update(ema, model, decay):
    with torch.no_grad():
        for e, m in zip(ema.state_dict().values(), model.state_dict().values()):
            if e.dtype.is_floating_point:
                e.mul_(decay).add_(m, alpha=1 - decay)
            else:
                e.copy_(m)


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def train(args):
    if args.eval_every < 1:
        raise SystemExit("--eval-every: a number of epochs, 1 or more")
    os.makedirs(args.workdir, exist_ok=True)
    torch.set_num_threads(args.threads)
    checkpoint_path = os.path.join(args.workdir, "checkpoint.pt")
    config = {
        "widths": check_widths([int(w) for w in args.widths.split(",")]),
        "epochs": args.epochs, "batch": args.batch, "lr": args.lr, "weight_decay": args.weight_decay,
        "dropout": args.dropout, "label_smoothing": args.label_smoothing, "ema_decay": args.ema_decay,
        "seed": args.seed, "limit": args.limit,
    }
    state = None
    if os.path.exists(checkpoint_path):
        state = read_checkpoint(checkpoint_path)
        if state["config"] != config:
            raise SystemExit(f"{checkpoint_path} was made with {state['config']}, not {config}: "
                             "use another --workdir or the same options")
    train_images, train_labels = load_split(args.data, "train", args.workdir, args.limit)
    test_images, test_labels = load_split(args.data, "publictest", args.workdir, args.limit)
    steps = len(train_images) // config["batch"]
    if steps == 0:
        raise SystemExit("fewer training images than one batch")

    set_seed(config["seed"])
    model, optimizer, schedule = make_model_and_optimizer(config, steps)
    ema = ExpressionNet(config["widths"], config["dropout"])
    ema.load_state_dict(model.state_dict())
    gen = torch.Generator().manual_seed(config["seed"])
    first_epoch = 0
    if state:
        model.load_state_dict(state["model"])
        ema.load_state_dict(state["ema"])
        optimizer.load_state_dict(state["optimizer"])
        schedule.load_state_dict(state["schedule"])
        gen.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        first_epoch = state["epoch"]
        log(f"resuming at epoch {first_epoch + 1} of {config['epochs']}")
    else:
        log(f"training {sum(p.numel() for p in model.parameters())} parameters, config {config}")

    criterion = nn.CrossEntropyLoss(label_smoothing=config["label_smoothing"])
    all_x = to_input(train_images)
    all_y = torch.from_numpy(train_labels)
    last_epoch = config["epochs"]
    if args.stop_after:
        last_epoch = min(last_epoch, first_epoch + args.stop_after)
    for epoch in range(first_epoch, last_epoch):
        start = time.time()
        model.train()
        order = torch.randperm(len(all_x), generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for s in range(steps):
            index = order[s * config["batch"]:(s + 1) * config["batch"]]
            x, y = augment(all_x[index], gen), all_y[index]
            logits = model(x)
            loss = criterion(logits, y)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            ema_update(ema, model, config["ema_decay"])
            loss_sum += loss.item() * len(y)
            correct += int((logits.argmax(1) == y).sum())
            total += len(y)
        seconds = time.time() - start
        entry = {
            "epoch": epoch + 1, "seconds": round(seconds, 1), "lr": schedule.get_last_lr()[0],
            "train_loss": round(loss_sum / total, 4), "train_accuracy": round(correct / total, 4),
        }
        # PublicTest costs a fifth of an epoch on two cores; --eval-every
        # thins the curve but the last epoch is always measured.
        if (epoch + 1) % args.eval_every == 0 or epoch + 1 == config["epochs"]:
            entry["publictest_mirror"] = round(accuracy(predict(model, test_images), test_labels), 4)
            entry["publictest_single"] = round(
                accuracy(predict(model, test_images, mirror=False), test_labels), 4)
            entry["publictest_ema_mirror"] = round(accuracy(predict(ema, test_images), test_labels), 4)
        entry["time"] = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        with open(os.path.join(args.workdir, "log.jsonl"), "a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
        log(json.dumps(entry))
        save_atomic({"config": config, "epoch": epoch + 1, "model": model.state_dict(),
                     "ema": ema.state_dict(), "optimizer": optimizer.state_dict(),
                     "schedule": schedule.state_dict(), "generator": gen.get_state(),
                     "torch_rng": torch.get_rng_state()}, checkpoint_path)


def read_checkpoint(path):
    """The checkpoint at @path, or a clear exit when it is missing or damaged."""
    try:
        state = torch.load(path)
        if not isinstance(state, dict) or not {"config", "epoch", "model", "ema"} <= state.keys():
            raise ValueError("not a checkpoint of this program")
        return state
    except FileNotFoundError:
        raise SystemExit(f"{path} not found: train first (train --workdir ...)")
    except Exception as e:
        raise SystemExit(f"{path} cannot be read ({e}): remove it to start again")


def load_trained(workdir, use_ema):
    state = read_checkpoint(os.path.join(workdir, "checkpoint.pt"))
    config = state["config"]
    model = ExpressionNet(config["widths"], config["dropout"])
    model.load_state_dict(state["ema" if use_ema else "model"])
    model.eval()
    return model, state


# ---------------------------------------------------------------- Darknet export

def fold_batch_norm(conv, bn):
    """The convolution's weights and biases with @bn folded in (eval mode)."""
    std = torch.sqrt(bn.running_var + bn.eps)
    gamma = bn.weight / std
    weight = conv.weight * gamma.reshape(-1, 1, 1, 1)
    bias = bn.bias - bn.running_mean * gamma
    return weight.detach(), bias.detach()


def export(model, output, provenance):
    """Writes @output.cfg, .weights and .names.  Darknet's weights file: a
    header (major 0, minor 2, revision 0, images seen as 64 bits), then per
    layer the biases followed by the weights, little-endian float32."""
    modules = list(model.features)
    cfg = [f"# {line}" for line in provenance] + [
        "[net]", "batch=1", f"width={SIDE}", f"height={SIDE}", "channels=1", ""]
    blobs = []
    i = 0
    while i < len(modules):
        m = modules[i]
        if isinstance(m, nn.Conv2d):
            weight, bias = fold_batch_norm(m, modules[i + 1])
            cfg += ["[convolutional]", f"filters={m.out_channels}", "size=3", "stride=1", "pad=1",
                    "activation=relu", ""]
            blobs += [bias, weight]
            i += 3
        elif isinstance(m, nn.MaxPool2d):
            cfg += ["[maxpool]", "size=2", "stride=2", ""]
            i += 1
        else:
            raise SystemExit(f"cannot export {m}")
    cfg += ["[avgpool]", "", "[connected]", f"output={len(MOODS)}", "activation=linear", "",
            "[softmax]", "groups=1", ""]
    blobs += [model.fc.bias.detach(), model.fc.weight.detach()]
    with open(output + ".cfg", "w", encoding="utf-8") as f:
        f.write("\n".join(cfg))
    with open(output + ".weights", "wb") as f:
        f.write(struct.pack("<iiiq", 0, 2, 0, 0))
        for blob in blobs:
            f.write(blob.contiguous().numpy().astype("<f4").tobytes())
    with open(output + ".names", "w", encoding="utf-8") as f:
        f.write("\n".join(MOODS) + "\n")


def export_command(args):
    model, state = load_trained(args.workdir, args.ema)
    config = state["config"]
    provenance = [
        f"Moodtunes expression network, trained by src/train/moodtunes-train-expression.py",
        f"on FER2013 Training: {state['epoch']} epochs, widths {','.join(map(str, config['widths']))}, "
        f"seed {config['seed']}, {'EMA' if args.ema else 'final'} weights.",
        f"Input: 48x48 luma, (value - {MEAN:g}) * {SCALE:g}.  Outputs: {' '.join(MOODS)}.",
    ]
    export(model, args.output, provenance)
    log(f"wrote {args.output}.cfg, .weights and .names")
    if args.reference:
        images, labels = load_split(args.data, "publictest", None, 0)
        # Evenly spread PublicTest images, every class included.
        pick = np.linspace(0, len(images) - 1, args.reference_count).round().astype(int)
        paths = publictest_paths(args.data)
        p = predict(model, images[pick], mirror=False)
        with open(args.reference, "w", encoding="utf-8") as f:
            json.dump({"network": os.path.basename(args.output), "mean": MEAN, "scale": SCALE,
                       "images": [{"path": paths[j], "probabilities": [round(float(v), 7) for v in p[k]]}
                                  for k, j in enumerate(pick)]}, f, indent=1)
            f.write("\n")
        log(f"wrote {args.reference}: PyTorch's probabilities on {len(pick)} PublicTest images")


def publictest_paths(data_dir):
    paths = []
    for mood in MOODS:
        paths += [f"publictest/{mood}/{n}" for n in sorted(os.listdir(os.path.join(data_dir, "publictest", mood)))]
    return paths


def evaluate_command(args):
    torch.set_num_threads(args.threads)
    model, state = load_trained(args.workdir, args.ema)
    images, labels = load_split(args.data, "publictest", args.workdir, 0)
    p = predict(model, images)
    single = predict(model, images, mirror=False)
    print(json.dumps({"epoch": state["epoch"], "publictest_mirror": accuracy(p, labels),
                      "publictest_single": accuracy(single, labels)}))
    if args.save_probabilities:
        np.save(args.save_probabilities, p)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train")
    t.add_argument("--data", required=True)
    t.add_argument("--workdir", required=True)
    t.add_argument("--epochs", type=int, default=60)
    t.add_argument("--widths", default="32,64,128,256")
    t.add_argument("--batch", type=int, default=128)
    t.add_argument("--lr", type=float, default=0.05)
    t.add_argument("--weight-decay", type=float, default=5e-4)
    t.add_argument("--dropout", type=float, default=0.3)
    t.add_argument("--label-smoothing", type=float, default=0.1)
    t.add_argument("--ema-decay", type=float, default=0.998)
    t.add_argument("--seed", type=int, default=1)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--limit", type=int, default=0, help="at most N images per class (tests)")
    t.add_argument("--eval-every", type=int, default=1,
                   help="measure PublicTest every N epochs (and after the last)")
    t.add_argument("--stop-after", type=int, default=0,
                   help="stop after N more epochs (resume later with the same command)")
    e = sub.add_parser("export")
    e.add_argument("--workdir", required=True)
    e.add_argument("--output", required=True, help="path without extension")
    e.add_argument("--ema", action="store_true")
    e.add_argument("--data")
    e.add_argument("--reference", help="write PyTorch's probabilities on PublicTest images here")
    e.add_argument("--reference-count", type=int, default=64)
    v = sub.add_parser("evaluate")
    v.add_argument("--workdir", required=True)
    v.add_argument("--data", required=True)
    v.add_argument("--ema", action="store_true")
    v.add_argument("--threads", type=int, default=2)
    v.add_argument("--save-probabilities")
    args = parser.parse_args()
    if args.command == "export" and args.reference and not args.data:
        parser.error("--reference needs --data")
    {"train": train, "export": export_command, "evaluate": evaluate_command}[args.command](args)


if __name__ == "__main__":
    main()
